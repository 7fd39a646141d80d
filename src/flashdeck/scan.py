"""Read a card file and cut it into cards: headings, code fences and HTML comments.

A card starts at an H2 heading outside code and comments (README, "Card
format"). `split` finds those headings in the file's bytes by looking only at
the lines that can matter (those starting with `#`, a fence, or holding `<!--`
or `-->`), so a 10,000-card file is cut in milliseconds and only the cards
whose bytes changed are parsed again. `blank` is the same reading line by
line, for the text of one card (parse.py) and for a file's preamble;
tests/test_scan.py checks that both agree. Headings themselves: heading.py.

Rules (those of the parser before, kept): a fence that is never closed is
not a fence (Python-Markdown shows it as text, so headings below it still
start cards); a comment that is never closed hides the rest of the file; a
backtick code span keeps `<!--` as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .errors import CardError
from .heading import atx, split_id
from .model import Chunk

_BOM = b"\xef\xbb\xbf"
_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_FENCE_CLOSE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})[ \t]*$")
_NO_SPACE_H2_RE = re.compile(r"^ {0,3}##[^#\s]")
# Lines that may open or close code, a comment or a card: nothing else can change where cards start.
_CANDIDATE_RE = re.compile(rb"\n {0,3}(?:##?(?!#)|`{3}|~{3})")  # (### sections cannot start a card)
_FIRST_CANDIDATE_RE = re.compile(rb" {0,3}(?:##?(?!#)|`{3}|~{3})")  # (the same, on the file's first line)


def load(path: Path) -> bytes:
    """A card file's bytes: a UTF-8 BOM dropped, CRLF/CR made LF. UTF-8 is checked card by card (parse.py)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CardError(path, 0, f"cannot read the file ({exc.strerror or exc}): check that it exists and is readable") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CardError(path, 0, "file is UTF-16, not UTF-8: save it again as UTF-8")
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return data


@dataclass(frozen=True, slots=True)
class Split:
    """A card file cut into its front matter, the text before the first card, and cards."""

    front: tuple[int, int] | None
    """Line indexes [first, last] of the `---` lines around the front matter; None without one.
    `last` is -1 when the front matter is never closed."""
    body_start: int
    """Index of the first line after the front matter."""
    chunks: tuple[Chunk, ...]
    lookalikes: tuple[tuple[int, str, str], ...] = ()
    """(line, text, 'no-space' | 'h1-id') of headings that are almost card headings."""
    unclosed_fences: tuple[tuple[int, int, str], ...] = ()
    """(line, column, fence) of fences that are never closed."""
    unclosed_comment: tuple[int, int] | None = None
    """(line, column) of a `<!--` that is never closed."""
    preamble: bytes = b""
    """The bytes between the front matter and the first card."""


def where(data: bytes, at: int, first_line: int) -> tuple[int, int]:
    """(line, column) of byte `at` of `data`, whose first line is `first_line`; columns count characters, as editors do."""
    start = data.rfind(b"\n", 0, at) + 1
    return first_line + data.count(b"\n", 0, at), len(data[start:at].decode("utf-8", "replace")) + 1


