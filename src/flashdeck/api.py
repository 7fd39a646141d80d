"""The public pipeline: `build`, `check` and `notes`, each the steps in order.

discover -> read and cut each file into cards (scan) -> per card: parse,
validate, render (cardwork) -> rules across cards, images, the lock
(validate, media) -> stamps (lock) -> packages (package) -> write.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import cardwork, discover, lock, lockfile, media, notetype, package, parse, retire, scan, validate
from .errors import ERROR, BuildError, CardError, Diagnostic, FlashdeckError
from .frontmatter import read as read_front_matter
from .identity import checksum, deck_id, guid, timed_ids
from .lockfile import LOCK_NAME, Lock
from .model import Card, FileContext, Note, Placed
from .session import Session
from .store import Store, context
from .write import atomic_write_all

Progress = Callable[[str, int, int], None]
"""`progress(stage, done, total)`: stage "cards" counts cards, "write" counts packages."""


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

    cards_dir: Path
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
        plans = _plan(p, out_dir)
        jobs = []
        changed = [plan for plan in plans if not plan.report.unchanged]
        report.packages = [plan.report for plan in plans]
        for n, plan in enumerate(changed):
            jobs.append((plan.report.path, _producer(plan, p, s, progress, n, len(changed))))
        lock_path = cards_dir / LOCK_NAME
        text = p.new.dumps().encode("utf-8")
        if _read_or_none(lock_path) != text:
            jobs.append((lock_path, lambda f: f.write(text)))
        report.removed = _stale(p, out_dir)
        if not dry_run:
            try:
                atomic_write_all(jobs, report.removed)
            except OSError as exc:
                where = Path(exc.filename) if exc.filename else out_dir
                raise CardError(where, 0, f"cannot write ({exc.strerror or exc}): check that the folder is writable, or choose another with --out") from None
            for plan in plans:
                if not plan.report.unchanged:
                    _remember_package(p.store, plan)
            p.store.commit(prune=True)
        if progress is not None:
            progress("write", len(changed), len(changed))
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
    for f in _read(cards_dir, bundles, problems):
        out += [parse.card(c.text.decode("utf-8", "replace"), c.line, f.ctx) for c in f.chunks]  # (parse.file, cut already)
    errors = [d for d in problems if d.is_error and d.line == 0 or "not UTF-8" in d.message]
    if errors:
        raise BuildError(errors)
    return out


# --- the steps ----------------------------------------------------------------


def _prepare(cards_dir: Path, strict: bool, s: Session, progress: Progress | None, use_cache: bool, writable: bool, out_dir: Path | None = None) -> _Prepared:
    bundles, problems = discover.discover(cards_dir)
    files = _read(cards_dir, bundles, problems)
    store = s.store(cards_dir, use_cache, writable)
    cards, unreadable = cardwork.run(
        files, store, s.renderer, s.workers,
        (lambda done, total: progress("cards", done, total)) if progress is not None else None,
    )
    cached = store.hits
    problems += unreadable
    for c in cards:
        problems += [d.placed(c.path, c.line - 1) for d in c.result.problems]
    lock_path = cards_dir / LOCK_NAME
    old = _old_lock(lock_path, bundles, out_dir, problems)
    problems += validate.across(cards, cards_dir, set(old.entries))
    problems += validate.packages({c.package for c in cards}, discover.folders(bundles), cards_dir, bool(cards), any(d.is_error for d in problems))
    cards, names, images = _images(cards, files, cards_dir, store, s, problems)
    problems += validate.against_lock(cards, old)
    _raise_problems(problems, strict)
    new, change = lock.update(old, cards, {nt.kind: nt.fingerprint for nt in notetype.all_types()}, build_time(), lambda: lock.released_lock(lock_path))
    decks: dict[str, set[str]] = {}
    for c in cards:
        decks.setdefault(c.package, set()).add(c.deck)
    retired, unshipped = retire.place(new, decks, lock_path)
    problems += unshipped
    _raise_problems(unshipped, strict)
    return _Prepared(cards_dir, bundles, cards, names, images, problems, old, new, change, retired, cached, store)


def _read(cards_dir: Path, bundles: list[discover.Bundle], problems: list[Diagnostic]) -> list[cardwork.SourceFile]:
    """Each card file read, its front matter understood, and cut into cards; file-level problems into `problems`."""
    files = []
    for bundle in bundles:
        for path in bundle.files:
            rel = discover.relpath(path, cards_dir)
            try:
                data = scan.load(path)
            except FlashdeckError as err:
                problems += err.diagnostics
                continue
            if not data.strip():
                problems.append(validate.empty_file(path))
                continue
            split = scan.split(data)
            front = _front_matter(path, data, split, problems)
            ctx = FileContext(path, rel, front.deck or discover.default_deck_name(rel), front.tags, bool(front.shuffle))
            labels = [_label(c.text) for c in split.chunks]
            problems += validate.file(path, split, labels)
            files.append(cardwork.SourceFile(ctx, bundle.name, split.chunks))
    return files


def _front_matter(path: Path, data: bytes, split: scan.Split, problems: list[Diagnostic]):
    if split.front is None:
        return read_front_matter([])
    head = data.split(b"\n", split.body_start)[: split.body_start]
    try:
        lines = [line.decode("utf-8") for line in head]
    except UnicodeDecodeError:
        problems.append(Diagnostic(path, 1, "front matter is not UTF-8: save the file again with UTF-8 encoding", ERROR))
        return read_front_matter([])
    front = read_front_matter(lines)
    problems += [Diagnostic(path, p.line, p.message, p.severity, p.column) for p in front.problems]
    return front


def _label(chunk: bytes) -> str:
    heading = chunk.split(b"\n", 1)[0].decode("utf-8", "replace")
    content = scan.atx(heading, 2)
    title, candidate, _ = scan.split_id(content[0] if content else "")
    from .identity import ID_RE

    if candidate and ID_RE.fullmatch(candidate):
        return f"card '{candidate}'"
    return f"card '{title or '(untitled)'}'"


def _images(cards: list[Placed], files: list[cardwork.SourceFile], cards_dir: Path, store: Store, s: Session, problems: list[Diagnostic]):
    """Resolve every image the cards show: package it under its content hash, or report it (validate.images)."""
    names: dict[str, dict[str, str]] = {}
    images: dict[str, dict[str, Path]] = {}
    with_images = [c for c in cards if c.result.images]
    if not with_images:
        return cards, names, images
    root = cards_dir.resolve()
    sources = {(f.ctx.path, ch.line): ch.text for f in files for ch in f.chunks}
    finished: dict[str, Placed] = {}
    fields_of = dict(zip([c.key for c in with_images], store.fields([c.key for c in with_images])))
    for c in with_images:
        found = [media.resolve(src, c.path.parent, root, lambda path, st: s.image_name(store, path, st)) for src in c.result.images]
        text = sources[(c.path, c.line)].decode("utf-8", "replace").split("\n")
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


def _old_lock(lock_path: Path, bundles: list[discover.Bundle], out_dir: Path | None, problems: list[Diagnostic]) -> Lock:
    """The lock as the last build left it; a missing one is an error where git has it, a warning where packages exist."""
    try:
        old = lockfile.read(lock_path)
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


# --- packages -------------------------------------------------------------------


@dataclass(slots=True)
class _Plan:
    name: str
    live: list[Placed]
    retired: list[Note]
    decks: dict[str, int]
    media: dict[str, Path]
    digest: str
    report: PackageReport


def _plan(p: _Prepared, out_dir: Path) -> list[_Plan]:
    """Per package: its notes (live, then retired), decks, media and a digest of everything its bytes depend on."""
    live: dict[str, list[Placed]] = {}
    for c in p.cards:
        live.setdefault(c.package, []).append(c)
    retired = p.retired
    sde = source_date_epoch()
    plans = []
    for bundle in p.bundles:
        cards = live.get(bundle.name, [])
        gone = retired.get(bundle.name, [])
        decks = {d: deck_id(d) for d in sorted({c.deck for c in cards} | {n.deck for n in gone})}
        images = p.media.get(bundle.name, {})
        h = hashlib.sha256(context() + b"package\0" + repr(sde).encode())
        for nt in notetype.all_types():
            h.update(f"{nt.kind}:{nt.fingerprint}:{p.new.notetypes.get(nt.kind)}\0".encode())
        for c in cards:
            e = p.new.entries[c.result.id]
            h.update(f"{c.result.id}\0{c.result.digest}\0{e.added}\0{e.changed}\0{c.deck}\0{' '.join(c.result.tags)}\0{c.result.ords}\0".encode())
        for n in gone:
            e = p.new.entries[n.id]
            h.update(f"{n.id}\0{n.fields}\0{n.deck}\0{e.added}\0{e.retired}\0{n.ords}\0".encode())
        for name in sorted(images):
            h.update(name.encode() + b"\0")
        h.update(repr(sorted(decks.items())).encode())
        target = out_dir / f"{bundle.name}.apkg"
        report = PackageReport(target, sorted({c.deck for c in cards}), len(cards), len(gone))
        plan = _Plan(bundle.name, cards, gone, decks, images, h.hexdigest(), report)
        report.unchanged = _unchanged(p.store, plan)
        plans.append(plan)
    return plans


def _producer(plan: _Plan, p: _Prepared, s: Session, progress: Progress | None, n: int, total: int):
    def produce(f) -> None:
        if progress is not None:
            progress("write", n, total)
        entries = p.new.entries
        kinds = {c.result.kind for c in plan.live} | {note.kind for note in plan.retired}
        mods = {k: p.new.notetypes[k][1] for k in sorted(kinds)}
        written = package.write(
            f, _pack_notes(plan, p), plan.decks, mods, plan.media,
            _timestamp(plan, entries, mods), s.facts(), p.store, context(),
        )
        r = plan.report
        r.deflate, r.chunks_deflated, r.chunks_reused = written.deflate, written.chunks_deflated, written.chunks_reused

    return produce


def _pack_notes(plan: _Plan, p: _Prepared) -> Iterator[package.PackNote]:
    """The package's notes in order, fields read from the store as they are written (never all in memory)."""
    entries = p.new.entries
    ids = timed_ids([(entries[c.result.id].added, c.result.id) for c in plan.live] + [(entries[n.id].added, n.id) for n in plan.retired])
    card_ids = timed_ids(
        [(entries[c.result.id].added, (c.result.id, o)) for c in plan.live for o in c.result.ords]
        + [(entries[n.id].added, (n.id, o)) for n in plan.retired for o in n.ords]
    )
    for c, fields in zip(plan.live, p.store.fields([c.key for c in plan.live])):
        if fields is None:
            raise FlashdeckError(c.path, c.line, "internal: the rendered card went missing from the build store; run the build again")
        fields = media.rewrite(fields, p.names.get(c.key, {}))
        r, e = c.result, entries[c.result.id]
        did = plan.decks[c.deck]
        yield package.PackNote(ids[r.id], guid(r.id), r.kind, e.changed, r.tags, fields, checksum(fields[0]), tuple((card_ids[(r.id, o)], o, did) for o in r.ords))
    for n in plan.retired:
        e = entries[n.id]
        did = plan.decks[n.deck]
        yield package.PackNote(ids[n.id], guid(n.id), n.kind, e.retired or e.changed, n.tags, n.fields, checksum(n.fields[0]), tuple((card_ids[(n.id, o)], o, did) for o in n.ords))


