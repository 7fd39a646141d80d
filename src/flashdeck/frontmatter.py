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

import difflib
import hashlib
import re
from dataclasses import dataclass

from .cachekey import context
from .errors import ERROR, WARNING
from .yamlnodes import (
    COLLECTION_TAGS,
    CORE,
    NULL,
    RAW_BAD_RE,
    SCALAR_TAGS,
    NodeReader,
    Problem,
    bad_char,
    clip,
    describe,
    is_mapping,
    is_scalar,
    is_sequence,
    kind,
    show,
)

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

MAX_CHARS = 32 * 1024
"""Longest front matter read. Pure-Python PyYAML reads 10,000-20,000 tokens a second, so this keeps a
hostile file to a second or two (a 32 KB flow list: 1.5-2.3 s on a loaded 2-core machine); real
front matter is a few hundred bytes."""

_BOOLEANS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}
_TAG_RE = re.compile(r"^[^\s\"',]+$")
_TAG_SPLIT_RE = re.compile(r"[^,\s]+")
_H2_RE = re.compile(r"^ {0,3}##(?:[ \t]|$)")
_HASHTAG_RE = re.compile(r"[ \t]+(#\S[^\n]*)")


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


def read(lines: list[str], cache=None) -> FrontMatter:
    """The front matter of a file split into lines (BOM and CRLF already removed).

    `cache` (a store.Store, or None) remembers what the same lines gave before: pure-Python
    YAML is 0.2 ms a file, a twelfth of a one-card rebuild of 200 files.
    """
    if cache is None:
        return _read(lines)
    key = "M" + hashlib.sha256(context() + "\n".join(lines).encode("utf-8", "surrogatepass")).hexdigest()
    known = _unrecord(cache.get(key))
    if known is not None:
        return known
    front = _read(lines)
    problems = tuple((p.line, p.column, p.severity, p.message) for p in front.problems)
    cache.put_value(key, (front.deck, front.tags, front.shuffle, front.body_start, problems))
    return front


def _unrecord(value) -> FrontMatter | None:
    """What `read` kept in the cache, back as a FrontMatter (None when it is not one)."""
    try:
        deck, tags, shuffle, body_start, problems = value
        front = FrontMatter(deck, tuple(tags), shuffle, body_start, tuple(Problem(*p) for p in problems))
    except (TypeError, ValueError):
        return None
    ok = isinstance(front.deck, (str, type(None))) and isinstance(front.shuffle, (bool, type(None))) and isinstance(front.body_start, int)
    return front if ok and all(isinstance(t, str) for t in front.tags) else None


def _read(lines: list[str]) -> FrontMatter:
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


