"""What goes into each package, and what writes it: notes in order, decks, images, and whether it changed.

A package's digest covers everything its bytes depend on (each note's
rendered fields, stamps, deck and tags, the note types, the images, the
timestamp, flashdeck's own code); when the file already in the output folder
was written for the same digest and has not been touched since, it is left
as it is, byte-identical.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import collection, executor, media, notetype, package
from .cachekey import context
from .discover import Bundle
from .errors import FlashdeckError
from .identity import checksum, deck_id, guid, timed_ids
from .lock import source_date_epoch
from .lockfile import Lock
from .model import Note, Placed
from .store import Store


@dataclass(slots=True)
class PackageReport:
    path: Path
    decks: list[str]
    cards: int
    retired: int
    unchanged: bool = False
    """The package's content is the same as the file already there, which was left untouched."""
    deflate: str = ""
    chunks_deflated: int = 0
    chunks_reused: int = 0
    notes_written: int = 0



@dataclass(slots=True)
class Plan:
    name: str
    live: list[Placed]
    retired: list[Note]
    decks: dict[str, int]
    media: dict[str, Path]
    digest: str
    report: PackageReport
    kept: tuple[str, ...] = ()
    """Cache keys of what writing the package kept for its next rebuild (package.Written.kept, genanki's facts)."""


def plans(
    bundles: list[Bundle],
    cards: list[Placed],
    retired: dict[str, list[Note]],
    images: dict[str, dict[str, Path]],
    new: Lock,
    store: Store,
    out_dir: Path,
) -> list[Plan]:
    """Per package: its notes (live, then retired), decks, media and a digest of everything its bytes depend on."""
    live: dict[str, list[Placed]] = {}
    for c in cards:
        live.setdefault(c.package, []).append(c)
    sde = source_date_epoch()
    plans = []
    for bundle in bundles:
        here = live.get(bundle.name, [])
        gone = retired.get(bundle.name, [])
        decks = {d: deck_id(d) for d in sorted({c.deck for c in here} | {n.deck for n in gone})}
        media = images.get(bundle.name, {})
        h = hashlib.sha256(context() + b"package\0" + repr(sde).encode())
        for nt in notetype.all_types():
            h.update(f"{nt.kind}:{nt.fingerprint}:{new.notetypes.get(nt.kind)}\0".encode())
        for c in here:
            e = new.entries[c.result.id]
            h.update(f"{c.result.id}\0{c.result.digest}\0{e.added}\0{e.changed}\0{c.deck}\0{' '.join(c.result.tags)}\0{c.result.ords}\0".encode())
        for n in gone:
            e = new.entries[n.id]
            h.update(f"{n.id}\0{n.fields}\0{n.deck}\0{e.added}\0{e.retired}\0{n.ords}\0".encode())
        for name in sorted(media):
            h.update(name.encode() + b"\0")
        h.update(repr(sorted(decks.items())).encode())
        target = out_dir / f"{bundle.name}.apkg"
        report = PackageReport(target, sorted({c.deck for c in here}), len(here), len(gone))
        plan = Plan(bundle.name, here, gone, decks, media, h.hexdigest(), report)
        report.unchanged = _unchanged(store, plan)
        plans.append(plan)
    return plans


PARALLEL_PACKAGES = 16
"""Changed small packages from which they are made in worker processes: it pays for starting those."""


def writers(
    changed: list[Plan],
    names: dict[str, dict[str, str]],
    new: Lock,
    store: Store,
    facts: Callable[[], package.Facts],
    workers: Callable[[], executor.Processes],
    told: Callable[[int], Callable[[], None]],
) -> list[tuple[Path, Callable]]:
    """(target, producer) of each changed package, in order: write.atomic_write_all's jobs; `told(n)` is called as the n-th starts.

    Many small packages are made in the workers (`made_apart`). When the workers are running
    already (a cold build rendered there), a big package's new deflate chunks go there too.
    """
    made = made_apart([pl for pl in changed if small(pl)], names, new, store, facts, workers)
    pool: executor.Processes | None = workers()
    if not pool.running:
        pool = None  # (a rebuild's few new chunks do not pay for starting workers)
    return [(pl.report.path, producer(pl, names, new, store, facts, told(n), made if small(pl) else None, pool)) for n, pl in enumerate(changed)]


