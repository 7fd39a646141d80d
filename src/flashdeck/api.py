"""The public pipeline: `build`, `check` and `notes`, each the steps in order.

discover -> read and cut each file into cards (scan) -> per card: parse,
validate, render (cardwork) -> rules across cards, images, the lock
(validate, media) -> stamps (lock) -> packages (package) -> write.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import (
    cardwork,
    continuity,
    discover,
    executor,
    lock,
    lockfile,
    lockread,
    lockrecord,
    media,
    memory,
    notetype,
    parse,
    plan,
    retire,
    sources,
    validate,
)
from .errors import ERROR, BuildError, CardError, Diagnostic, FlashdeckError
from .lock import build_time
from .lockfile import LOCK_NAME, Lock
from .model import Card, Note, Placed
from .plan import PackageReport
from .session import Session
from .store import Store
from .write import atomic_write_all

WARM_WORKERS_FROM = 4 * 2**20
"""From this much Markdown (about 5,000 cards) a rebuild reads its cards and their results for longer than
workers take to start and load Python-Markdown (35 ms), so it starts them first; below, they would hold it up."""

Progress = Callable[[str, int, int], None]
"""`progress(stage, done, total)`: stage "cards" counts cards, "write" counts packages."""


@dataclass(slots=True)
class CheckReport:
    """What `check` found: the cards, the problems (warnings only: errors raise), and what a build would bring."""

    cards: int
    packages: int
    warnings: list[Diagnostic]
    change: lock.Change
    cached: int = 0
    """Cards whose result came from the cache (or, in --watch, from the last build)."""


@dataclass(slots=True)
class BuildReport:
    packages: list[PackageReport] = field(default_factory=list)
    change: lock.Change = field(default_factory=lock.Change)
    warnings: list[Diagnostic] = field(default_factory=list)
    wrote: bool = True
    removed: list[Path] = field(default_factory=list)
    """Packages of card files that are gone, deleted from the output folder."""
    cards: int = 0
    cached: int = 0


@dataclass(slots=True)
class _Prepared:
    """A cards folder read, checked and compared with its lock: everything but the packages."""

    bundles: list[discover.Bundle]
    cards: list[Placed]
    names: dict[str, dict[str, str]]
    """Card key -> {image src: packaged name}, for cards that show images."""
    media: dict[str, dict[str, Path]]
    """Package -> {packaged name: file}."""
    warnings: list[Diagnostic]
    old: Lock
    new: Lock
    change: lock.Change
    retired: dict[str, list[Note]]
    """Package -> the notices of retired cards it carries (retire.py)."""
    cached: int
    store: Store


def check(cards_dir: Path, strict: bool = False, *, progress: Progress | None = None, use_cache: bool = True, session: Session | None = None) -> CheckReport:
    """Validate (and render, so unsafe HTML is reported) without writing anything in the project."""
    with _session(session) as s:
        p = _prepare(Path(cards_dir), strict, s, progress, use_cache, writable=False)
        return CheckReport(len(p.cards), len(p.bundles), p.warnings, p.change, p.cached)


def build(
    cards_dir: Path,
    out_dir: Path,
    strict: bool = False,
    dry_run: bool = False,
    *,
    progress: Progress | None = None,
    use_cache: bool = True,
    session: Session | None = None,
) -> BuildReport:
    """Build one .apkg per top-level file or folder of `cards_dir` into `out_dir`.

    Nothing is written unless every package can be built: each .apkg is written
    to a temp file and moved into place; the lock file is updated last. A
    package whose content did not change is left as it is. With `dry_run`,
    only the change against the lock is computed.
    """
    cards_dir, out_dir = Path(cards_dir), Path(out_dir)
    with _session(session) as s:
        p = _prepare(cards_dir, strict, s, progress, use_cache, writable=not dry_run, out_dir=out_dir)
        report = BuildReport(change=p.change, warnings=p.warnings, wrote=not dry_run, cards=len(p.cards), cached=p.cached)
        plans = plan.plans(p.bundles, p.cards, p.retired, p.media, p.new, p.store, out_dir)
        changed = [pl for pl in plans if not pl.report.unchanged]
        report.packages = [pl.report for pl in plans]
        jobs = [] if dry_run else plan.writers(changed, p.names, p.new, p.store, lambda: s.facts(p.store), s.workers, _told(progress, len(changed)))
        lock_path = cards_dir / LOCK_NAME
        digest = p.new.digest()  # (compared and written a line at a time: 100,000 cards' lock is 30 MB)
        if lockfile.file_digest(lock_path) != digest:
            jobs.append((lock_path, p.new.write))
            # Kept now, while the build holds less than once the packages are made (100,000 cards' record is
            # 23 MB): made after writing, it raised the peak by 20-35 MB, more than the second encoding costs.
            key = lockrecord.key(digest)
            p.store.put_value(key, lockread.record(p.new, canonical=True))  # (the next build reads it from there)
            p.store.keep(key, p.new)  # (or, in this session, takes it as it is)
        elif session is None:
            # Nothing after this reads the lock file's lines again: 100,000 cards' are 32 MB, held through the
            # packaging otherwise (a fresh clone's build peaked at 357 MB over its processes). A session keeps
            # them, so that its next build writes the lock by copying them.
            p.new.lines = p.old.lines = None
        report.removed = plan.stale(p.bundles, p.old, out_dir)
        if not dry_run:
            try:
                atomic_write_all(jobs, report.removed)
            except OSError as exc:
                where = Path(exc.filename) if exc.filename else out_dir
                raise CardError(where, 0, f"cannot write ({exc.strerror or exc}): check that the folder is writable, or choose another with --out") from None
            for pl in changed:
                plan.remember(p.store, pl)
            p.store.commit(prune=True)
        if progress is not None:
            progress("write", len(changed), len(changed))
        if session is not None:  # (it outlives this build, and kept its high-water mark: 100,000 cards in one file under --watch 456-462 MB, 420 with this)
            memory.give_back()
        return report


def notes(cards_dir: Path, strict: bool = False, *, session: Session | None = None) -> tuple[list[Note], dict[str, Path], list[Diagnostic]]:
    """Every live card's note (fields as packaged), the images they show by packaged name, and the warnings."""
    with _session(session) as s:
        p = _prepare(Path(cards_dir), strict, s, None, True, writable=False)
        out = [_note(c, f, p.names.get(c.key)) for c, f in zip(p.cards, p.store.fields([c.key for c in p.cards]))]
        images = {name: path for by_name in p.media.values() for name, path in by_name.items()}
        return out, images, p.warnings


