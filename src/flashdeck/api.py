"""The public pipeline: discover -> parse -> validate -> render -> package -> write.

`build()` and `check()` are what the CLI and build.py call.
"""

from __future__ import annotations

import functools
import gc
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import batch, notetype
from . import lock as lockmod
from .batch import Job
from .cache import Cache
from .discover import Bundle, default_deck_name, discover, relpath
from .errors import WARNING, BuildError, Diagnostic, FlashdeckError
from .model import Card, Note
from .package import write_apkg
from .validate import empty_packages, validate
from .write import atomic_write_all

RETIRED_TAG = "flashdeck::retired"

Progress = Callable[[str, int, int], None]
"""`progress(stage, done, total)`: stage "read" counts card files, "write" counts packages."""


@dataclass(slots=True)
class Loaded:
    """Parsed and validated sources of a cards folder."""

    cards_dir: Path
    bundles: list[Bundle]
    cards: dict[str, list[Card]]
    """Bundle name -> its cards in source order."""
    media: dict[tuple[Path, str], tuple[str, Path]]
    """(card file, ref as written) -> (packaged name, file on disk)."""
    warnings: list[Diagnostic]
    notes: dict[str, list[Note]] | None = None
    """Bundle name -> its cards rendered, in source order (None: not rendered yet)."""
    render_warnings: list[Diagnostic] = field(default_factory=list)
    """What the sanitizer removed while rendering `notes`."""
    cache: Cache | None = None
    """The build cache these sources were read through (a build also keeps the package's deflated chunks in it)."""
    derived: dict[str, tuple[dict[str, str], str, int]] = field(default_factory=dict)
    """Card id -> its lock field hashes, GUID and checksum, computed when it was rendered."""


@dataclass(slots=True)
class PackageReport:
    path: Path
    decks: list[str]
    cards: int
    retired: int


@dataclass(slots=True)
class BuildReport:
    packages: list[PackageReport] = field(default_factory=list)
    change: lockmod.Change = field(default_factory=lockmod.Change)
    warnings: list[Diagnostic] = field(default_factory=list)
    wrote: bool = True


def load(cards_dir: Path, strict: bool = False, *, progress: Progress | None = None, use_cache: bool = True) -> Loaded:
    """Read, parse and validate every card file. Raises BuildError listing every problem.

    Reads a build's cache (cache.py) but, like `check`, writes nothing.
    """
    loaded, diags = _collect(cards_dir, progress, use_cache, write_cache=False)
    _raise_problems(diags, strict)
    loaded.warnings = diags
    return loaded


