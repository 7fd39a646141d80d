"""The per-file work of a build: read, parse, find images, render.

Each card file is handled on its own: taken from the cache when its bytes (and
flashdeck) are unchanged, else parsed and rendered, across processes when there
is enough of it to pay for starting them (Python-Markdown is pure Python, so
threads would not help). Results come back in file order, so the output never
depends on how the work was spread.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import itemcheck
from . import media as mediamod
from . import notetype
from .cache import Cache, dumps, key, loads
from .errors import Diagnostic, FlashdeckError
from .model import Card, Note, Section
from .parse import parse, read_source

PARALLEL_MIN_BYTES = 256 * 1024
"""Below this much source to parse and render (about 300 cards), one process is faster than starting more."""


@dataclass(frozen=True, slots=True)
class Job:
    path: Path
    rel: str
    """Path below the cards folder (the Source field)."""
    deck: str
    """Deck when the file's front matter names none."""


@dataclass(slots=True)
class FileResult:
    """Everything one card file yields."""

    path: Path
    cards: list[Card] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    """From reading and parsing."""
    media: dict[str, tuple[str, Path]] = field(default_factory=dict)
    """Image ref as written -> (packaged name, file), over the file's cards."""
    media_diagnostics: list[Diagnostic] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    render_diagnostics: list[Diagnostic] = field(default_factory=list)
    with_images: tuple[int, ...] = ()
    """Indexes of the cards that reference images: the only ones whose media is checked again on a cache hit."""
    key: str | None = None
    """The cache key this result was stored under (None: not cacheable)."""
    derived: list[tuple[dict[str, str], str, int]] = field(default_factory=list)
    """Per note: its lock field hashes, GUID and checksum, so a warm build need not compute them again."""


def process(
    jobs: list[Job],
    cards_dir: Path,
    cache: Cache,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
    slim: bool = False,
    meanwhile: Callable[[], None] | None = None,
) -> list[FileResult]:
    """A `FileResult` per job, in job order. `progress(n)` is called with the cards each finished file holds.

    With `slim`, big decks (SLIM_MIN_BYTES of sources) get their cards back
    without their Markdown (see `_slimmed`): a build past validation needs
    only the notes, and 100,000 cards' Markdown is 150 MB. `meanwhile()` is
    called while a forked process renders (see `_Ahead`), if one does.
    """
    mediamod.forget()
    results: list[FileResult | None] = [None] * len(jobs)
    keys: list[tuple[str | None, int]] = []
    for job in jobs:
        try:
            data = job.path.read_bytes()
        except OSError:
            keys.append((None, 0))  # read_source reports it
            continue
        keys.append((key(data, job.path, job.rel, job.deck), len(data)))
    lean = slim and not REMEMBER  # a build takes cached cards without their Markdown (see `_stored`)
    slim = slim and sum(size for _, size in keys) >= SLIM_MIN_BYTES
    todo: list[tuple[int, Job, str | None, int]] = []
    ahead = _render_ahead(jobs, keys, cards_dir, cache, workers)
    ahead_done: dict[int, FileResult] = {}
    try:
        for i, (job, (k, size)) in enumerate(zip(jobs, keys)):
            hit = None
            if ahead is not None and i in ahead.indexes:
                todo.append((i, job, k, size))
                continue
            if k is not None:
                hit = _MEMO.get(k) if cache.enabled else None
                if hit is not None:
                    cache.used.add(k)
                    cache.hits += 1
                else:
                    hit = cache.get(k)
            result = _refresh(hit, cards_dir, lean) if hit is not None else None
            if result is None:
                todo.append((i, job, k, size))
                continue
            results[i] = _slimmed(result) if slim else result
            if progress:
                progress(len(result.cards))
        if ahead is not None and meanwhile is not None:
            meanwhile()
    finally:
        if ahead is not None:
            ahead_done = ahead.collect()
    for i, result in ahead_done.items():
        results[i] = _slimmed(result) if slim else result
        if progress:
            progress(len(result.cards))
    for k in (k for i, _, k, _ in todo if i in ahead_done and k is not None):
        cache.used.add(k)
    todo = [t for t in todo if t[0] not in ahead_done]
    n = _worker_count(workers, sum(size for *_, size in todo), len(todo))
    args = [(job, str(cards_dir), k, str(cache.folder.parent) if cache.writable else None) for _, job, k, _ in todo]
    if n > 1:
        from concurrent.futures import ProcessPoolExecutor  # here: a rebuild need not import it

        with ProcessPoolExecutor(max_workers=n, mp_context=_context(), initializer=gc.enable) as pool:
            done = pool.map(_work_remote, args, chunksize=max(1, len(args) // (n * 8)))
            for (i, *_), data in zip(todo, done):
                result = loads(data)
                results[i] = _slimmed(result) if slim else result
                if progress:
                    progress(len(result.cards))
    else:
        for (i, *_), a in zip(todo, args):
            result = _work(a)
            results[i] = _slimmed(result) if slim else result
            if progress:
                progress(len(result.cards))
    for (_, _, k, _) in todo:
        if k is not None:
            cache.used.add(k)
    if cache.enabled and REMEMBER and not slim:
        _remember(jobs, results)
    return results  # type: ignore[return-value]


AHEAD_MIN_CACHED_BYTES = 1 * 2**20
"""Sources (about 700 cards) whose cache entries must be loaded before rendering the rest in a forked process pays."""


class _Ahead:
    """A forked process rendering the changed files while this one loads the cache entries of the others.

    A one-card edit of 10,000 cards renders one file (importing Markdown and
    rendering take 0.1 s) and loads 199 entries (0.1 s): on two cores both
    happen at once. The child sends its results back pickled (cache.dumps);
    if anything goes wrong there, `collect` returns nothing and the files are
    rendered here as usual.
    """

    def __init__(self, indexes: set[int], pid: int, fd: int) -> None:
        self.indexes = indexes
        self.pid = pid
        self.fd = fd

    def collect(self) -> dict[int, FileResult]:
        try:
            with os.fdopen(self.fd, "rb") as f:
                data = f.read()
        except OSError:
            data = b""
        _, status = os.waitpid(self.pid, 0)
        if status != 0 or not data:
            return {}
        try:
            results = loads(data)
        except Exception:  # noqa: BLE001 - a broken answer means "render here"
            return {}
        if not isinstance(results, list) or len(results) != len(self.indexes):
            return {}
        return dict(zip(sorted(self.indexes), results))


def _render_ahead(jobs: list[Job], keys: list[tuple[str | None, int]], cards_dir: Path, cache: Cache, workers: int | None) -> _Ahead | None:
    """Fork a process rendering the files without a cache entry, when there are few of them and many entries to load."""
    if not cache.enabled or workers is not None or not hasattr(os, "fork") or sys.platform == "darwin":
        return None
    absent, cached = [], 0
    for i, (k, size) in enumerate(keys):
        if k is not None and (k in _MEMO or os.path.exists(os.path.join(cache.folder, k))):
            cached += size
        else:
            absent.append(i)
    missing = sum(keys[i][1] for i in absent)
    if not absent or not cached or cached < AHEAD_MIN_CACHED_BYTES or missing >= PARALLEL_MIN_BYTES or not _single_threaded():
        return None
    args = [(jobs[i], str(cards_dir), keys[i][0], str(cache.folder.parent) if cache.writable else None) for i in absent]
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: render, answer, leave without running any exit handler
        code = 1
        try:
            os.close(r)
            data = dumps([_work(a) for a in args])
            with os.fdopen(w, "wb") as f:
                f.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    cache.misses += len(absent)
    return _Ahead(set(absent), pid, r)


SLIM_MIN_BYTES = 16 * 2**20
"""About 20,000 cards: below this, keeping their Markdown costs less than dropping it takes."""
_GONE = Section("", 0)


def _slimmed(result: FileResult) -> FileResult:
    """A copy whose cards keep what validation reads (id, title, place, deck, tags) but not their Markdown."""
    cards = [
        dataclasses.replace(c, question=_GONE, options=(), answer=None, explanation=None, references=None)
        for c in result.cards
    ]
    return dataclasses.replace(result, cards=cards)


REMEMBER = False
"""Keep the last build's results in memory (`build --watch` sets it): the next build needs no unpickling."""
_MEMO: dict[str, tuple[FileResult, str]] = {}


def _remember(jobs: list[Job], results: list[FileResult | None]) -> None:
    _MEMO.clear()
    for job, result in zip(jobs, results):
        if result is not None and result.key is not None:
            _MEMO[result.key] = (result, job.rel)


def _worker_count(requested: int | None, size: int, files: int) -> int:
    if requested is not None:
        return max(1, min(requested, files))
    if size < PARALLEL_MIN_BYTES or files < 2:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, files))


def _context():
    """fork where it is safe (no other threads): workers start in milliseconds with everything imported."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and (sys.version_info < (3, 12) or _single_threaded()):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


def _single_threaded() -> bool:
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def _work_remote(arg: tuple[Job, str, str | None, str | None]) -> bytes:
    """`_work` in a worker process, its result pickled the fast way (cache.dumps) for the trip back."""
    return dumps(_work(arg))


def _work(arg: tuple[Job, str, str | None, str | None]) -> FileResult:
    """Parse and render one file (in a worker or in-process); store the result when the file held still."""
    job, cards_dir_s, expected_key, cache_folder = arg
    cards_dir = Path(cards_dir_s)
    result = FileResult(job.path)
    try:
        before = job.path.read_bytes()
        text = read_source(job.path)
    except FlashdeckError as err:
        result.diagnostics.extend(err.diagnostics)
        return result
    source, diags = parse(text, job.path, job.deck)
    result.cards = list(source.cards)
    # Item-writing checks need each card's Markdown, which big builds drop after this (_slimmed);
    # their warnings are cached with the parser's.
    result.diagnostics = [*diags, *(d for card in source.cards for d in itemcheck.diagnostics(card))]
    result.with_images = tuple(i for i, c in enumerate(result.cards) if mediamod.image_refs(c))
    _collect_media(result, cards_dir)
    _render(result, job.rel)
    if cache_folder is not None and expected_key is not None:
        try:
            unchanged = job.path.read_bytes() == before and key(before, job.path, job.rel, job.deck) == expected_key
        except OSError:
            unchanged = False
        if unchanged:  # else the file changed while we read it: do not file this result under the old bytes
            result.key = expected_key
            Cache(Path(cache_folder)).put(expected_key, _stored(result, job.rel))
    return result


_SPLIT = "lean+cards"


def _stored(result: FileResult, rel: str):
    """A cache entry in two parts: the result with lean cards, and the cards whole.

    A build needs of a cached file only its notes and its cards' ids, titles and
    places (validate.py): it unpickles the first part alone, which skips the
    Markdown of every card (half the objects of an entry; 10,000 cards load in
    0.05 s instead of 0.09 s). Cards that show images stay whole in both: their
    images are checked again on every build.
    """
    keep = set(result.with_images)
    lean_cards = [c if i in keep else _lean_card(c) for i, c in enumerate(result.cards)]
    return (_SPLIT, dumps(dataclasses.replace(result, cards=lean_cards)), dumps(result.cards), rel)


def _lean_card(card: Card) -> Card:
    return dataclasses.replace(card, question=_GONE, options=(), answer=None, explanation=None, references=None)


def _refresh(entry, cards_dir: Path, lean: bool = False) -> FileResult | None:
    """A cached result with its images checked again; re-rendered when an image's content changed.

    With `lean`, a stored entry's cards come without their Markdown (see `_stored`).
    """
    whole = None
    try:
        if len(entry) == 4 and entry[0] == _SPLIT:
            _, lean_data, whole, rel = entry
            result = loads(lean_data)
            if not lean:
                result.cards, whole = loads(whole), None
        else:  # kept in memory by an earlier build (_MEMO)
            result, rel = entry
        if not isinstance(result, FileResult) or not isinstance(rel, str):
            return None
    except Exception:  # noqa: BLE001 - any damage means "not cached"
        return None
    if not result.with_images:
        return result
    old_names = {ref: name for ref, (name, _) in result.media.items()}
    _collect_media(result, cards_dir)
    if {ref: name for ref, (name, _) in result.media.items()} != old_names:
        if whole is not None:  # rendering needs every card's Markdown
            try:
                result.cards = loads(whole)
            except Exception:  # noqa: BLE001
                return None
        _render(result, rel)
    return result


def _collect_media(result: FileResult, cards_dir: Path) -> None:
    result.media, result.media_diagnostics = {}, []
    for i in result.with_images:
        found, diags = mediamod.collect(result.cards[i], cards_dir)
        result.media.update(found)
        result.media_diagnostics.extend(diags)


_RENDERER = None


def _render(result: FileResult, rel: str) -> None:
    global _RENDERER
    if _RENDERER is None:
        from .render import Renderer

        _RENDERER = Renderer()
    renderer = _RENDERER
    renderer.diagnostics = []
    names = {ref: name for ref, (name, _) in result.media.items()}
    result.notes = [renderer.note(card, rel, notetype.FIELDS, names) for card in result.cards]
    result.render_diagnostics = renderer.diagnostics
    from .lock import field_hashes
    from .package import checksum, guid

    result.derived = [(field_hashes(n, notetype.FIELDS), guid(n.id), checksum(n)) for n in result.notes]
    renderer.diagnostics = []