class _Reader(NodeReader):
    def __init__(self, lines: list[str], end: int):
        super().__init__(lines, end)
        self.deck: str | None = None
        self.tags: list[str] = []
        self.shuffle: bool | None = None

    # The steps

    def run(self) -> None:
        bad = list(RAW_BAD_RE.finditer(self.text))
        for m in bad:
            self.report(m.start(), f"front matter contains {describe(m.group())}: delete it")
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
        if not is_mapping(root):
            self.malformed(root.start_mark.index)
            return
        self.read_mapping(root)

    def malformed(self, index: int) -> None:
        line, _ = self.where(index)
        raw = self.lines[line - 1].strip()
        self.problems.append(
            Problem(line, 1, ERROR, f"malformed front matter line '{show(clip(raw))}': write 'key: value' (known keys: {', '.join(KEYS)})")
        )

    def read_mapping(self, root) -> None:
        pairs, merged = self.flatten(root)
        seen: set[str] = set()
        for key_node, value, is_merged in pairs:
            if not is_scalar(key_node):
                self.at(key_node, f"front matter key is {kind(key_node)}, not a name: it is ignored; write 'key: value'", WARNING)
                continue
            key = key_node.value
            if key in seen:
                if not is_merged:
                    self.at(key_node, f"front matter key '{show(clip(key))}' appears twice: keep one")
                continue
            seen.add(key)
            if key not in KEYS:
                if key.lower() in FOREIGN_KEYS or id(value) in merged:
                    continue
                close = difflib.get_close_matches(key.lower(), KEYS, n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(KEYS)}"
                self.at(key_node, f"unknown front matter key '{show(clip(key))}' is ignored; {hint}", WARNING)
                continue
            if self.odd_tag(key, value):
                continue
            getattr(self, "read_" + key)(key_node, value)

    def odd_tag(self, key: str, value) -> bool:
        """Report a YAML tag only object construction could honour (`!!python/object…`, `!foo`, `!!binary`)."""
        for node in [value] + (list(value.value) if is_sequence(value) else []):
            allowed = SCALAR_TAGS if is_scalar(node) else COLLECTION_TAGS
            if node.tag not in allowed:
                tag = "!!" + node.tag[len(CORE) :] if node.tag.startswith(CORE) else node.tag
                self.at(node, f"front matter '{key}' has the YAML tag '{show(clip(tag))}', which flashdeck does not read: remove the tag")
                return True
        return False

    def read_deck(self, key_node, value) -> None:
        example = "a deck name such as 'Nephrology::Hypomagnesemia'"
        if not is_scalar(value):
            self.at(value, f"front matter 'deck' must be {example}, not {kind(value)}: quote a name that starts with '[' or '{{'")
            return
        if value.tag == NULL:
            comment = "; '#' after a space starts a YAML comment, so quote a name that has one" if self.comment_after(key_node, value) else ""
            self.at(key_node, f"front matter 'deck' is empty (YAML null): write {example}, or remove the line to name the deck after the file{comment}")
            return
        deck = value.value.strip()
        bad = bad_char(deck)
        if bad:
            self.at(value, f"deck name '{show(clip(deck))}' contains {describe(bad)}: delete it")
            return
        if not deck:
            self.at(key_node, f"front matter 'deck' must be {example}")
            return
        parts = [p.strip() for p in deck.split("::")]
        if any(not p for p in parts):
            self.at(value, f"deck name '{show(clip(deck))}' has an empty part between '::': write 'Parent::Child'")
            return
        self.deck = "::".join(parts)
        hashtag = self.hashtag_after(value)
        if hashtag:
            self.report(hashtag[0], f"front matter 'deck' is read as '{show(clip(self.deck))}': '{show(clip(hashtag[1]))}' after a space starts a YAML comment; quote the whole name if it belongs to it", WARNING)

    def read_tags(self, key_node, value) -> None:
        if is_mapping(value):
            self.at(value, f"front matter 'tags' must be a list of tags, not {kind(value)}: write tags: [a, b]")
            return
        if is_scalar(value):
            if value.tag == NULL:
                if self.comment_after(key_node, value):
                    self.at(key_node, "front matter 'tags' is empty: '#' after a space starts a YAML comment, so the tags after it are not read: write tags: [a, b]", WARNING)
                return
            one_line = value.style is None and value.start_mark.line == value.end_mark.line
            for m in _TAG_SPLIT_RE.finditer(value.value):
                self.add_tag(m.group(), value.start_mark.index + (m.start() if one_line else 0))
            hashtag = self.hashtag_after(value)
            if hashtag:
                self.report(hashtag[0], f"front matter 'tags' end before '{show(clip(hashtag[1]))}': '#' after a space starts a YAML comment; write tags: [a, b], or quote a tag that starts with '#'", WARNING)
            return
        for item in value.value:
            if not is_scalar(item):
                self.at(item, f"front matter 'tags' must list single tags, not {kind(item)} inside the list: write tags: [a, b]")
            elif item.tag != NULL:
                self.add_tag(item.value.strip(), item.start_mark.index)

    def add_tag(self, tag: str, index: int) -> None:
        bad = bad_char(tag)
        if bad:
            self.report(index, f"tag '{show(clip(tag))}' contains {describe(bad)}: delete it")
        elif not tag:
            return
        elif not _TAG_RE.match(tag):
            self.report(index, f"tag '{show(clip(tag))}' may not contain spaces, quotes or commas: use '_' or '::' instead of spaces")
        elif tag not in self.tags:
            self.tags.append(tag)

    def read_shuffle(self, key_node, value) -> None:
        if not is_scalar(value):
            self.at(value, f"front matter 'shuffle' must be true or false, not {kind(value)}")
            return
        if value.tag == NULL:
            self.at(key_node, "front matter 'shuffle' must be true or false, not empty")
            return
        flag = _BOOLEANS.get(value.value.strip().lower())
        if flag is None:
            self.at(value, f"front matter 'shuffle' must be true or false, not '{show(clip(value.value))}'")
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