def split(data: bytes) -> Split:
    """Cut `data` (as `load` returns it) into cards.

    Positions are offsets in `data` where lines start (never a copy of it with a newline in front:
    a file of 100,000 cards is 87 MB, and the copy was the cold build's high point).
    """
    front, body_start, body = _front(data)
    marks = sorted(_comment_lines(data, body) | _candidate_lines(data, body))
    starts: list[int] = []  # where candidate lines start in `data`
    lines_of: list[str] = []
    numbers: list[int] = []
    line_no, at = 0, 0
    for start in marks:
        line_no += data.count(b"\n", at, start)
        at = start
        end = data.find(b"\n", start)
        starts.append(start)
        numbers.append(line_no)  # 0-based index of the line in the file
        lines_of.append(data[start : end if end >= 0 else len(data)].decode("utf-8", "replace"))

    closers, longest, pointer = fence_index(lines_of)

    heads: list[int] = []  # candidate indexes of card headings
    lookalikes: list[tuple[int, str, str]] = []
    unclosed_fences: list[tuple[int, int, str]] = []
    comment_at: tuple[int, int] | None = None
    k = 0
    while k < len(lines_of):
        line, index = lines_of[k], numbers[k]
        if comment_at is None and line.lstrip(" ")[:1] in ("`", "~"):
            m = _FENCE_RE.match(line)
            if m and not (m.group(1)[0] == "`" and "`" in m.group(2)):
                close = closer(m.group(1), k, closers, longest, pointer)
                if close is not None:
                    k = close + 1
                    continue
                unclosed_fences.append((index + 1, line.index(m.group(1)) + 1, m.group(1)))
        visible, comment_at = blank_line(line, index, comment_at)
        if visible:
            if visible.startswith("## ") or atx(visible, 2) is not None:  # (the first: most card headings, 2 µs less each)
                heads.append(k)
            elif _NO_SPACE_H2_RE.match(visible):
                lookalikes.append((index + 1, visible.strip(), "no-space"))
            else:
                h1 = atx(visible, 1)
                if h1 is not None and split_id(h1[0])[1] is not None:
                    lookalikes.append((index + 1, visible.strip(), "h1-id"))
        k += 1

    chunks = []
    for n, k in enumerate(heads):
        end = starts[heads[n + 1]] if n + 1 < len(heads) else len(data)
        chunks.append(Chunk(numbers[k] + 1, data[starts[k] : end]))
    first = starts[heads[0]] if heads else len(data)
    return Split(
        front=front,
        body_start=body_start,
        chunks=tuple(chunks),
        lookalikes=tuple(lookalikes),
        unclosed_fences=tuple(unclosed_fences),
        unclosed_comment=(comment_at[0] + 1, comment_at[1]) if comment_at is not None else None,
        preamble=data[body:first] if body < first else b"",
    )


def _front(data: bytes) -> tuple[tuple[int, int] | None, int, int]:
    """(front matter lines, index of the first body line, offset in `data` where that line starts)."""
    first_end = data.find(b"\n")
    first = data[: first_end if first_end >= 0 else len(data)]
    if first.strip() != b"---":
        return None, 0, 0
    at, index = first_end, 0
    while at >= 0:
        nxt = data.find(b"\n", at + 1)
        index += 1
        line = data[at + 1 : nxt if nxt >= 0 else len(data)]
        if line.strip() in (b"---", b"..."):
            return (0, index), index + 1, (nxt + 1 if nxt >= 0 else len(data) + 1)
        at = nxt
    # Never closed: its lines are no card's either, the body starts at the first card heading.
    m = re.search(rb"\n {0,3}##(?:[ \t]|\n|$)", data)  # (the first line is the '---')
    if m is None:
        return (0, -1), index + 1, len(data) + 1
    return (0, -1), data.count(b"\n", 0, m.start() + 1), m.start() + 1


def _candidate_lines(data: bytes, start: int) -> set[int]:
    """Where the lines from offset `start` on that may open or close code, a comment or a card start."""
    found = {m.start() + 1 for m in _CANDIDATE_RE.finditer(data, max(start - 1, 0))}
    if start == 0 and _FIRST_CANDIDATE_RE.match(data):
        found.add(0)
    return found


def _comment_lines(data: bytes, start: int) -> set[int]:
    """Where the lines from offset `start` on holding a `<!--` or `-->` start."""
    # bytes.find, not a regex: an alternation tried at each of a big file's 7 MB took 0.1 s. Both marks hold
    # "--", so one pass finds them (one pass of a 100,000-card file is 60 ms); runs of dashes are skipped over.
    out = set()
    at = data.find(b"--", start)
    while at >= 0:
        if (at - 2 >= start and data[at - 2 : at] == b"<!") or data[at + 2 : at + 3] == b">":
            out.add(data.rfind(b"\n", 0, at) + 1)
        at = data.find(b"--", at + 1)
    return out


