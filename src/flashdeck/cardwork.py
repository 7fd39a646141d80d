"""The per-card steps, fanned out: parse, validate and render each card that is not known yet.

The unit of work is the card, not the file. A card's key covers its bytes and
everything else its result depends on (its file's place, deck, tags and
shuffle setting, and flashdeck's `cachekey.context`), never its line: a card
that moves within its file, or whose neighbours change, is not rendered
again. Known cards come from the session (a `--watch` build) or the cache;
the rest are rendered here or, when there is enough of them, spread over
worker processes by cards, so one big file uses every core.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from . import cloze, executor, lock, notetype, parse, scan, validate
from .cachekey import context
from .errors import ERROR, Diagnostic
from .model import CLOZE, CardResult, Chunk, FileContext, Placed
from .store import Store

if TYPE_CHECKING:
    from .render import Renderer

BATCH_BYTES = 64 * 1024
"""Markdown per batch sent to a worker: big enough to pay for the trip, small enough to share out."""


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One card file of a package, cut into cards."""

    ctx: FileContext
    package: str
    chunks: tuple[Chunk, ...]


def keys(ctx: FileContext, chunks: tuple[Chunk, ...], fields: str = "") -> list[str]:
    """The cache keys of these cards of one file; `fields` names the note types' fields."""
    shared = hashlib.sha256(context())  # (what the file's cards share is hashed once, then copied)
    for part in (fields, ctx.rel, ctx.deck, "\x1f".join(ctx.tags), "1" if ctx.shuffle else "0"):
        shared.update(part.encode("utf-8", "surrogateescape") + b"\0")
    out = []
    for c in chunks:
        h = shared.copy()
        h.update(c.text)
        out.append(h.hexdigest())
    return out


def run(
    files: list[SourceFile],
    store: Store,
    renderer: Callable[[], Renderer],
    pool: Callable[[], executor.Processes],
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Placed], list[Diagnostic]]:
    """Every card of `files` placed in this build, in file order, and the cards that could not be read.

    `renderer()` gives this process's renderer and `pool()` the session's
    worker processes, both made only if needed.
    """
    fields = repr([nt.fields for nt in notetype.all_types()])
    per_file = [keys(f.ctx, f.chunks, fields) for f in files]
    known = store.results(k for ks in per_file for k in ks)
    total = sum(len(f.chunks) for f in files)
    done = len(known)
    if progress is not None:
        progress(done, total)

    unreadable: list[Diagnostic] = []
    # Batches are planned as places (file, chunk) and their text decoded only
    # as they are sent: 100,000 cards' text is not held twice (100 MB).
    plan: list[tuple[int, list[int]]] = []
    queued: set[str] = set()  # a card twice in a file is rendered once
    size = 0
    for i, (f, ks) in enumerate(zip(files, per_file)):
        batch: list[int] = []
        batch_bytes = 0
        for j, (c, k) in enumerate(zip(f.chunks, ks)):
            if k in known or k in queued:
                continue
            try:
                c.text.decode("utf-8")  # (checked here, decoded again when sent: it is cheap, the copy is not)
            except UnicodeDecodeError as exc:
                unreadable.append(_not_utf8(f.ctx, c, exc))
                continue
            queued.add(k)
            batch.append(j)
            batch_bytes += len(c.text)
            if batch_bytes >= BATCH_BYTES:
                plan.append((i, batch))
                size += batch_bytes
                batch, batch_bytes = [], 0
        if batch:
            plan.append((i, batch))
            size += batch_bytes

    def batches() -> Iterator[tuple[FileContext, list[tuple[str, str]]]]:
        for i, at in plan:
            f, ks = files[i], per_file[i]
            yield f.ctx, [(ks[j], f.chunks[j].text.decode("utf-8")) for j in at]

    if plan:
        workers = pool()
        many = executor.worth_workers(size, len(plan), executor.cpus())
        if many:
            workers.widen()  # (a rebuild started one worker for a few cards: this is more)
        if many or workers.running:
            results: Iterator = workers.map(work_remote, batches())
        else:
            mine = renderer()
            results = (work(batch, mine) for batch in batches())
        for batch_results in results:
            for k, result, fields in batch_results:
                known[k] = result
                store.put(k, result, fields)
            done += len(batch_results)
            if progress is not None:
                progress(done, total)

    placed: list[Placed] = []
    for f, ks in zip(files, per_file):
        for c, k in zip(f.chunks, ks):
            result = known.get(k)
            if result is None:
                continue  # not UTF-8: reported in `unreadable`
            placed.append(Placed(k, result, f.ctx.path, c.line, f.ctx.deck, f.package, f.ctx.rel))
    return placed, unreadable


