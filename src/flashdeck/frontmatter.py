"""Read a card file's front matter: YAML between a first line `---` and the next `---` or `...`.

Obsidian, Jekyll and Hugo write the same block, so it is read as YAML (PyYAML,
YAML 1.1) and only three keys mean something to flashdeck:

- `deck`: one deck name, `Parent::Child`, each part trimmed, none empty;
- `tags`: a list of tags, or one string split at commas and spaces (the way
  Obsidian and Jekyll also accept it); a tag has no spaces, quotes or commas;
- `shuffle`: `true` or `false` (`yes`/`no` and `on`/`off` too, as YAML 1.1 and
  flashdeck always read them).

The YAML is only composed into nodes, never constructed into objects: no tag
can make anything run, and every value is read from the text its node holds.
That text is what the author wrote: YAML 1.1 resolves `no`, `on`, `010` or
`1.10` in a tag list to a boolean or a number, YAML 1.2 would not, and either
way the author meant the tag `no`. Other keys are ignored; keys that Obsidian,
Jekyll and Hugo define are ignored silently, any other is a warning (usually a
typo of one of ours).

Every problem comes back as a `Problem` in file coordinates (the front matter
starts at line 2); nothing here raises for what a file holds.
"""

from __future__ import annotations

import bisect
import difflib
import re
import unicodedata
from dataclasses import dataclass

from .errors import ERROR, WARNING

KEYS = ("deck", "tags", "shuffle")

FOREIGN_KEYS = frozenset(
    """
    aliases alias cssclasses cssclass publish permalink description image cover banner
    layout published date category categories title excerpt author authors
    audio build cascade draft expirydate unpublishdate headless images iscjklanguage keywords
    lastmod modified linktitle markup menu menus outputs params publishdate pubdate resources
    sitemap slug summary translationkey type url weight videos series toc comments
    created updated lang language subtitle
    """.split()
)
"""Keys Obsidian (properties), Jekyll and Hugo define, lower-cased: another tool's, not a typo of ours."""

MAX_DEPTH = 64
"""Deepest nesting of lists and mappings read; PyYAML composes recursively, so deeper input would
exhaust Python's stack. Real front matter nests two or three levels."""

MAX_CHARS = 32 * 1024
"""Longest front matter read. Pure-Python PyYAML reads 10,000-20,000 tokens a second, so this keeps a
hostile file to a second or two (a 32 KB flow list: 1.5-2.3 s on a loaded 2-core machine); real
front matter is a few hundred bytes."""

_BOOLEANS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}
_TAG_RE = re.compile(r"^[^\s\"',]+$")
_TAG_SPLIT_RE = re.compile(r"[^,\s]+")
_H2_RE = re.compile(r"^ {0,3}##(?:[ \t]|$)")
_HASHTAG_RE = re.compile(r"[ \t]+(#\S[^\n]*)")
# Characters YAML refuses (control characters, surrogates, U+FFFE/U+FFFF) or reads as a line
# break, wherever they stand in the front matter.
_RAW_BAD_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_CORE = "tag:yaml.org,2002:"
# What YAML 1.1's resolver gives a plain scalar; any other tag was written to make an object.
_SCALAR_TAGS = frozenset(_CORE + t for t in ("str", "null", "bool", "int", "float", "timestamp", "merge", "value"))
_COLLECTION_TAGS = frozenset((_CORE + "seq", _CORE + "map"))
_NULL = _CORE + "null"
_MERGE = _CORE + "merge"
_FIX = "fix the YAML or quote the value"


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found in the front matter, in file coordinates."""

    line: int
    """1-based line in the file (the front matter starts at line 2)."""
    column: int | None
    """1-based column, or None."""
    severity: str
    """`error` or `warning`."""
    message: str
    """What is wrong and how to fix it."""


@dataclass(frozen=True, slots=True)
class FrontMatter:
    """What a card file's front matter says."""

    deck: str | None = None
    """The deck named by `deck`, or None (the deck then comes from the file's path)."""
    tags: tuple[str, ...] = ()
    """The tags of `tags`, without repeats, in the order written."""
    shuffle: bool | None = None
    """`shuffle`, or None when not given."""
    body_start: int = 0
    """Index (0-based) of the first line after the front matter."""
    problems: tuple[Problem, ...] = ()


