"""The card files read: each cut into cards and its front matter understood, remembered by its bytes.

What a file is cut into (scan.split: where each card starts, the near-miss
headings, fences and comments never closed) and what is wrong outside its
cards (filerules.file) depend on its bytes alone. The build cache keeps both
under a key of those bytes and flashdeck's code, so an unchanged file is cut
again by slicing: a one-card rebuild of 200 files of 50 cards cut and checked
all 200 anew, 60-80 ms. Like every cache entry it is authenticated (store.py),
and one that does not fit its file is not used: the file is split.
"""

from __future__ import annotations

import hashlib
from array import array
from pathlib import Path

from . import discover, filerules, rescan, scan
from .cachekey import context
from .cardwork import SourceFile
from .errors import ERROR, Diagnostic, FlashdeckError
from .frontmatter import FrontMatter
from .frontmatter import read as read_front_matter
from .model import Chunk, FileContext

RECORD = 1
"""The shape of a split's record; a record of another shape is not used."""
SHAPE = 1
"""The same for the record of a file's last cut (rescan.Shape)."""
RESCAN_FROM = 256 * 1024
"""From this size (about 300 cards) a file's last cut is kept, and a changed file is cut again only where it
changed (rescan.py). A smaller file is cut whole in 2 ms or less, and 2,000 files' cuts kept for nothing
raised a one-card rebuild's peak by 22 MB (100,000 cards in one folder)."""


def read(cards_dir: Path, bundles: list[discover.Bundle], problems: list[Diagnostic], store=None) -> list[SourceFile]:
    """Each card file read, cut into cards and its front matter understood (both remembered in `store`, a
    store.Store); file-level problems into `problems`."""
    files = []
    for bundle in bundles:
        for path in bundle.files:
            rel = discover.relpath(path, cards_dir)
            try:
                data = scan.load(path)
            except FlashdeckError as err:
                problems += err.diagnostics
                continue
            if not data or data.isspace():  # (what `not data.strip()` says, without a copy of the file)
                problems.append(filerules.empty_file(path))
                continue
            split, found = _split(path, data, store)
            problems += found
            front = _front_matter(path, data, split, problems, store)
            ctx = FileContext(path, rel, front.deck or discover.default_deck_name(rel), front.tags, bool(front.shuffle))
            files.append(SourceFile(ctx, bundle.name, split.chunks))
    return files


def _split(path: Path, data: bytes, store) -> tuple[scan.Split, list[Diagnostic]]:
    """scan.split(data) and filerules.file's problems, taken from `store` when these bytes were cut before,
    or cut again from the file's last cut where only some of its cards changed (rescan.py)."""
    if store is None:
        split = scan.split(data)
        return split, filerules.file(path, split)
    h = hashlib.sha256(context() + b"split\0")
    h.update(data)  # (not joined first: a file of 100,000 cards is 87 MB)
    key = "S" + h.hexdigest()
    last_key = "C" + hashlib.sha256(context() + b"cut\0" + str(path).encode("utf-8", "surrogateescape")).hexdigest() if len(data) >= RESCAN_FROM else ""
    known = _unrecord(store.get(key), path, data)
    if known is not None:
        if last_key:
            store.touch(last_key)  # (kept for this file's next edit)
        return known
    last = _unshape(store.get(last_key)) if last_key else None
    again = rescan.again(data, last) if last is not None else None
    split, digests = again if again is not None else (scan.split(data), None)
    problems = filerules.file(path, split)
    store.put_value(key, _record(split, problems))
    if last_key:
        store.put_value(last_key, _shape_record(rescan.shape(split, data, digests)))
    return split, problems


def _shape_record(shape: rescan.Shape) -> tuple:
    return (SHAPE, shape.front, shape.body_start, shape.lines.tobytes(), shape.sizes.tobytes(), shape.lookalikes,
            shape.unclosed_fences, shape.unclosed_comment, shape.first, shape.preamble, shape.head, shape.digests)


def _unshape(value) -> rescan.Shape | None:
    """What `_shape_record` kept, or None when it is not one (rescan.again checks that it fits the file)."""
    try:
        kind, front, body_start, line_bytes, size_bytes, lookalikes, fences, comment, first, preamble, head, digests = value
        lines, sizes = array("q"), array("q")
        lines.frombytes(line_bytes)
        sizes.frombytes(size_bytes)
    except (TypeError, ValueError):
        return None
    plain = (
        kind == SHAPE and isinstance(body_start, int) and isinstance(first, int) and isinstance(preamble, int)
        and 0 <= preamble <= first and len(lines) == len(sizes) and min(sizes, default=0) > 0
        and isinstance(head, bytes) and isinstance(digests, bytes) and isinstance(lookalikes, tuple) and isinstance(fences, tuple)
    )
    return rescan.Shape(front, body_start, lines, sizes, lookalikes, fences, comment, first, preamble, head, digests) if plain else None


def _record(split: scan.Split, problems: list[Diagnostic]) -> tuple:
    """`split` and `problems` in plain values: each card as its heading's line and its length (the cards run on to the end of the file)."""
    lines, sizes = array("q", [c.line for c in split.chunks]), array("q", [len(c.text) for c in split.chunks])
    found = tuple((d.line, d.message, d.severity, d.column) for d in problems)
    return (RECORD, split.front, split.body_start, lines.tobytes(), sizes.tobytes(), split.lookalikes, split.unclosed_fences, split.unclosed_comment, len(split.preamble), found)


def _unrecord(value, path: Path, data: bytes) -> tuple[scan.Split, list[Diagnostic]] | None:
    """What `_record` kept, back as the Split of `data` and the problems at `path`; None when it is not one or does not fit `data`."""
    try:
        shape, front, body_start, line_bytes, size_bytes, lookalikes, fences, comment, preamble, found = value
        if shape != RECORD:
            return None
        lines, sizes = array("q"), array("q")
        lines.frombytes(line_bytes)
        sizes.frombytes(size_bytes)
        problems = [Diagnostic(path, line, message, severity, column) for line, message, severity, column in found]
    except (TypeError, ValueError):
        return None
    first = at = len(data) - sum(sizes)  # (where the first card starts)
    fits = len(lines) == len(sizes) and min(sizes, default=0) >= 0 and isinstance(preamble, int) and 0 <= at - preamble <= at
    if not (fits and isinstance(body_start, int) and isinstance(lookalikes, tuple) and isinstance(fences, tuple)):
        return None
    chunks = []
    for line, size in zip(lines, sizes):
        chunks.append(Chunk(line, data[at : at + size]))
        at += size
    return scan.Split(front, body_start, tuple(chunks), lookalikes, fences, comment, data[first - preamble : first]), problems


def _front_matter(path: Path, data: bytes, split: scan.Split, problems: list[Diagnostic], cache=None) -> FrontMatter:
    if split.front is None:
        return read_front_matter([])
    end = 0
    for _ in range(split.body_start):  # (the front matter's lines only: splitting the whole file copied it)
        found = data.find(b"\n", end)
        end = len(data) if found < 0 else found + 1
    head = data[:end].split(b"\n")[: split.body_start]
    try:
        lines = [line.decode("utf-8") for line in head]
    except UnicodeDecodeError:
        problems.append(Diagnostic(path, 1, "front matter is not UTF-8: save the file again with UTF-8 encoding", ERROR))
        return read_front_matter([])
    front = read_front_matter(lines, cache)
    problems += [Diagnostic(path, p.line, p.message, p.severity, p.column) for p in front.problems]
    return front