def work(batch: tuple[FileContext, list[tuple[str, str]]], renderer: Renderer) -> list[tuple[str, CardResult, tuple[str, ...] | None]]:
    """Parse, validate and render the cards of one batch: [(key, result, fields or None)].

    Lines count from each card's heading (line 1), so the result can move with the card.
    """
    ctx, cards = batch
    out = []
    for k, text in cards:
        card = parse.card(text, 1, ctx)
        problems = validate.card(card)
        fields = None
        images: tuple[str, ...] = ()
        if not any(d.is_error for d in problems):
            rendered = renderer.card(card, ctx.rel)
            problems += rendered.problems
            if not any(d.is_error for d in rendered.problems):
                fields, images = rendered.fields, rendered.images
        kind = card.kind
        hidden = tuple((n, " / ".join(d.text for d in card.deletions if d.number == n)) for n in cloze.numbers(card.deletions)) if kind == CLOZE else ()
        # With images, the packaged names come first (media.py, then `finish`); else the hashes are known now.
        known = _hashes(kind, fields, card.tags) if fields is not None and not images else {}
        result = CardResult(
            id=card.id,
            title=card.title,
            kind=kind,
            tags=card.tags,
            problems=tuple(_relative(problems)),
            rendered=fields is not None,
            images=images,
            cloze=hidden,
            id_column=card.id_column,
            bad_id=card.facts.bad_id or None,
            **known,
        )
        out.append((k, result, fields))
    return out


def finish(result: CardResult, fields: tuple[str, ...]) -> CardResult:
    """`result` with the hashes of its final fields: the lock's, and the package's digest."""
    return replace(result, **_hashes(result.kind, fields, result.tags))


def _hashes(kind: str, fields: tuple[str, ...], tags: tuple[str, ...]) -> dict[str, str]:
    names = notetype.of(kind).fields
    digest = hashlib.sha256("\x1f".join(fields).encode("utf-8")).hexdigest()[:32]
    return {"hashes": lock.field_hashes(names, fields, tags), "digest": digest}


def work_remote(batch) -> list:
    """`work` in a worker process, with that process's own renderer."""
    return work(batch, _worker_renderer())


def warm() -> None:
    """Load this worker's renderer (Python-Markdown, its extensions, their patterns: 30-40 ms) before its first batch."""
    _worker_renderer().warm()


@functools.cache
def _worker_renderer() -> Renderer:
    # One renderer per worker process for its whole life (the pool lives as long as the session).
    from .render import Renderer  # (a worker's only: the build's own process then never imports Python-Markdown)

    return Renderer()


def _relative(problems: list[Diagnostic]) -> list[Diagnostic]:
    return [d.placed(Path(), 0) for d in problems]


def _not_utf8(ctx: FileContext, chunk: Chunk, exc: UnicodeDecodeError) -> Diagnostic:
    line, col = scan.where(chunk.text, exc.start, chunk.line)
    return Diagnostic(
        ctx.path, line,
        f"file is not UTF-8 (byte 0x{chunk.text[exc.start]:02x} here is not valid UTF-8): save the file again with UTF-8 encoding",
        ERROR, col,
    )