def read(lines: list[str]) -> FrontMatter:
    """The front matter of a file split into lines (BOM and CRLF already removed)."""
    if not lines or lines[0].strip() != "---":
        return FrontMatter()
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:
        # Its lines are not a card's either: the body starts at the first card heading.
        body = next((i for i in range(1, len(lines)) if _H2_RE.match(lines[i])), len(lines))
        message = "front matter opened with '---' is never closed: add a '---' line after its last 'key: value' line"
        return FrontMatter(body_start=body, problems=(Problem(1, 1, ERROR, message),))
    reader = _Reader(lines, end)
    reader.run()
    return FrontMatter(reader.deck, tuple(reader.tags), reader.shuffle, end + 1, tuple(reader.problems))


class _Reader:
    def __init__(self, lines: list[str], end: int):
        self.lines = lines
        self.text = "".join(line + "\n" for line in lines[1:end])
        self.starts = []  # index in `text` where each file line from line 2 on starts
        at = 0
        for line in lines[1:end]:
            self.starts.append(at)
            at += len(line) + 1
        self.starts.append(at)  # the closing '---': where "end of stream" points
        self.problems: list[Problem] = []
        self.deck: str | None = None
        self.tags: list[str] = []
        self.shuffle: bool | None = None

    # Coordinates and reporting

    def where(self, index: int) -> tuple[int, int]:
        k = max(bisect.bisect_right(self.starts, index) - 1, 0)
        return k + 2, index - self.starts[k] + 1

    def report(self, index: int, message: str, severity: str = ERROR) -> None:
        line, column = self.where(index)
        self.problems.append(Problem(line, column, severity, message))

    def at(self, node, message: str, severity: str = ERROR) -> None:
        self.report(node.start_mark.index, message, severity)

    # The steps

    def run(self) -> None:
        bad = list(_RAW_BAD_RE.finditer(self.text))
        for m in bad:
            self.report(m.start(), f"front matter contains {_describe(m.group())}: delete it")
        if bad:
            return
        if len(self.text) > MAX_CHARS:
            self.problems.append(
                Problem(1, 1, ERROR, f"front matter is {len(self.text):,} characters long, more than flashdeck reads ({MAX_CHARS:,}): move long text out of it")
            )
            return
        root = self.compose()
        if root is None:
            return
        if not _is_mapping(root):
            self.malformed(root.start_mark.index)
            return
        self.read_mapping(root)

    def compose(self):
        import yaml

        loader = None
        try:
            loader = _loader_class()(self.text)  # the reader checks every character here already
            return loader.get_single_node()
        except yaml.MarkedYAMLError as err:
            self.syntax_error(err, loader)
        except yaml.reader.ReaderError as err:  # _RAW_BAD_RE should have found the character
            self.report(err.position, f"front matter contains {_describe(chr(err.character))}: delete it")
        except yaml.YAMLError as err:
            self.problems.append(Problem(1, 1, ERROR, f"front matter is not valid YAML ({_show(str(err))}): {_FIX}"))
        except RecursionError:  # MAX_DEPTH should stop this first; a traceback would stop the whole run
            self.problems.append(Problem(1, 1, ERROR, f"front matter nests too deeply: {_FIX}"))
        finally:
            if loader is not None:
                loader.dispose()
        return None

    def malformed(self, index: int) -> None:
        line, _ = self.where(index)
        raw = self.lines[line - 1].strip()
        self.problems.append(
            Problem(line, 1, ERROR, f"malformed front matter line '{_show(_clip(raw))}': write 'key: value' (known keys: {', '.join(KEYS)})")
        )

    def syntax_error(self, err, loader) -> None:
        problem = err.problem or err.context or "not valid YAML"
        mark = err.problem_mark or err.context_mark
        index = mark.index if mark is not None else 0
        context, cmark = err.context, err.context_mark
        if problem == "could not find expected ':'" and cmark is not None:
            self.malformed(cmark.index)  # a line that is not 'key: value'
            return
        if problem == "mapping values are not allowed here" and loader.root_scalar is not None:
            self.malformed(loader.root_scalar.start_mark.index)  # 'deck Nephrology' above a 'key: value' line
            return
        readable = _readable(problem)
        if problem == "mapping values are not allowed here" and self.text[max(index - 1, 0) : index] == ":":
            readable = "YAML reads ': ' after '::' as a new key: write '::' with no space after it"
        if context and cmark is not None and context.startswith("while "):
            what = _CONTEXTS.get(context[len("while ") :])
            if what and index >= len(self.text) and cmark.index < index:
                readable = f"{what} that starts here is not closed before the end of the front matter"
                index = cmark.index
            elif what:
                line, column = self.where(cmark.index)
                readable += f", in {what} that starts at line {line}, column {column}"
        elif context and cmark is not None:
            line, column = self.where(cmark.index)
            if context.startswith("found duplicate anchor"):
                readable = f"{context.split(';')[0]}, first defined at line {line}, column {column}"
            elif context.startswith("expected a single document"):
                readable = "a line starting with '---' here begins a second YAML document"
            else:
                readable = f"{_readable(context)} (line {line}), {readable}"
        self.report(index, f"front matter is not valid YAML ({_show(readable)}): {_FIX}")

    def read_mapping(self, root) -> None:
        pairs, merged = self.flatten(root)
        seen: set[str] = set()
        for key_node, value, is_merged in pairs:
            if not _is_scalar(key_node):
                self.at(key_node, f"front matter key is {_kind(key_node)}, not a name: it is ignored; write 'key: value'", WARNING)
                continue
            key = key_node.value
            if key in seen:
                if not is_merged:
                    self.at(key_node, f"front matter key '{_show(_clip(key))}' appears twice: keep one")
                continue
            seen.add(key)
            if key not in KEYS:
                if key.lower() in FOREIGN_KEYS or id(value) in merged:
                    continue
                close = difflib.get_close_matches(key.lower(), KEYS, n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(KEYS)}"
                self.at(key_node, f"unknown front matter key '{_show(_clip(key))}' is ignored; {hint}", WARNING)
                continue
            if self.odd_tag(key, value):
                continue
            getattr(self, "read_" + key)(key_node, value)

    def flatten(self, root):
        """(key, value, merged) pairs of the top mapping with `<<` merges resolved, and the ids of merged mappings.

        Explicit keys come first, then each merged mapping in the order named, each followed by
        its own merges: the order in which YAML's merge rule lets a key win. A visited set keeps
        `&a {<<: *a}` from looping, and a stack keeps a long merge chain off Python's.
        """
        pairs, sources = [], set()
        stack, visited = [root], set()
        while stack:
            node = stack.pop()
            if id(node) in visited:
                continue
            visited.add(id(node))
            merges = []
            for key_node, value in node.value:
                if key_node.tag != _MERGE:
                    pairs.append((key_node, value, node is not root))
                    continue
                for source in value.value if _is_sequence(value) else [value]:
                    if _is_mapping(source):
                        merges.append(source)
                        sources.add(id(source))
                    else:
                        self.at(source, f"front matter '<<' merges a mapping (such as *defaults) into this one, not {_kind(source)}: {_FIX}")
            stack.extend(reversed(merges))
        return pairs, sources

    def odd_tag(self, key: str, value) -> bool:
        """Report a YAML tag only object construction could honour (`!!python/object…`, `!foo`, `!!binary`)."""
        for node in [value] + (list(value.value) if _is_sequence(value) else []):
            allowed = _SCALAR_TAGS if _is_scalar(node) else _COLLECTION_TAGS
            if node.tag not in allowed:
                tag = "!!" + node.tag[len(_CORE) :] if node.tag.startswith(_CORE) else node.tag
                self.at(node, f"front matter '{key}' has the YAML tag '{_show(_clip(tag))}', which flashdeck does not read: remove the tag")
                return True
        return False

    def read_deck(self, key_node, value) -> None:
        example = "a deck name such as 'Nephrology::Hypomagnesemia'"
        if not _is_scalar(value):
            self.at(value, f"front matter 'deck' must be {example}, not {_kind(value)}: quote a name that starts with '[' or '{{'")
            return
        if value.tag == _NULL:
            comment = "; '#' after a space starts a YAML comment, so quote a name that has one" if self.comment_after(key_node, value) else ""
            self.at(key_node, f"front matter 'deck' is empty (YAML null): write {example}, or remove the line to name the deck after the file{comment}")
            return
        deck = value.value.strip()
        bad = _bad_char(deck)
        if bad:
            self.at(value, f"deck name '{_show(_clip(deck))}' contains {_describe(bad)}: delete it")
            return
        if not deck:
            self.at(key_node, f"front matter 'deck' must be {example}")
            return
        parts = [p.strip() for p in deck.split("::")]
        if any(not p for p in parts):
            self.at(value, f"deck name '{_show(_clip(deck))}' has an empty part between '::': write 'Parent::Child'")
            return
        self.deck = "::".join(parts)
        hashtag = self.hashtag_after(value)
        if hashtag:
            self.report(hashtag[0], f"front matter 'deck' is read as '{_show(_clip(self.deck))}': '{_show(_clip(hashtag[1]))}' after a space starts a YAML comment; quote the whole name if it belongs to it", WARNING)

    def read_tags(self, key_node, value) -> None:
        if _is_mapping(value):
            self.at(value, f"front matter 'tags' must be a list of tags, not {_kind(value)}: write tags: [a, b]")
            return
        if _is_scalar(value):
            if value.tag == _NULL:
                if self.comment_after(key_node, value):
                    self.at(key_node, "front matter 'tags' is empty: '#' after a space starts a YAML comment, so the tags after it are not read: write tags: [a, b]", WARNING)
                return
            one_line = value.style is None and value.start_mark.line == value.end_mark.line
            for m in _TAG_SPLIT_RE.finditer(value.value):
                self.add_tag(m.group(), value.start_mark.index + (m.start() if one_line else 0))
            hashtag = self.hashtag_after(value)
            if hashtag:
                self.report(hashtag[0], f"front matter 'tags' end before '{_show(_clip(hashtag[1]))}': '#' after a space starts a YAML comment; write tags: [a, b], or quote a tag that starts with '#'", WARNING)
            return
        for item in value.value:
            if not _is_scalar(item):
                self.at(item, f"front matter 'tags' must list single tags, not {_kind(item)} inside the list: write tags: [a, b]")
            elif item.tag != _NULL:
                self.add_tag(item.value.strip(), item.start_mark.index)

    def add_tag(self, tag: str, index: int) -> None:
        bad = _bad_char(tag)
        if bad:
            self.report(index, f"tag '{_show(_clip(tag))}' contains {_describe(bad)}: delete it")
        elif not tag:
            return
        elif not _TAG_RE.match(tag):
            self.report(index, f"tag '{_show(_clip(tag))}' may not contain spaces, quotes or commas: use '_' or '::' instead of spaces")
        elif tag not in self.tags:
            self.tags.append(tag)

    def read_shuffle(self, key_node, value) -> None:
        if not _is_scalar(value):
            self.at(value, f"front matter 'shuffle' must be true or false, not {_kind(value)}")
            return
        if value.tag == _NULL:
            self.at(key_node, "front matter 'shuffle' must be true or false, not empty")
            return
        flag = _BOOLEANS.get(value.value.strip().lower())
        if flag is None:
            self.at(value, f"front matter 'shuffle' must be true or false, not '{_show(_clip(value.value))}'")
            return
        self.shuffle = flag

    def hashtag_after(self, value) -> tuple[int, str] | None:
        """(index, text) of a comment right after a plain value that reads like a hashtag (`deck: Week #3`).

        Before YAML, flashdeck kept such text in the name; a `# note` with a space is a comment
        on purpose and says nothing.
        """
        if value.style is not None:
            return None
        m = _HASHTAG_RE.match(self.text, value.end_mark.index)
        return (m.start(1), m.group(1).rstrip()) if m else None

    def comment_after(self, key_node, value) -> bool:
        """Whether an empty value is empty because its line goes on with a YAML comment (`tags: #renal`)."""
        if value.value:
            return False  # `~` or `null`, written on purpose
        line, column = self.where(key_node.end_mark.index)
        rest = self.lines[line - 1][column - 1 :]
        return bool(re.search(r"(?:^|[ \t])#", rest.lstrip(":")))