def made_apart(
    few: list[Plan], names: dict[str, dict[str, str]], new: Lock, store: Store, facts: Callable[[], package.Facts], workers: Callable[[], executor.Processes],
) -> Iterator[tuple[bytes, package.Written]] | None:
    """The packages of `few` made in the workers, in order (package.make); None when they are too few to pay.

    200 packages of 50 cards took 1.25 s one after another, a fifth of the cold build.
    """
    if len(few) < PARALLEL_PACKAGES or executor.cpus() < 2:
        return None
    pool = workers()
    pool.widen()  # (a rebuild may have started one, for its few changed cards)
    return pool.map(package.make, (job(pl, names, new, store, facts()) for pl in few))


def producer(
    plan: Plan,
    names: dict[str, dict[str, str]],
    new: Lock,
    store: Store,
    facts: Callable[[], package.Facts],
    started: Callable[[], None],
    made: Iterator[tuple[bytes, package.Written]] | None = None,
    pool=None,
):
    """What writes `plan`'s package into an open file (write.atomic_write_all calls it); `started()` is told first.

    `made`: where a small package comes already made (package.make in a worker, in the order the
    producers are called); else it is made here, its new deflate chunks in `pool` when given
    (executor.Processes).
    """

    def produce(f) -> None:
        started()
        if made is not None:
            data, written = next(made)
            f.write(data)
        else:
            mods, timestamp = _mods(plan, new)
            written = package.write(
                f, _Notes(plan, names, new, store), plan.decks, mods, plan.media,
                timestamp, facts(), store, context(), "k" + _package_key(plan.report.path)[1:], pool,
            )
        r = plan.report
        r.deflate, r.chunks_deflated, r.chunks_reused = written.deflate, written.chunks_deflated, written.chunks_reused
        r.notes_written = written.notes_written
        plan.kept = (*written.kept, package.facts_key())

    return produce


def small(plan: Plan) -> bool:
    """Whether `plan`'s package keeps nothing in the store (no working database): one a worker can make (`job`)."""
    return collection.fresh_only(len(plan.live) + len(plan.retired))


def job(plan: Plan, names: dict[str, dict[str, str]], new: Lock, store: Store, facts: package.Facts) -> package.Job:
    """A small package's notes, fields and all, as plain values for package.make."""
    notes = _Notes(plan, names, new, store)
    mods, timestamp = _mods(plan, new)
    return package.Job(notes.rows, tuple(notes.notes()), plan.decks, mods, plan.media, timestamp, facts, context())


def _mods(plan: Plan, new: Lock) -> tuple[dict[str, int], int]:
    """When each note type the package uses last changed, and the package's timestamp."""
    kinds = {c.result.kind for c in plan.live} | {note.kind for note in plan.retired}
    mods = {k: new.notetypes[k][1] for k in sorted(kinds)}
    return mods, _timestamp(plan, new.entries, mods)


class _Notes:
    """A package's notes for collection.write: `rows` in brief at once, `notes()` with their fields as they are written."""

    def __init__(self, plan: Plan, names: dict[str, dict[str, str]], new: Lock, store: Store) -> None:
        self._plan, self._names, self._store, entries = plan, names, store, new.entries
        self._mods = [entries[c.result.id].changed for c in plan.live] + [entries[n.id].retired or entries[n.id].changed for n in plan.retired]
        heads = [(entries[c.result.id].added, c.result.id, c.result.ords) for c in plan.live] + [(entries[n.id].added, n.id, n.ords) for n in plan.retired]
        self._note_ids, card_ids = timed_ids(heads)
        digests, cards = bytearray(), array("q")
        for i, c in enumerate(plan.live):
            r = c.result
            digests += _row_digest(r.id, r.kind, self._mods[i], r.tags, r.digest, names.get(c.key))
            _cards(cards, card_ids[i], self._note_ids[i], r.ords, plan.decks[c.deck], self._mods[i], i + 1)
        for i, n in enumerate(plan.retired, start=len(plan.live)):
            digests += _row_digest(n.id, n.kind, self._mods[i], n.tags, hashlib.sha256("\x1f".join(n.fields).encode()).hexdigest(), None)
            _cards(cards, card_ids[i], self._note_ids[i], n.ords, plan.decks[n.deck], self._mods[i], i + 1)
        self.rows = collection.Rows(self._note_ids, bytes(digests), cards)

    def notes(self, positions: Sequence[int] | None = None) -> Iterator[collection.PackNote]:
        plan, live = self._plan, len(self._plan.live)
        at = list(range(live + len(plan.retired))) if positions is None else positions
        alive = [i for i in at if i < live]
        for i, fields in zip(alive, self._store.fields([plan.live[i].key for i in alive])):
            c = plan.live[i]
            if fields is None:
                raise FlashdeckError(c.path, c.line, "this card's entry in the build cache failed its integrity check and was dropped: run the build again")
            fields = media.rewrite(fields, self._names.get(c.key, {}))
            yield collection.PackNote(self._note_ids[i], guid(c.result.id), c.result.kind, self._mods[i], c.result.tags, fields, checksum(fields[0]))
        for i in at[len(alive):]:
            n = plan.retired[i - live]
            yield collection.PackNote(self._note_ids[i], guid(n.id), n.kind, self._mods[i], n.tags, n.fields, checksum(n.fields[0]))