def _timestamp(plan: _Plan, entries, mods: dict[str, int]) -> int:
    sde = source_date_epoch()
    if sde is not None:
        return sde
    times = [entries[c.result.id].changed for c in plan.live] + [entries[n.id].retired or 0 for n in plan.retired]
    return max([*mods.values(), *times], default=0)


def _note(c: Placed, fields, names) -> Note:
    fields = media.rewrite(fields or (), names or {})
    r = c.result
    return Note(r.id or "", r.kind, c.deck, r.title, fields, r.tags, r.ords, c.path, c.line)


def _unchanged(store: Store, plan: _Plan) -> bool:
    record = store.get(_package_key(plan.report.path))
    if not isinstance(record, tuple) or len(record) != 3 or record[0] != plan.digest:
        return False
    try:
        st = plan.report.path.stat()
    except OSError:
        return False
    return (st.st_size, st.st_mtime_ns) == (record[1], record[2])


def _remember_package(store: Store, plan: _Plan) -> None:
    try:
        st = plan.report.path.stat()
    except OSError:
        return
    store.put_value(_package_key(plan.report.path), (plan.digest, st.st_size, st.st_mtime_ns))


def _package_key(path: Path) -> str:
    return "p" + hashlib.sha256(str(path.resolve()).encode("utf-8", "surrogateescape")).hexdigest()


def _stale(p: _Prepared, out_dir: Path) -> list[Path]:
    """Packages this lock built before whose card files are gone (their cards retired or moved)."""
    current = {b.name for b in p.bundles}
    before = {e.package for e in p.old.entries.values() if e.package} - current
    return [out_dir / f"{name}.apkg" for name in sorted(before) if (out_dir / f"{name}.apkg").is_file()]


def _read_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _session(session: Session | None):
    """The caller's session, or one for this call only."""
    if session is not None:
        from contextlib import nullcontext

        return nullcontext(session)
    return Session()


# --- time -------------------------------------------------------------------------


def source_date_epoch() -> int | None:
    """SOURCE_DATE_EPOCH (the reproducible-builds convention) as an int, or None when unset."""
    sde = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not sde:
        return None
    try:
        value = int(sde)
    except ValueError:
        raise FlashdeckError("SOURCE_DATE_EPOCH", 0, f"SOURCE_DATE_EPOCH must be a whole number of seconds, not '{sde[:30]}'") from None
    if value < 0:
        raise FlashdeckError("SOURCE_DATE_EPOCH", 0, f"SOURCE_DATE_EPOCH must not be negative, not '{sde}'")
    if value > time.time() + lockfile.FUTURE_MARGIN:
        raise FlashdeckError("SOURCE_DATE_EPOCH", 0, (
            f"SOURCE_DATE_EPOCH {sde[:30]} lies in the future (is it in milliseconds?): it must be seconds since 1970, "
            "such as $(git log -1 --format=%ct); a future stamp would overwrite learners' copies at every import"
        ))
    return value


def build_time() -> int:
    """SOURCE_DATE_EPOCH when set (reproducible builds), else now."""
    sde = source_date_epoch()
    return sde if sde is not None else int(time.time())