_CONTEXTS = {
    "parsing a flow sequence": "the '[' list",
    "parsing a flow mapping": "the '{' mapping",
    "parsing a flow node": "the value",
    "scanning a quoted scalar": "the quoted value",
    "scanning a double-quoted scalar": "the quoted value",
    "scanning a block scalar": "the '|' or '>' text",
    "parsing a block mapping": "the 'key: value' lines",
    "parsing a block collection": "the '- ' list",
    "parsing an indentless sequence": "the '- ' list",
    "scanning an alias": "the alias",
    "scanning an anchor": "the anchor",
    "scanning a tag": "the tag",
    "parsing a node": "the value",
    "parsing a block node": "the value",
    "scanning a directive": "the '%' directive",
}
"""PyYAML's "while …" contexts, in the author's words."""

_TOKENS = [
    ("found unexpected end of stream", "found the end of the front matter"),
    ("<stream end>", "the end of the front matter"),
    ("<block end>", "the end of an indented block"),
    ("<block mapping start>", "an indented 'key: value'"),
    ("<block sequence start>", "an indented '- ' list"),
    ("<document start>", "'---'"),
    ("<document end>", "'...'"),
    ("<scalar>", "a value"),
    ("<anchor>", "an anchor '&'"),
    ("<alias>", "an alias '*'"),
    ("<tag>", "a tag '!'"),
    ("<directive>", "a '%' directive"),
    ("found character '\\t' that cannot start any token", "found a tab, which YAML does not allow for indentation: indent with spaces"),
    ("mapping values are not allowed here", "mapping values are not allowed here: a ': ' inside a value starts a new key"),
]