def _row_digest(card_id: str, kind: str, mod: int, tags: tuple[str, ...], fields_digest: str, names: dict[str, str] | None) -> bytes:
    """16 bytes that change whenever anything in the note's row but its id does (its fields, by their digest)."""
    shown = repr(sorted(names.items())) if names else ""
    return hashlib.blake2b(f"{card_id}\0{kind}\0{mod}\0{' '.join(tags)}\0{fields_digest}\0{shown}".encode(), digest_size=16).digest()


def _cards(out: array, first: int, nid: int, ords: tuple[int, ...], did: int, mod: int, position: int) -> None:
    """Append a note's card rows (card id, note id, deck id, ordinal, mod, position) to `out`, in the order of `ords`.

    Card ids run from `first` in ordinal order (timed_ids).
    """
    if len(ords) == 1:
        out.extend((first, nid, did, ords[0], mod, position))
        return
    by_ord = {o: first + k for k, o in enumerate(sorted(ords))}
    for o in ords:
        out.extend((by_ord[o], nid, did, o, mod, position))


def _timestamp(plan: Plan, entries, mods: dict[str, int]) -> int:
    sde = source_date_epoch()
    if sde is not None:
        return sde
    times = [entries[c.result.id].changed for c in plan.live] + [entries[n.id].retired or 0 for n in plan.retired]
    return max([*mods.values(), *times], default=0)


def _unchanged(store: Store, plan: Plan) -> bool:
    """Whether the package in the output folder was written for `plan.digest` and not touched since.

    Then what writing it kept for the next rebuild (its working database, deflated chunks) is
    marked used, or the build's pruning would drop it and the next edit would pay a cold write.
    """
    record = store.get(_package_key(plan.report.path))
    if not isinstance(record, tuple) or len(record) != 4 or record[0] != plan.digest or not isinstance(record[3], tuple):
        return False
    try:
        st = plan.report.path.stat()
    except OSError:
        return False
    if (st.st_size, st.st_mtime_ns) != (record[1], record[2]):
        return False
    for key in record[3]:
        if isinstance(key, str):
            store.touch(key)
    return True


def remember(store: Store, plan: Plan) -> None:
    """Note what was written for `plan`, so the next build can leave an unchanged package alone."""
    try:
        st = plan.report.path.stat()
    except OSError:
        return
    store.put_value(_package_key(plan.report.path), (plan.digest, st.st_size, st.st_mtime_ns, plan.kept))


def _package_key(path: Path) -> str:
    return "p" + hashlib.sha256(str(path.resolve()).encode("utf-8", "surrogateescape")).hexdigest()


def stale(bundles: list[Bundle], old: Lock, out_dir: Path) -> list[Path]:
    """Packages this lock built before whose card files are gone (their cards retired or moved)."""
    current = {b.name for b in bundles}
    before = {e.package for e in old.entries.values() if e.package} - current
    return [out_dir / f"{name}.apkg" for name in sorted(before) if (out_dir / f"{name}.apkg").is_file()]


