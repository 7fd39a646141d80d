"""What a card file must follow outside its cards: text no card holds, near-headings,
unclosed fences and comments, characters Anki's fields cannot store.

These problems depend on the file's bytes alone, so sources.py keeps them with the
file's cut (scan.Split) and a file read again costs nothing to judge. The rules on
each card and across cards are in validate.py.
"""

from __future__ import annotations

import bisect
from pathlib import Path

from . import heading, scan
from .errors import ERROR, WARNING, Diagnostic, clip
from .identity import ID_RE

_UNSTORABLE = {
    b"\x1f": "U+001F (INFORMATION SEPARATOR ONE), an invisible control character: Anki separates a note's fields with it, so the card would come apart",
    b"\x00": "U+0000 (NULL), an invisible control character: Anki's fields cannot hold it",
}


def file(path: Path, split: scan.Split) -> list[Diagnostic]:
    """What is wrong in a file outside its cards: text no card holds, near-headings, unclosed fences and comments."""
    out: list[Diagnostic] = []
    chunks = split.chunks
    starts = [c.line for c in chunks]

    def prefix(line: int) -> str:
        k = bisect.bisect_right(starts, line) - 1
        return f"{_label(chunks[k].text)}: " if k >= 0 else ""

    lookalike_lines = set()
    for line, text, kind in split.lookalikes:
        lookalike_lines.add(line)
        if kind == "no-space":
            out.append(Diagnostic(path, line, f"{prefix(line)}'{clip(text)}' is not a card heading: put a space after '##' ('## Title {{#id}}')", WARNING, 1))
        else:
            out.append(Diagnostic(path, line, f"{prefix(line)}'{clip(text)}' is a level-1 heading, not a card: start cards with '## '", WARNING, 1))
    for line, column, fence in split.unclosed_fences:
        out.append(Diagnostic(path, line, f"{prefix(line)}code fence '{fence}' is never closed, so it shows as text: close it with a '{fence}' line", WARNING, column))
    if split.unclosed_comment is not None:
        line, column = split.unclosed_comment
        out.append(Diagnostic(path, line, f"{prefix(line)}HTML comment '<!--' is never closed and hides everything below it: close it with '-->'", ERROR, column))
    for c in chunks:
        for raw, what in _UNSTORABLE.items():
            at = -1
            while (at := c.text.find(raw, at + 1)) >= 0:
                line, column = scan.where(c.text, at, c.line)
                out.append(Diagnostic(path, line, f"{prefix(c.line)}the text holds {what}; delete it", ERROR, column))
    stray, stopped = _preamble_text(split, lookalike_lines)
    if stray is not None:
        if chunks:
            message = "text before the first card belongs to no card and would be lost: move it into a card or into an HTML comment (<!-- … -->)"
        else:
            message = "file has no cards, so this text would be lost: start each card with '## Title {#id}'"
        out.append(Diagnostic(path, stray, message, WARNING))
    elif not chunks and not stopped and not any(d.is_error for d in out):
        out.append(Diagnostic(path, 0, "file has no cards: start each card with '## Title {#id}'", WARNING))
    return out


def _preamble_text(split: scan.Split, lookalikes: set[int]) -> tuple[int | None, bool]:
    """(line of the first text before the first card that no card would keep, or None;
    whether a near-heading came first, which says enough about that text)."""
    if not split.preamble:
        return None, False
    lines = split.preamble.decode("utf-8", "replace").split("\n")
    visible, code = scan.blank(lines)
    for k, line in enumerate(visible):
        number = split.body_start + k + 1
        if number in lookalikes:
            return None, True
        if not code[k] and (not line.strip() or heading.atx(line, 1) is not None):
            continue  # blank, a comment, or a file title (for people reading the source)
        return number, False
    return None, False


def _label(chunk: bytes) -> str:
    """How a message names the card of this chunk (its id, else its heading), read from its heading line."""
    first = chunk.split(b"\n", 1)[0].decode("utf-8", "replace")
    content = heading.atx(first, 2)
    title, candidate, _ = heading.split_id(content[0] if content else "")
    if candidate and ID_RE.fullmatch(candidate):
        return f"card '{candidate}'"
    return f"card '{title or '(untitled)'}'"


def empty_file(path: Path) -> Diagnostic:
    return Diagnostic(path, 0, "file is empty: write cards in it ('## Title {#id}', a question, '### Answer', '### Explanation') or delete it", WARNING)