def _collect(
    cards_dir: Path,
    progress: Progress | None = None,
    use_cache: bool = True,
    write_cache: bool = True,
    slim: bool = False,
    prune: bool = True,
    meanwhile: Callable[[], None] | None = None,
) -> tuple[Loaded, list[Diagnostic]]:
    """Parse, validate and render everything; return what was found and every problem, raising nothing.

    Each file is parsed and rendered on its own (batch.py): from the cache when
    unchanged, in parallel when there is much to do. With `slim` (build), the
    cards of a big deck come back without their Markdown: validate() reads only
    their ids, titles and places, and the notes carry the rendered fields.
    """
    cards_dir = Path(cards_dir)
    bundles = discover(cards_dir)
    jobs = [Job(path, relpath(path, cards_dir), default_deck_name(relpath(path, cards_dir))) for b in bundles for path in b.files]
    cache = Cache(cards_dir, enabled=use_cache, read_only=not write_cache)
    done = 0

    def advance(_cards: int) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress("read", done, len(jobs))

    results = iter(batch.process(jobs, cards_dir, cache, advance, slim=slim, meanwhile=meanwhile))
    if prune:  # else the caller prunes once it has used the cache too
        cache.prune()
    if progress is not None:
        progress("cached", cache.hits, len(jobs))
    diags: list[Diagnostic] = []
    media_diags: list[Diagnostic] = []
    cards: dict[str, list[Card]] = {}
    notes: dict[str, list[Note]] = {}
    media: dict[tuple[Path, str], tuple[str, Path]] = {}
    render_warnings: list[Diagnostic] = []
    derived: dict[str, tuple[dict[str, str], str, int]] = {}
    for bundle in bundles:
        found: list[Card] = []
        rendered: list[Note] = []
        for _ in bundle.files:
            result = next(results)
            diags.extend(result.diagnostics)
            found.extend(result.cards)
            rendered.extend(result.notes)
            media_diags.extend(result.media_diagnostics)
            render_warnings.extend(result.render_diagnostics)
            if len(result.derived) == len(result.notes):
                derived.update(zip([n.id for n in result.notes], result.derived))
            for ref, value in result.media.items():
                media[(result.path, ref)] = value
        cards[bundle.name] = found
        notes[bundle.name] = rendered
    all_cards = [c for group in cards.values() for c in group]
    diags.extend(validate(all_cards, cards_dir))
    diags.extend(empty_packages(cards, {b.name: cards_dir / b.name for b in bundles if (cards_dir / b.name).is_dir()}))
    diags.extend(media_diags)
    if not all_cards and not any(d.is_error for d in diags):
        diags.append(Diagnostic(cards_dir, 0, f"no cards found in '{cards_dir}': add a Markdown file with '## Title {{#id}}' cards"))
    return Loaded(cards_dir, bundles, cards, media, [], notes, render_warnings, cache, derived), diags


def _raise_problems(diags: list[Diagnostic], strict: bool) -> None:
    """One BuildError with every problem, warnings included, when any is an error (or any at all with strict)."""
    if any(d.is_error for d in diags) or (strict and diags):
        raise BuildError([_as_error(d) if strict else d for d in diags])


def _checked(
    cards_dir: Path,
    strict: bool,
    progress: Progress | None = None,
    use_cache: bool = True,
    write_cache: bool = True,
    slim: bool = False,
    prune: bool = True,
    meanwhile: Callable[[], None] | None = None,
) -> tuple[Loaded, dict[str, list[Note]]]:
    """Load, validate and render: the sanitizer's warnings join the parser's in the same run."""
    loaded, diags = _collect(cards_dir, progress, use_cache, write_cache, slim, prune, meanwhile)
    notes = render_notes(loaded, diags)
    _raise_problems(diags, strict)
    loaded.warnings = diags
    return loaded, notes


def _as_error(d: Diagnostic) -> Diagnostic:
    return Diagnostic(d.path, d.line, d.message, "error", d.column)


def _gc_paused(fn):
    """Run `fn` with Python's cycle collector paused (restored after).

    A build makes millions of small acyclic objects (cards, notes, lock
    entries) that reference counting frees; the collector only re-scans them,
    again and again as they pile up: a tenth of a rebuild of 10,000 cards.
    Render workers turn it back on (batch.py).
    """

    @functools.wraps(fn)
    def paused(*args, **kwargs):
        was = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if was:
                gc.enable()

    return paused


@_gc_paused
def check(cards_dir: Path, strict: bool = False, *, progress: Progress | None = None, use_cache: bool = True) -> Loaded:
    """Validate (and render, so unsafe HTML is reported) without writing anything; a build's cache is read."""
    return _checked(cards_dir, strict, progress, use_cache, write_cache=False)[0]


def render_notes(loaded: Loaded, diagnostics: list[Diagnostic] | None = None) -> dict[str, list[Note]]:
    """Every card's note, by package; what the sanitizer removed goes into `diagnostics`."""
    if loaded.notes is not None:  # rendered while loading (batch.py)
        if diagnostics is not None:
            diagnostics.extend(loaded.render_warnings)
        return loaded.notes
    from .render import Renderer

    renderer = Renderer()
    out: dict[str, list[Note]] = {}
    for bundle in loaded.bundles:
        notes = []
        for card in loaded.cards[bundle.name]:
            media = {ref: name for (path, ref), (name, _) in loaded.media.items() if path == card.path}
            notes.append(renderer.note(card, relpath(card.path, loaded.cards_dir), notetype.FIELDS, media))
        out[bundle.name] = notes
    if diagnostics is not None:
        diagnostics.extend(renderer.diagnostics)
    return out