def fence_index(lines: list[str]) -> tuple[dict[str, list[tuple[int, int]]], dict[str, list[int]], dict[str, int]]:
    """(closers, longest, pointer) for `closer`: every line that could close a fence, per fence character."""
    closers: dict[str, list[tuple[int, int]]] = {"`": [], "~": []}
    for i, line in enumerate(lines):
        if line.lstrip(" ")[:1] in ("`", "~"):
            m = _FENCE_CLOSE_RE.match(line)
            if m:
                closers[m.group(1)[0]].append((i, len(m.group(1))))
    return closers, {c: suffix_max(found) for c, found in closers.items()}, {"`": 0, "~": 0}


def suffix_max(found: list[tuple[int, int]]) -> list[int]:
    """The longest closing fence from each position on (so finding an opener's closer stays linear)."""
    suffix = [0] * (len(found) + 1)
    for k in range(len(found) - 1, -1, -1):
        suffix[k] = max(suffix[k + 1], found[k][1])
    return suffix


def closer(fence: str, i: int, closers, longest, pointer) -> int | None:
    """Index of the line closing `fence` opened on line `i`, or None when it is never closed."""
    c, size = fence[0], len(fence)
    found, k = closers[c], pointer[c]
    while k < len(found) and found[k][0] <= i:
        k += 1
    if longest[c][k] < size:
        pointer[c] = k
        return None
    while found[k][1] < size:
        k += 1
    pointer[c] = k + 1
    return found[k][0]


def blank(lines: list[str]) -> tuple[list[str], list[bool]]:
    """`lines` with comments outside code blanked out, and a mask of the lines inside fenced code.

    Comments are where authors note sources and corrections; they never reach
    a card, and blanking instead of deleting keeps every line number right.
    """
    n = len(lines)
    joined = "\n".join(lines)
    if "<!--" not in joined and "```" not in joined and "~~~" not in joined:
        return [line if line.strip() else "" for line in lines], [False] * n  # no comment, no fence: most cards
    visible = list(lines)
    code = [False] * n
    closers, longest, pointer = fence_index(lines)
    comment_at: tuple[int, int] | None = None
    i = 0
    while i < n:
        line = lines[i]
        if comment_at is None and ("`" in line or "~" in line):
            m = _FENCE_RE.match(line)
            if m and not (m.group(1)[0] == "`" and "`" in m.group(2)):
                close = closer(m.group(1), i, closers, longest, pointer)
                if close is not None:
                    for j in range(i, close + 1):
                        code[j] = True
                    i = close + 1
                    continue
        visible[i], comment_at = blank_line(line, i, comment_at)
        i += 1
    return visible, code


def blank_line(line: str, index: int, comment_at: tuple[int, int] | None) -> tuple[str, tuple[int, int] | None]:
    """`line` without its HTML comments; `comment_at` is (line index, column) where an open comment began.

    Backtick code spans are skipped, so `<!--` written as code stays.
    """
    if comment_at is None and "<!--" not in line:
        return (line if line.strip() else ""), None
    out = []
    pos = 0
    size = len(line)
    unmatched: set[int] = set()  # run lengths with no closing run later: never search twice
    while pos < size:
        if comment_at is not None:
            close = line.find("-->", pos)
            if close < 0:
                pos = size
                break
            comment_at = None
            pos = close + 3
            continue
        opening = line.find("<!--", pos)
        tick = line.find("`", pos)
        if tick >= 0 and (opening < 0 or tick < opening):
            run_end = tick
            while run_end < size and line[run_end] == "`":
                run_end += 1
            run = run_end - tick
            close = line.find("`", run_end) if run not in unmatched else -1
            while close >= 0:
                close_end = close
                while close_end < size and line[close_end] == "`":
                    close_end += 1
                if close_end - close == run:
                    break
                close = line.find("`", close_end)
            if close < 0:
                unmatched.add(run)
            stop = close + run if close >= 0 else run_end
            out.append(line[pos:stop])
            pos = stop
            continue
        if opening < 0:
            out.append(line[pos:])
            break
        out.append(line[pos:opening])
        comment_at = (index, opening + 1)
        pos = opening + 4
    joined = "".join(out)
    return (joined if joined.strip() else ""), comment_at


