"""The build cache: what one card file became last time, so an unchanged file is not parsed or rendered again.

An entry holds everything a card file yields (its cards, the parser's and
renderer's diagnostics, the rendered notes and the images it uses) under a key
that is the SHA-256 of

- the file's bytes, its path as given, and its place below the cards folder;
- the flashdeck version and a hash of flashdeck's own source files (so an
  edited checkout never reuses output of older code);
- the versions of Markdown, pymdown-extensions, nh3 and Pygments (the
  rendering options live in flashdeck's source, so they are covered above),
  of genanki (an entry keeps each note's GUID), of PyYAML (the deck and
  tags read from front matter) and of anyascii (ids suggested in messages).

A build also keeps here the deflated chunks of each package's collection
(`z…` entries, package.ParallelDeflate) and what it takes from genanki
(`g…`, package._genanki_facts), so a rebuild neither deflates unchanged
chunks again nor imports genanki.

Images are checked on every build: an entry is only used when the files its
cards show still have the same content (see `batch.py`).

The cache is `.flashdeck-cache/` inside the cards folder (hidden, so never read
as cards; git-ignored), one file per entry. It is safe to delete at any time.
An entry that does not load, or that holds another key or format, is ignored
and rewritten; entries no build uses any more are deleted after each build, so
the folder stays the size of the sources. A warm build gives the same bytes as
a cold one (tests/test_cache.py).
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import sys
import tempfile
from pathlib import Path

from . import __version__

CACHE_DIR = ".flashdeck-cache"
FORMAT = b"flashdeck-cache-1"
"""Bump when the shape of an entry changes."""
_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# flashdeck build cache; safe to delete.\n"
"""CACHEDIR.TAG (bford.info/cachedir): backup tools skip the folder."""

_ALLOWED = {
    ("flashdeck.model", "Card"),
    ("flashdeck.model", "Section"),
    ("flashdeck.model", "Option"),
    ("flashdeck.model", "Note"),
    ("flashdeck.errors", "Diagnostic"),
    ("flashdeck.batch", "FileResult"),
    ("pathlib", "PosixPath"),
    ("pathlib", "WindowsPath"),
    ("pathlib", "PurePosixPath"),
    ("pathlib", "PureWindowsPath"),
}


class _Unpickler(pickle.Unpickler):
    """Loads only our own plain data classes: an entry planted in the folder cannot run code."""

    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a cache entry")
        return super().find_class(module, name)


def dumps(value) -> bytes:
    """Pickle `value`; our dataclasses as `Class(*fields)`."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _dispatch_table()
    pickler.dump(value)
    return buffer.getvalue()


def loads(data: bytes):
    """Unpickle what `dumps` wrote, refusing any class but ours."""
    return _Unpickler(io.BytesIO(data)).load()


_DISPATCH: dict | None = None


def _dispatch_table() -> dict:
    """Pickle our dataclasses as `Class(*fields)`: loads 2x faster than dataclasses' own __setstate__."""
    global _DISPATCH
    if _DISPATCH is None:
        import copyreg
        import dataclasses
        import importlib

        _DISPATCH = copyreg.dispatch_table.copy()
        for module, name in _ALLOWED:
            cls = getattr(importlib.import_module(module), name)
            if dataclasses.is_dataclass(cls):
                names = tuple(f.name for f in dataclasses.fields(cls))
                _DISPATCH[cls] = lambda obj, names=names: (type(obj), tuple([getattr(obj, n) for n in names]))
    return _DISPATCH


_CONTEXT: bytes | None = None


def context() -> bytes:
    """What every key shares: cache format, flashdeck version and source, renderer library versions."""
    global _CONTEXT
    if _CONTEXT is None:
        h = hashlib.sha256(FORMAT + b"\0" + __version__.encode() + b"\0")
        h.update(f"{sys.version_info[:2]}".encode())
        for lib in _library_versions():
            h.update(lib.encode() + b"\0")
        package = Path(__file__).resolve().parent
        for path in sorted(package.rglob("*")):
            if path.suffix in (".py", ".html", ".css", ".js") and "__pycache__" not in path.parts:
                h.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
        _CONTEXT = h.digest()
    return _CONTEXT