def cards(cards_dir: Path) -> list[Card]:
    """Every card of `cards_dir` as parsed (the records, with their lines), in package and file order."""
    cards_dir = Path(cards_dir)
    bundles, problems = discover.discover(cards_dir)
    out = []
    for f in sources.read(cards_dir, bundles, problems):
        out += [parse.card(c.text.decode("utf-8", "replace"), c.line, f.ctx) for c in f.chunks]  # (parse.file, cut already)
    errors = [d for d in problems if d.is_error and d.line == 0 or "not UTF-8" in d.message]
    if errors:
        raise BuildError(errors)
    return out


# --- the steps ----------------------------------------------------------------


def _prepare(cards_dir: Path, strict: bool, s: Session, progress: Progress | None, use_cache: bool, writable: bool, out_dir: Path | None = None) -> _Prepared:
    bundles, problems = discover.discover(cards_dir)
    store = s.store(cards_dir, use_cache, writable)
    cold = store.empty()
    size = discover.size(bundles) if cold or writable else 0  # (a `check` of a warm cache renders here: no stat of every file)
    if executor.worth_workers(size, 2, executor.cpus()) and (cold or size >= WARM_WORKERS_FROM):
        # Before the sources are read, so the workers do not carry them (100,000 cards: -300 MB). They load
        # Python-Markdown while this process reads: 1,000 cards cold 0.59 s -> 0.53 s (12 runs each), and
        # a rebuild's few changed cards are rendered there, not after a start-up of their own here. One
        # worker does for those: two loading at once slowed this process's reading by a third.
        s.workers().start(cardwork.warm, None if cold else 1)
    files = sources.read(cards_dir, bundles, problems, store)
    cards, unreadable = cardwork.run(
        files, store, s.renderer, s.workers,
        (lambda done, total: progress("cards", done, total)) if progress is not None else None,
    )
    shown = {(c.path, c.line) for c in cards if c.result.images}
    texts = {(f.ctx.path, ch.line): ch.text for f in files for ch in f.chunks if (f.ctx.path, ch.line) in shown}
    del files  # past here only the text of cards with images is read (validate.images); 100,000 cards: 100 MB
    memory.give_back()
    cached = store.hits
    problems += unreadable
    for c in cards:
        problems += [d.placed(c.path, c.line - 1) for d in c.result.problems]
    lock_path = cards_dir / LOCK_NAME
    old = _old_lock(lock_path, bundles, out_dir, problems, store)
    problems += validate.across(cards, cards_dir, set(old.entries))
    problems += validate.packages({c.package for c in cards}, discover.folders(bundles), cards_dir, bool(cards), any(d.is_error for d in problems))
    cards, names, images = _images(cards, texts, cards_dir, store, s, problems)
    problems += continuity.against_lock(cards, old)
    _raise_problems(problems, strict)
    new, change = lock.update(old, cards, {nt.kind: nt.fingerprint for nt in notetype.all_types()}, build_time(), lambda: lock.released_lock(lock_path))
    decks: dict[str, set[str]] = {}
    for c in cards:
        decks.setdefault(c.package, set()).add(c.deck)
    retired, unshipped = retire.place(new, decks, lock_path)
    problems += unshipped
    _raise_problems(unshipped, strict)
    return _Prepared(bundles, cards, names, images, problems, old, new, change, retired, cached, store)