def source_date_epoch() -> int | None:
    """SOURCE_DATE_EPOCH (the reproducible-builds convention) as an int, or None when unset."""
    sde = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not sde:
        return None
    try:
        value = int(sde)
    except ValueError:
        raise FlashdeckError("SOURCE_DATE_EPOCH", 0, f"SOURCE_DATE_EPOCH must be a whole number of seconds, not '{sde}'") from None
    if value < 0:
        raise FlashdeckError("SOURCE_DATE_EPOCH", 0, f"SOURCE_DATE_EPOCH must not be negative, not '{sde}'")
    return value


def build_time() -> int:
    """SOURCE_DATE_EPOCH when set (reproducible builds), else now."""
    sde = source_date_epoch()
    return sde if sde is not None else int(time.time())


@_gc_paused
def build(
    cards_dir: Path,
    out_dir: Path,
    strict: bool = False,
    dry_run: bool = False,
    *,
    progress: Progress | None = None,
    use_cache: bool = True,
) -> BuildReport:
    """Build one .apkg per top-level file or folder of `cards_dir` into `out_dir`.

    Nothing is written unless every package can be built: each .apkg is written
    to a temp file and moved into place; the lock file is updated last.
    With `dry_run`, only the change summary against the lock is computed.
    `progress` is told how far reading and writing got; `use_cache=False`
    parses and renders every file anew (the cache is described in cache.py).
    """
    cards_dir, out_dir = Path(cards_dir), Path(out_dir)
    lock_path = cards_dir / lockmod.LOCK_NAME
    early: list = []

    def read_lock_early() -> None:
        """Read the lock while a forked process renders the edited files (batch.py); any error is raised later, in turn."""
        try:
            early.append(lockmod.read_lock(lock_path))
        except FlashdeckError as err:
            early.append(err)

    loaded, notes_by_bundle = _checked(cards_dir, strict, progress, use_cache, slim=True, prune=dry_run, meanwhile=read_lock_early)
    cache = loaded.cache if not dry_run else None
    all_notes = [n for notes in notes_by_bundle.values() for n in notes]
    if early and isinstance(early[0], FlashdeckError):
        raise early[0]
    old_lock = early[0] if early else lockmod.read_lock(lock_path)
    packages = {n.id: name for name, notes in notes_by_bundle.items() for n in notes}
    sde = source_date_epoch()
    known = {cid: d[0] for cid, d in loaded.derived.items()}
    new_lock, change = lockmod.update(old_lock, all_notes, notetype.FIELDS, notetype.fingerprint(), build_time(), packages, known)
    guids = {cid: d[1:] for cid, d in loaded.derived.items()}
    retired_by_bundle, unshipped = _place_retired(new_lock, notes_by_bundle, lock_path)
    lock_warnings = [*change.warnings, *unshipped]
    if strict and lock_warnings:
        raise BuildError([_as_error(d) for d in lock_warnings])
    report = BuildReport(change=change, warnings=[*loaded.warnings, *lock_warnings], wrote=not dry_run)
    stamps = new_lock.entries  # each entry has the `added` and `changed` of a package.Stamp
    jobs: list = []
    total = len(loaded.bundles)

    def package_job(done, notes, retired, media):
        def produce(f):
            if progress is not None:
                progress("write", done, total)
            write_apkg(f, [*notes, *retired], stamps, new_lock.notetype_changed, media, sde, cache, guids)

        return produce

    for done, bundle in enumerate(loaded.bundles):
        notes = notes_by_bundle[bundle.name]
        retired = retired_by_bundle.get(bundle.name, [])
        files = set(bundle.files)
        media = {name: path for (card_path, _), (name, path) in loaded.media.items() if card_path in files}
        target = out_dir / f"{bundle.name}.apkg"
        jobs.append((target, package_job(done, notes, retired, media)))
        decks = sorted({n.deck for n in notes})
        report.packages.append(PackageReport(target, decks, len(notes), len(retired)))
    if not dry_run:
        # All packages and the lock change together or not at all: a failure in
        # the second package must not leave the first one new and the lock old.
        atomic_write_all(_with_lock(jobs, new_lock, lock_path))
        if cache is not None:
            cache.prune()
    if progress is not None:
        progress("write", total, total)
    return report


