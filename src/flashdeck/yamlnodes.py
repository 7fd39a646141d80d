"""YAML read safely, for the front matter: composed into nodes and never constructed into objects.

PyYAML's composer, with YAML 1.1's safe resolver and a depth limit, gives
nodes whose text is what the author wrote; no tag can make anything run and
deep nesting is a located error, never a RecursionError. Syntax errors come
back in an author's words at their line and column in the file
(`NodeReader.compose`), and `<<` merges are resolved as YAML says (`flatten`).
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from dataclasses import dataclass

from .errors import ERROR

MAX_DEPTH = 64
"""Deepest nesting of lists and mappings read; PyYAML composes recursively, so deeper input would
exhaust Python's stack. Real front matter nests two or three levels."""

# Characters YAML refuses (control characters, surrogates, U+FFFE/U+FFFF) or reads as a line
# break, wherever they stand in the front matter.
RAW_BAD_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
CORE = "tag:yaml.org,2002:"
# What YAML 1.1's resolver gives a plain scalar; any other tag was written to make an object.
SCALAR_TAGS = frozenset(CORE + t for t in ("str", "null", "bool", "int", "float", "timestamp", "merge", "value"))
COLLECTION_TAGS = frozenset((CORE + "seq", CORE + "map"))
NULL = CORE + "null"
_MERGE = CORE + "merge"
FIX = "fix the YAML or quote the value"


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


class NodeReader:
    """Reads the YAML between a file's first line and line `end` into nodes, reporting in file coordinates."""

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

    def malformed(self, index: int) -> None:
        """Report the line at `index` as not 'key: value' (the reader of the keys says how)."""
        raise NotImplementedError

    # Coordinates and reporting

    def where(self, index: int) -> tuple[int, int]:
        k = max(bisect.bisect_right(self.starts, index) - 1, 0)
        return k + 2, index - self.starts[k] + 1

    def report(self, index: int, message: str, severity: str = ERROR) -> None:
        line, column = self.where(index)
        self.problems.append(Problem(line, column, severity, message))

    def at(self, node, message: str, severity: str = ERROR) -> None:
        self.report(node.start_mark.index, message, severity)

    def compose(self):
        import yaml

        loader = None
        try:
            loader = _loader_class()(self.text)  # the reader checks every character here already
            return loader.get_single_node()
        except yaml.MarkedYAMLError as err:
            self.syntax_error(err, loader)
        except yaml.reader.ReaderError as err:  # RAW_BAD_RE should have found the character
            self.report(err.position, f"front matter contains {describe(chr(err.character))}: delete it")
        except yaml.YAMLError as err:
            self.problems.append(Problem(1, 1, ERROR, f"front matter is not valid YAML ({show(str(err))}): {FIX}"))
        except RecursionError:  # MAX_DEPTH should stop this first; a traceback would stop the whole run
            self.problems.append(Problem(1, 1, ERROR, f"front matter nests too deeply: {FIX}"))
        finally:
            if loader is not None:
                loader.dispose()
        return None

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
        self.report(index, f"front matter is not valid YAML ({show(readable)}): {FIX}")

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
                for source in value.value if is_sequence(value) else [value]:
                    if is_mapping(source):
                        merges.append(source)
                        sources.add(id(source))
                    else:
                        self.at(source, f"front matter '<<' merges a mapping (such as *defaults) into this one, not {kind(source)}: {FIX}")
            stack.extend(reversed(merges))
        return pairs, sources


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


@functools.cache
def _loader_class():
    """A PyYAML loader that composes nodes with YAML 1.1's safe resolver and constructs nothing.

    Made on first use: PyYAML is imported only when a file has front matter."""
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
            if parent is None and is_scalar(node) and node.style is None:
                self.root_scalar = node  # a plain line that is not 'key: value'
            return node

    return Loader


def is_scalar(node) -> bool:
    return type(node).__name__ == "ScalarNode"


def is_sequence(node) -> bool:
    return type(node).__name__ == "SequenceNode"


def is_mapping(node) -> bool:
    return type(node).__name__ == "MappingNode"


def kind(node) -> str:
    if is_mapping(node):
        return "a mapping ('key: value' pairs)"
    if is_sequence(node):
        return "a list"
    return "a single value"


def bad_char(text: str) -> str | None:
    """The first character of `text` no deck name or tag may hold.

    Control, bidi and line-separator characters are invisible or reorder what is around them,
    so two names that look alike would differ; a lone surrogate (from a `"\\ud800"` escape)
    cannot even be written to the package.
    """
    for ch in text:
        if ch in _BIDI or ch in "\ufffe\uffff" or unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp"):
            return ch
    return None


def describe(ch: str) -> str:
    name = unicodedata.name(ch, "")
    code = f"U+{ord(ch):04X}" + (f" ({name})" if name else "")
    if ch in _BIDI:
        return f"{code}, an invisible character that changes the order text reads in"
    if unicodedata.category(ch) in ("Zl", "Zp") or ch in "\n\r\x85":
        return f"{code}, a line break"
    if unicodedata.category(ch) == "Cc":
        return f"{code}, an invisible control character"
    return f"{code}, which is not a character"


def show(text: str) -> str:
    """`text` safe to print in a message: invisible and reordering characters as `\\u…` escapes."""
    if bad_char(text) is None:
        return text
    return "".join(f"\\u{ord(ch):04x}" if bad_char(ch) else ch for ch in text)


def clip(s: str, width: int = 40) -> str:
    return s if len(s) <= width else s[: width - 1] + "…"
