"""Cloze deletions: `{{c1::text}}` and `{{c1::text::hint}}`, found in Markdown and kept whole through it.

Anki ends a deletion at the first `}}` and takes the first `::` after the
text as the start of the hint. Authors write TeX inside deletions
(`{{c1::$\\frac{a}{b}$}}`), so here a deletion ends at the first `}}` outside
braces the text opened, and what reaches Anki gets a space between closing
braces (`} }`), as Anki's manual advises, so Anki ends it at the same place.

`render` hides the deletions from Python-Markdown behind private-use
characters (which no Markdown rule touches and nh3 keeps) and puts Anki's
syntax back afterwards, so Markdown inside and around deletions renders and
math may hold deletions or sit inside them.
"""

from __future__ import annotations

import bisect
import re

from .model import Deletion

_OPEN_RE = re.compile(r"\{\{c(\d+)::")
_LOOKALIKE_RE = re.compile(r"\{\{\s*[cC]\s*\d+\s*:(?!:)|\{\{[cC]\d+::")
_TICKS_RE = re.compile(r"`+")

UNCLOSED = "unclosed"
EMPTY = "empty"
ZERO = "zero"
IN_CODE = "in-code"
LOOKALIKE = "lookalike"
NESTED = "nested"

# Private-use characters: never in authors' text (Markdown leaves them alone).
_P_OPEN, _P_NUM_END, _P_HINT, _P_CLOSE = "\ue000", "\ue001", "\ue002", "\ue003"
_PROTECTED_RE = re.compile(f"{_P_OPEN}(\\d+){_P_NUM_END}(.*?)(?:{_P_HINT}(.*?))?{_P_CLOSE}", re.DOTALL)


def find(text: str, first_line: int, code_lines: frozenset[int] = frozenset()) -> tuple[list[Deletion], list[tuple[int, int, str, str]]]:
    """The deletions in `text` (whose first line is `first_line`), and problems as (line, column, name, text).

    `code_lines` are the lines of `text` inside fenced code: a deletion there,
    or in a code span, is a problem (Anki would still hide it, inside the code).
    """
    deletions: list[Deletion] = []
    problems: list[tuple[int, int, str, str]] = []
    if "{{" not in text:
        return deletions, problems
    spans = _code_spans(text)
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    pos = 0
    while True:
        m = _OPEN_RE.search(text, pos)
        if m is None:
            break
        line, col = _where(line_starts, m.start(), first_line)
        number = int(m.group(1))
        end, hint_at = _close(text, m.end())
        shown = _shown(text, m.start(), end)
        if (line - first_line) in code_lines or _inside(spans, m.start()):
            problems.append((line, col, IN_CODE, shown))
            pos = m.end()
            continue
        if end < 0:
            problems.append((line, col, UNCLOSED, shown))
            pos = m.end()
            continue
        body = text[m.end() : hint_at if hint_at >= 0 else end]
        hint = text[hint_at + 2 : end] if hint_at >= 0 else None
        inner = _OPEN_RE.search(text, m.end(), end)
        if inner is not None:  # (its braces would be split for Anki and its number get no card)
            problems.append((*_where(line_starts, inner.start(), first_line), NESTED, shown))
            pos = end + 2
            continue
        if number == 0:
            problems.append((line, col, ZERO, shown))
        elif not body.strip():
            problems.append((line, col, EMPTY, shown))
        else:
            deletions.append(Deletion(number, body, hint, line, col))
        pos = end + 2
    for m in _LOOKALIKE_RE.finditer(text):
        if not _OPEN_RE.match(text, m.start()) and not _inside(spans, m.start()):
            line, col = _where(line_starts, m.start(), first_line)
            close = text.find("}}", m.start())
            problems.append((line, col, LOOKALIKE, _shown(text, m.start(), close if close >= 0 else -1)))
    return deletions, problems


def _shown(text: str, start: int, end: int) -> str:
    """The deletion as written, for a message: to its `}}`, or to the end of its line when unclosed."""
    stop = end + 2 if end >= 0 else text.find("\n", start)
    return text[start : stop if stop >= 0 else len(text)]


def _close(text: str, start: int) -> tuple[int, int]:
    """(index of the closing `}}`, index of the hint's `::` or -1) for a deletion whose text starts at `start`."""
    depth = 0
    hint_at = -1
    i = start
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n:
            i += 2  # \{ and \} are TeX's literal braces: they open nothing
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            if depth == 0:
                return (i, hint_at) if text.startswith("}}", i) else (-1, -1)
            depth -= 1
        elif c == ":" and depth == 0 and hint_at < 0 and text.startswith("::", i):
            hint_at = i
            i += 2
            continue
        i += 1
    return -1, -1


def _code_spans(text: str) -> list[tuple[int, int]]:
    """[start, end) of each backtick code span (CommonMark: a run closed by a run of the same length)."""
    spans = []
    runs = list(_TICKS_RE.finditer(text))
    used = set()
    for k, m in enumerate(runs):
        if k in used:
            continue
        for j in range(k + 1, len(runs)):
            if j not in used and len(runs[j].group()) == len(m.group()):
                spans.append((m.start(), runs[j].end()))
                used.update((k, j))
                break
    return spans


def _inside(spans: list[tuple[int, int]], at: int) -> bool:
    return any(a <= at < b for a, b in spans)


def _where(line_starts: list[int], at: int, first_line: int) -> tuple[int, int]:
    k = bisect.bisect_right(line_starts, at) - 1
    return first_line + k, at - line_starts[k] + 1


def protect(text: str, deletions: list[Deletion] | tuple[Deletion, ...], first_line: int) -> str:
    """`text` with Anki's deletion syntax replaced by private-use markers Markdown leaves alone."""
    if not deletions:
        return text
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    out = []
    pos = 0
    for d in deletions:
        at = line_starts[d.line - first_line] + d.column - 1
        m = _OPEN_RE.match(text, at)
        if m is None:  # not where the scanner saw it: leave the text as it is
            continue
        end, hint_at = _close(text, m.end())
        out.append(text[pos:at])
        out.append(f"{_P_OPEN}{d.number}{_P_NUM_END}")
        if hint_at >= 0:
            out.append(text[m.end() : hint_at])
            out.append(_P_HINT)
            out.append(text[hint_at + 2 : end])
        else:
            out.append(text[m.end() : end])
        out.append(_P_CLOSE)
        pos = end + 2
    out.append(text[pos:])
    return "".join(out)


def restore(html: str) -> str:
    """Rendered HTML with the markers turned back into Anki's `{{cN::text::hint}}`.

    Closing braces in the text or hint get a space between them (`} }`), and a
    text ending in `}` a space before Anki's `}}`, so Anki ends each deletion
    where the author did; in TeX the space changes nothing.
    """

    def back(m: re.Match) -> str:
        body = _spaced(m.group(2))
        hint = m.group(3)
        if hint is None:
            return f"{{{{c{m.group(1)}::{body}}}}}"
        return f"{{{{c{m.group(1)}::{body}::{_spaced(hint)}}}}}"

    return _PROTECTED_RE.sub(back, html)


def _spaced(s: str) -> str:
    while "}}" in s:
        s = s.replace("}}", "} }")
    return s + " " if s.endswith("}") else s


def numbers(deletions: list[Deletion] | tuple[Deletion, ...]) -> list[int]:
    """The deletion numbers in use, ascending."""
    return sorted({d.number for d in deletions})
