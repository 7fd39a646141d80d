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
import sqlite3
import sys
from collections.abc import Iterable
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


SCHEMA = """
CREATE TABLE IF NOT EXISTS card (key TEXT PRIMARY KEY, result BLOB NOT NULL, rmac BLOB NOT NULL, fields BLOB, fmac BLOB);
CREATE TABLE IF NOT EXISTS blob (key TEXT PRIMARY KEY, value BLOB NOT NULL, mac BLOB NOT NULL);
"""


def open_cache(cards_dir: Path, writable: bool) -> tuple[sqlite3.Connection | None, bytes, Path]:
    """The cache of `cards_dir`: its database (None when there is none to use), the machine's key, and the folder beside it."""
    key = b""
    try:
        root = cache_root()
        name = hashlib.sha256(str(cards_dir.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:24]
        path = root / f"{name}.sqlite"
        key = machine_key(root, create=writable)
        if not key or (not writable and not path.exists()):
            return None, key, Path()
        db = sqlite3.connect(path, timeout=2) if writable else sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2)
        db.execute("PRAGMA synchronous = OFF")  # a lost entry is a miss, nothing worse (set before the tables: a new cache's were synced)
        if writable:
            db.executescript(SCHEMA)
        return db, key, root / f"{name}.files"
    except (OSError, sqlite3.Error):
        return None, key, Path()


def write_rows(db: sqlite3.Connection, cards: list[tuple], values: list[tuple]) -> None:
    """Write rows of both tables in one transaction (store.Store._flush)."""
    db.executemany("INSERT OR REPLACE INTO card VALUES (?, ?, ?, ?, ?)", cards)
    db.executemany("INSERT OR REPLACE INTO blob VALUES (?, ?, ?)", values)
    db.commit()


def prune(db: sqlite3.Connection, used: set[str], known: Iterable[str] | None) -> None:
    """Delete the rows no key in `used` names. `known`: every card key in `db` that may be unused, or None: ask the table."""
    if known is not None:
        db.executemany("DELETE FROM card WHERE key = ?", ((k,) for k in known if k not in used))
    else:
        db.execute("CREATE TEMP TABLE IF NOT EXISTS used (key TEXT PRIMARY KEY)")
        db.execute("DELETE FROM used")
        db.executemany("INSERT OR IGNORE INTO used VALUES (?)", ((k,) for k in used))
        db.execute("DELETE FROM card WHERE key NOT IN (SELECT key FROM used)")
    db.executemany("DELETE FROM blob WHERE key = ?", [(k,) for (k,) in db.execute("SELECT key FROM blob") if k not in used])


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


def rollback(db: sqlite3.Connection) -> None:
    """End a transaction the cache refused, so this connection holds no lock another build waits for."""
    try:
        db.rollback()
    except sqlite3.Error:
        pass


def scratch() -> sqlite3.Connection:
    """A throwaway database: SQLite's private temporary file (""), deleted when it is closed.

    Kept in a file, not in memory (temp_store): 100,000 cards' fields are hundreds of MB.
    """
    db = sqlite3.connect("")
    db.execute("PRAGMA temp_store = FILE")
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.executescript(SCHEMA)
    return db


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