def _readable(text: str) -> str:
    for library, ours in _TOKENS:
        text = text.replace(f"'{library}'", ours).replace(library, ours)
    return text


def _loader_class():
    """A PyYAML loader that composes nodes with YAML 1.1's safe resolver and constructs nothing."""
    global _LOADER
    if _LOADER is None:
        from yaml.composer import Composer, ComposerError
        from yaml.parser import Parser
        from yaml.reader import Reader
        from yaml.resolver import Resolver
        from yaml.scanner import Scanner

        class Loader(Reader, Scanner, Parser, Composer, Resolver):
            def __init__(self, stream):
                Reader.__init__(self, stream)
                Scanner.__init__(self)
                Parser.__init__(self)
                Composer.__init__(self)
                Resolver.__init__(self)
                self.depth = 0
                self.root_scalar = None

            def compose_node(self, parent, index):
                if self.depth >= MAX_DEPTH:
                    mark = self.peek_event().start_mark
                    raise ComposerError(None, None, f"lists and mappings nest more than {MAX_DEPTH} levels deep", mark)
                self.depth += 1
                try:
                    node = super().compose_node(parent, index)
                finally:
                    self.depth -= 1
                if parent is None and _is_scalar(node) and node.style is None:
                    self.root_scalar = node  # a plain line that is not 'key: value'
                return node

        _LOADER = Loader
    return _LOADER