def _images(cards: list[Placed], texts: dict[tuple[Path, int], bytes], cards_dir: Path, store: Store, s: Session, problems: list[Diagnostic]):
    """Resolve every image the cards show: package it under its content hash, or report it (validate.images).

    `texts`: the text of each card that shows images, by (path, line).
    """
    names: dict[str, dict[str, str]] = {}
    images: dict[str, dict[str, Path]] = {}
    with_images = [c for c in cards if c.result.images]
    if not with_images:
        return cards, names, images
    root = cards_dir.resolve()
    real: dict[Path, Path] = {}  # (resolved once a build: a symlink changed under --watch is seen by the next)
    finished: dict[str, Placed] = {}
    fields_of = dict(zip([c.key for c in with_images], store.fields([c.key for c in with_images])))
    for c in with_images:
        found = [media.resolve(src, c.path.parent, root, lambda path, st: s.image_name(store, path, st), real) for src in c.result.images]
        text = texts[(c.path, c.line)].decode("utf-8", "replace").split("\n")
        problems += validate.images(c, found, list(enumerate(text, start=c.line)), cards_dir)
        ok = {img.src: img.name for img in found if img.status == media.OK}
        names[c.key] = ok
        for img in found:
            if img.status == media.OK:
                images.setdefault(c.package, {})[img.name] = img.path
        fields = fields_of.get(c.key)
        if fields is not None and len(ok) == len(found):
            finished[c.key] = replace(c, result=cardwork.finish(c.result, media.rewrite(fields, ok)))
    return [finished.get(c.key, c) for c in cards], names, images


def _old_lock(lock_path: Path, bundles: list[discover.Bundle], out_dir: Path | None, problems: list[Diagnostic], store: Store) -> Lock:
    """The lock as the last build left it; a missing one is an error where git has it, a warning where packages exist."""
    try:
        old = lockread.read(lock_path, cache=store)
    except FlashdeckError as err:
        problems += err.diagnostics
        return Lock()
    if old is not None:
        return old
    if lock.released_lock(lock_path) is not None:
        problems.append(Diagnostic(lock_path, 0, (
            "the lock file is missing but git has it: restore it (git checkout -- the file); without it every card "
            "looks new to learners and the next release overwrites their own edits"
        ), ERROR))
    elif out_dir is not None:
        built = [out_dir / f"{b.name}.apkg" for b in bundles if (out_dir / f"{b.name}.apkg").exists()]
        if built:
            problems.append(Diagnostic(lock_path, 0, (
                f"there is no lock file, but {built[0]} exists: if that package was ever given to learners, restore the "
                "lock from where you keep it, or every card looks new and the next release overwrites their own edits"
            ), "warning"))
    return Lock()


def _raise_problems(diags: list[Diagnostic], strict: bool) -> None:
    """One BuildError with every problem, warnings included, when any is an error (or any at all with strict)."""
    if any(d.is_error for d in diags) or (strict and diags):
        raise BuildError([d.as_error() if strict else d for d in diags])


def _note(c: Placed, fields, names) -> Note:
    fields = media.rewrite(fields or (), names or {})
    r = c.result
    return Note(r.id or "", r.kind, c.deck, r.title, fields, r.tags, r.ords, c.path, c.line)


def _told(progress: Progress | None, total: int) -> Callable[[int], Callable[[], None]]:
    """`told(n)`: what to call as the n-th of `total` packages starts being written."""
    if progress is None:
        return lambda n: lambda: None
    return lambda n: lambda: progress("write", n, total)


def _session(session: Session | None):
    """The caller's session, or one for this call only."""
    return nullcontext(session) if session is not None else Session()


