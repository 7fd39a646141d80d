"""Cut a card file again from its last cut, where only some of its cards changed (sources.py keeps the cut).

A one-card edit of a 10,000-card file changes one card's bytes, and cutting the
whole file again (scan.split) is 60 ms there, 0.5 s at 100,000 cards. Here the
cards at the start and at the end whose bytes are still those of the last cut
(compared by digest) stay where they were, and only the bytes between them are
cut by scan.split. That gives scan.split's own answer whenever nothing in the
file can reach across those boundaries: the last cut left no fence or comment
open (so each closed inside its card: a heading inside one starts no card), the
part cut again leaves none open either, starts at a card heading and holds no
front matter, and the file's head (front matter, text before the first card) is
unchanged. Anything else is cut whole. tests/test_rescan.py checks it against scan.split.
"""

from __future__ import annotations

import hashlib
from array import array
from dataclasses import dataclass

from . import scan
from .model import Chunk

DIGEST = 16
"""Bytes of SHA-256 kept per card: what tells an unchanged card's bytes."""


@dataclass(frozen=True, slots=True)
class Shape:
    """What a cut leaves for cutting the next version again: where its cards were and their digests, no text."""

    front: tuple[int, int] | None
    body_start: int
    lines: array
    """The line (1-based) of each card's heading ('q')."""
    sizes: array
    """Each card's length in bytes ('q')."""
    lookalikes: tuple[tuple[int, str, str], ...]
    unclosed_fences: tuple[tuple[int, int, str], ...]
    unclosed_comment: tuple[int, int] | None
    first: int
    """Where the first card starts (the length of the head)."""
    preamble: int
    """Length of the text between the front matter and the first card."""
    head: bytes
    """Digest of the head."""
    digests: bytes
    """DIGEST bytes a card."""


def digest(data: bytes, start: int, end: int) -> bytes:
    return hashlib.sha256(memoryview(data)[start:end]).digest()[:DIGEST]


def _digests(data: bytes, at: int, sizes) -> bytes:
    """The digests of the cards of `sizes` bytes that follow each other in `data` from `at`."""
    with memoryview(data) as view:  # (one view for all: 10,000 cards, 23 ms through `digest`, 15 like this)
        parts = []
        for size in sizes:
            parts.append(hashlib.sha256(view[at : at + size]).digest()[:DIGEST])
            at += size
    return b"".join(parts)


def shape(split: scan.Split, data: bytes, digests: bytes | None = None) -> Shape:
    """The shape of `split`, the cut of `data` (`digests`: its cards', when known already)."""
    sizes = array("q", [len(c.text) for c in split.chunks])
    first = len(data) - sum(sizes)
    if digests is None:
        digests = _digests(data, first, sizes)
    return Shape(
        split.front, split.body_start, array("q", [c.line for c in split.chunks]), sizes, split.lookalikes,
        split.unclosed_fences, split.unclosed_comment, first, len(split.preamble), digest(data, 0, first), digests,
    )


def again(data: bytes, last: Shape) -> tuple[scan.Split, bytes] | None:
    """scan.split(data) made from `last`, the shape of an earlier version of the file, and the cards' digests;
    None when it cannot be made that way (then the file is cut whole)."""
    n, sizes, lines, known = len(last.sizes), last.sizes, last.lines, last.digests
    if not n or last.unclosed_fences or last.unclosed_comment is not None or len(known) != n * DIGEST:
        return None
    if last.first > len(data) or digest(data, 0, last.first) != last.head:
        return None
    with memoryview(data) as view:  # (one view for all, as in `_digests`)

        def same(k: int, start: int) -> bool:
            """Whether the bytes from `start` are card `k` of the last version."""
            return hashlib.sha256(view[start : start + sizes[k]]).digest()[:DIGEST] == known[k * DIGEST : (k + 1) * DIGEST]

        at, i = last.first, 0  # the cards unchanged from the start: [0, i), ending at `at`
        while i < n and at + sizes[i] <= len(data) and same(i, at):
            at += sizes[i]
            i += 1
        end, j = len(data), n  # and from the end: [j, n), starting at `end`
        while j > i and end - sizes[j - 1] >= at and same(j - 1, end - sizes[j - 1]):
            end -= sizes[j - 1]
            j -= 1
    before = lines[i] - 1 if i < n else lines[n - 1] - 1 + data.count(b"\n", at - sizes[n - 1], at)
    """Lines before the part cut again (the same as in the last version: all before it is unchanged)."""
    middle: list[Chunk] = []
    found_middle: tuple[tuple[int, str, str], ...] = ()
    if end > at:
        part = scan.split(data[at:end])
        if part.front is not None or part.preamble or not part.chunks or part.unclosed_fences or part.unclosed_comment is not None:
            return None
        middle = [Chunk(c.line + before, c.text) for c in part.chunks]
        found_middle = tuple((line + before, text, kind) for line, text, kind in part.lookalikes)
    shift = before + data.count(b"\n", at, end) - (lines[j] - 1) if j < n else 0
    """How many lines the cards after the part cut again moved."""
    chunks, offset = [], last.first
    for k in range(i):
        chunks.append(Chunk(lines[k], data[offset : offset + sizes[k]]))
        offset += sizes[k]
    chunks += middle
    offset = end
    for k in range(j, n):
        chunks.append(Chunk(lines[k] + shift, data[offset : offset + sizes[k]]))
        offset += sizes[k]
    cut_from = lines[i] if i < n else None  # the lines of the last version that were cut again: [cut_from, lines[j])
    cut_to = lines[j] if j < n else None
    lookalikes = (
        tuple(x for x in last.lookalikes if cut_from is None or x[0] < cut_from)
        + found_middle
        + tuple((line + shift, text, kind) for line, text, kind in last.lookalikes if cut_to is not None and line >= cut_to)
    )
    split = scan.Split(last.front, last.body_start, tuple(chunks), lookalikes, (), None, data[last.first - last.preamble : last.first])
    return split, known[: i * DIGEST] + _digests(data, at, [len(c.text) for c in middle]) + known[j * DIGEST :]