_LOADER = None


def _is_scalar(node) -> bool:
    return type(node).__name__ == "ScalarNode"


def _is_sequence(node) -> bool:
    return type(node).__name__ == "SequenceNode"


def _is_mapping(node) -> bool:
    return type(node).__name__ == "MappingNode"


def _kind(node) -> str:
    if _is_mapping(node):
        return "a mapping ('key: value' pairs)"
    if _is_sequence(node):
        return "a list"
    return "a single value"


def _bad_char(text: str) -> str | None:
    """The first character of `text` no deck name or tag may hold.

    Control, bidi and line-separator characters are invisible or reorder what is around them,
    so two names that look alike would differ; a lone surrogate (from a `"\\ud800"` escape)
    cannot even be written to the package.
    """
    for ch in text:
        if ch in _BIDI or ch in "\ufffe\uffff" or unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp"):
            return ch
    return None


def _describe(ch: str) -> str:
    name = unicodedata.name(ch, "")
    code = f"U+{ord(ch):04X}" + (f" ({name})" if name else "")
    if ch in _BIDI:
        return f"{code}, an invisible character that changes the order text reads in"
    if unicodedata.category(ch) in ("Zl", "Zp") or ch in "\n\r\x85":
        return f"{code}, a line break"
    if unicodedata.category(ch) == "Cc":
        return f"{code}, an invisible control character"
    return f"{code}, which is not a character"


def _show(text: str) -> str:
    """`text` safe to print in a message: invisible and reordering characters as `\\u…` escapes."""
    if _bad_char(text) is None:
        return text
    return "".join(f"\\u{ord(ch):04x}" if _bad_char(ch) else ch for ch in text)


def _clip(s: str, width: int = 40) -> str:
    return s if len(s) <= width else s[: width - 1] + "…"