def _with_lock(jobs: list, lock: lockmod.Lock, lock_path: Path):
    """`jobs`, then writing the lock file when its text changed.

    The lock's text (3 MB for 10,000 cards) is made on a thread while the
    packages are written: SQLite and zlib let go of the GIL for much of that.
    """
    import threading

    answer: list = []

    def text() -> None:
        try:
            data = lock.dumps().encode("utf-8")
            try:
                same = lock_path.read_bytes() == data
            except FileNotFoundError:
                same = False
            answer.append((data, same))
        except BaseException as exc:  # noqa: BLE001 - raised again below, in the caller's thread
            answer.append(exc)

    thread = threading.Thread(target=text, daemon=True)
    thread.start()
    try:
        yield from jobs
    finally:
        thread.join()
    if isinstance(answer[0], BaseException):
        raise answer[0]
    data, same = answer[0]
    if not same:
        yield lock_path, lambda f: f.write(data)


def _place_retired(
    lock: lockmod.Lock, notes_by_bundle: dict[str, list[Note]], lock_path: Path
) -> tuple[dict[str, list[Note]], list[Diagnostic]]:
    """Retired notes by package, and a warning for each that no package can carry.

    A retired card goes back into the package it was last built into, so the
    learner's copy gets the notice and the tag; when that package is gone, into
    the first package (by name) that still builds its deck.
    """
    deck_home: dict[str, str] = {}
    for name in sorted(notes_by_bundle):
        for n in notes_by_bundle[name]:
            deck_home.setdefault(n.deck, name)
    placed: dict[str, list[Note]] = {}
    unshipped = []
    for entry in sorted(lock.entries.values(), key=lambda e: e.id):
        if entry.retired is None:
            continue
        home = entry.package if entry.package in notes_by_bundle else deck_home.get(entry.deck)
        if home is None:
            unshipped.append(Diagnostic(lock_path, 0, (
                f"retired card '{entry.id}' is not shipped: no package builds its package '{entry.package}' or its deck "
                f"'{entry.deck}' any more, so learners who have it will not see it marked retired; delete its line "
                "from the lock file to stop this warning"
            ), WARNING))
            continue
        placed.setdefault(home, []).append(_retired_note(entry))
    return placed, unshipped


def _retired_note(entry: lockmod.Entry) -> Note:
    """The note a learner gets for a card its author removed: same GUID, a notice, the retired tag.

    Its modification time is the retirement time (from the lock), so it replaces
    the learner's copy once; the card and its review history stay.
    """
    title = entry.title or entry.id
    when = time.strftime("%Y-%m-%d", time.gmtime(entry.retired or entry.changed))
    fields = {
        "ID": _esc(entry.id),
        "Question": f"{_esc(title)} <em>(retired)</em>",
        "Options": "",
        "Answer": f"The author removed this card from the deck on {when}.",
        "Explanation": (
            "It is kept so your review history stays intact. Find such cards with the tag "
            f"<code>{RETIRED_TAG}</code> and suspend or delete them when you wish."
        ),
        "References": "",
        "Source": "",
    }
    return Note(
        id=entry.id,
        deck=entry.deck,
        title=title,
        fields=tuple(fields[name] for name in notetype.FIELDS),
        tags=(RETIRED_TAG,),
        path=Path(),
        line=0,
        retired=True,
    )


def _esc(s: str) -> str:
    import html

    return html.escape(s)
