"""What the build cache is keyed and authenticated by: where it lives, this machine's secret, and the context every key shares.

store.py keeps the entries; this module says which entries may be trusted.
The cache folder is the user's cache folder (or FLASHDECK_CACHE_DIR), never
the cards folder. The secret (`key` there, owner-only) is made on this machine
and never leaves it, so an entry planted by anyone else fails its HMAC. The
context covers everything an entry depends on besides its card's text; an
entry's shape (`dump_result`) is versioned by FORMAT beside it.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import importlib.util
import marshal
import os
import re
import sys
from pathlib import Path

from .errors import Diagnostic
from .model import CardResult
from .version import __version__

FORMAT = b"flashdeck-store-4"
"""Bump when the shape of an entry changes (`dump_result`)."""
ENV = "FLASHDECK_CACHE_DIR"
_LIBRARIES = ("markdown", "pymdownx", "nh3", "pygments", "yaml", "anyascii", "Stemmer")
"""Modules whose version changes a card's result: its HTML, or (yaml, anyascii, Stemmer) its deck, tags and messages."""
_DISTS = {"pymdownx": "pymdown-extensions", "yaml": "PyYAML", "Stemmer": "PyStemmer"}
"""The distribution of each of those modules whose name differs from the module's."""


def cache_root() -> Path:
    """The folder holding every cards folder's cache file and the machine's key."""
    override = os.environ.get(ENV, "").strip()
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("flashdeck", appauthor=False))


BIG_VALUE = 1 << 16  # from this size a value is authenticated in place, not copied behind its key


def mac(secret: bytes, kind: bytes, key: str, data: bytes) -> bytes:
    """The MAC of an entry under `secret`: its kind, its key and its bytes."""
    head = kind + b"\0" + key.encode() + b"\0"
    if len(data) < BIG_VALUE:
        # Keyed BLAKE2b, a MAC by design (RFC 7693): on a card's 250 bytes it costs 40% of HMAC-SHA256, whose four
        # compressions a call dominate there (a rebuild checks every card's entry: 10,000 of them, 27-35 ms -> 14 ms).
        # From BIG_VALUE on, SHA-256 in the CPU's own instructions is the faster (a 15 MB value: 10 ms, not 27).
        return hashlib.blake2b(head + data, key=secret, digest_size=32).digest()
    h = hmac.new(secret, head, "sha256")
    h.update(data)  # (not joined first: a 100,000-card lock record is 15 MB)
    return h.digest()


def machine_key(root: Path, create: bool) -> bytes:
    """This machine's secret for the cache's HMACs, made on first use (owner-only)."""
    path = root / "key"
    try:
        return _read_key(path)
    except FileNotFoundError:
        if not create:
            return b""
    except OSError:
        return b""
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(os.urandom(32))
    except FileExistsError:
        pass  # another build made it first
    except OSError:
        return b""
    try:
        return _read_key(path)
    except OSError:
        return b""


def _read_key(path: Path) -> bytes:
    data = path.read_bytes()
    return data if len(data) == 32 else b""


@functools.cache  # once per process: flashdeck's source does not change under a running build
def context() -> bytes:
    """What every cache key shares: the entry format, flashdeck's version and source, and the libraries'."""
    h = hashlib.sha256(FORMAT + b"\0" + __version__.encode() + b"\0" + f"{sys.version_info[:2]}".encode())
    for lib in _LIBRARIES:
        h.update(f"{lib}={library_version(_DISTS.get(lib, lib), lib)}".encode() + b"\0")
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".html", ".css", ".js") and "__pycache__" not in path.parts:
            h.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.digest()


def library_version(dist: str, module: str) -> str:
    """The installed version of distribution `dist`, which holds `module` (not imported), or "?".

    Read from the name of the `.dist-info` folder beside the module (installers name it
    `name-version.dist-info`); importlib.metadata only where there is none, as for an editable
    install: importing it and asking is 30 ms, a twentieth of a one-card rebuild.
    """
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.origin:
        here = Path(spec.origin).parent
        versions = _dist_infos(str(here.parent if spec.submodule_search_locations is not None else here)).get(_normal(dist), [])
        if len(versions) == 1:
            return versions[0]
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


@functools.cache  # (the libraries mostly share one folder: listed once per process, as `context` is made once)
def _dist_infos(folder: str) -> dict[str, list[str]]:
    """The versions of the `.dist-info` folders in `folder`, by normalised distribution name."""
    try:
        names = os.listdir(folder)
    except OSError:
        names = []
    found: dict[str, list[str]] = {}
    for n in names:
        if n.endswith(".dist-info"):
            name, _, version = n[: -len(".dist-info")].rpartition("-")
            found.setdefault(_normal(name), []).append(version)
    return found


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()  # (how PyPA's names compare)


def dump_result(r: CardResult) -> bytes:
    """A card result as plain values (marshal): never code."""
    problems = tuple((d.line, d.message, d.severity, d.column, d.refs) for d in r.problems)
    return marshal.dumps((r.id, r.title, r.kind, r.tags, problems, r.rendered, r.images, r.hashes, r.digest, r.cloze, r.id_column, r.bad_id))


_NOWHERE = Path()


def load_result(data: bytes) -> CardResult | None:
    """`dump_result` read back, or None when the bytes are not one.

    Its tuples come back as tuples (marshal keeps the type): only problems need objects made
    (a rebuild reads every card's result: 10,000 of them in 28 ms, not 34 as when each tuple was made again).
    """
    try:
        values = marshal.loads(data)
        if values[4]:
            diags = tuple(Diagnostic(_NOWHERE, line, message, severity, column, tuple(refs)) for line, message, severity, column, refs in values[4])
            values = (*values[:4], diags, *values[5:])
        return CardResult(*values)
    except (ValueError, EOFError, TypeError, IndexError):
        return None