_LIBRARIES = {"markdown": "markdown", "pymdownx": "pymdown_extensions", "nh3": "nh3", "pygments": "pygments", "genanki": "genanki", "yaml": "pyyaml", "anyascii": "anyascii"}
"""Module -> distribution whose version changes rendered HTML (or, for genanki, the GUIDs and collection schema kept in the cache;
for PyYAML, the decks, tags and messages read from front matter; for anyascii, the ids suggested in messages)."""


def _library_versions() -> list[str]:
    """`module=<its dist-info folder name>` for each library, found without importing it.

    A warm build then never imports Markdown (importing the renderer stack
    costs as much as loading every cached entry of 10,000 cards).
    """
    import importlib.util

    out = []
    for module, dist in _LIBRARIES.items():
        spec = importlib.util.find_spec(module)
        found: list[str] = []
        if spec is not None and spec.origin:
            origin = Path(spec.origin)
            site = origin.parent.parent if spec.submodule_search_locations else origin.parent
            try:
                found = sorted(n for n in os.listdir(site) if n.lower().startswith(dist + "-") and n.endswith((".dist-info", ".egg-info")))
            except OSError:
                pass
        if not found:  # an unusual install: ask the module itself
            lib = importlib.import_module(module)
            found = [str(getattr(lib, "__version__", "?"))]
        out.append(f"{module}={','.join(found)}")
    return out


def key(data: bytes, path: Path, rel: str, default_deck: str) -> str:
    """The entry key of a card file with these bytes at this place."""
    h = hashlib.sha256(context())
    for part in (str(path), rel, default_deck):
        h.update(part.encode("utf-8", "surrogateescape") + b"\0")
    h.update(data)
    return h.hexdigest()


class Cache:
    """Entries of one cards folder. Every failure to read or write is a miss, never an error."""

    def __init__(self, cards_dir: Path, enabled: bool = True, read_only: bool = False) -> None:
        self.folder = Path(cards_dir) / CACHE_DIR
        self.enabled = enabled
        self.writable = enabled and not read_only
        """`check` only reads the cache: it promises to write nothing."""
        self.used: set[str] = set()
        self.hits = 0
        self.misses = 0

    def get(self, k: str):
        """The value stored under `k`, or None (missing, corrupt, foreign or of another format)."""
        if not self.enabled:
            return None
        self.used.add(k)
        try:
            raw = (self.folder / k).read_bytes()
        except OSError:
            self.misses += 1
            return None
        try:
            fmt, stored_key, value = loads(raw)
        except Exception:  # noqa: BLE001 - any damage means "not cached"
            fmt, stored_key, value = None, None, None
        if fmt != FORMAT or stored_key != k:
            self.misses += 1
            return None
        self.hits += 1
        return value

    def put(self, k: str, value) -> None:
        """Store `value` under `k` (write to a temp file, then rename: readers never see half an entry)."""
        if not self.writable:
            return
        self.used.add(k)
        try:
            self._ensure_folder()
            data = dumps((FORMAT, k, value))
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=self.folder)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(tmp, self.folder / k)
            except BaseException:
                _unlink(Path(tmp))
                raise
        except (OSError, pickle.PicklingError):
            self.writable = False  # a read-only or full disk: build without storing

    def prune(self) -> None:
        """Delete entries this run did not use (older versions of the files, removed files, other flashdeck code)."""
        if not self.writable or not self.folder.is_dir():
            return
        try:
            names = os.listdir(self.folder)
        except OSError:
            return
        for name in names:
            if name not in self.used and name != "CACHEDIR.TAG":
                _unlink(self.folder / name)

    def _ensure_folder(self) -> None:
        if not self.folder.is_dir():
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / "CACHEDIR.TAG").write_text(_TAG, encoding="utf-8")


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass
