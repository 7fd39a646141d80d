"""The build cache's SQLite: its two tables, opening it, and which databases a store reads and writes.

cachekey.py says where the cache lives and which entries may be trusted;
this module only moves rows. Writes never wait on a sync: a lost entry is a
miss, nothing worse.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from .cachekey import cache_root, machine_key

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
    """Write rows of both tables in one transaction (Tables.write)."""
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


class Tables:
    """The databases one store reads and writes.

    `main` is the cache (None without one). New rows go to `out`: the cache
    when it is writable, else a scratch database, so `check` and `--no-cache`
    keep this session's entries without touching the cache. Rows the cache
    refuses (locked past the timeout, a full disk) go to a spare scratch file
    this session reads too: a miss for the next build, never a failure
    (without their fields, its results would stop it).
    """

    def __init__(self, main: sqlite3.Connection | None, writable: bool) -> None:
        self.main = main
        self.writes = writable and main is not None
        self.out: sqlite3.Connection | None = main if self.writes else scratch()
        self.spare: sqlite3.Connection | None = None

    def write(self, rows: list[tuple], values: list[tuple]) -> None:
        """Write rows of both tables in one short transaction: no build holds the cache locked while another waits."""
        try:
            write_rows(self.out, rows, values)
        except sqlite3.Error:
            if not self.writes:
                raise
            rollback(self.main)
            if self.spare is None:
                self.spare = scratch()
            write_rows(self.spare, rows, values)

    def all(self, writable_only: bool = False) -> list[sqlite3.Connection]:
        """Where to look for a row, in order (`out` first: this session's own); with `writable_only`, where rows are kept."""
        dbs = [self.out] if self.out is not None else []
        if self.spare is not None and not writable_only:
            dbs.append(self.spare)
        if self.main is not None and self.main is not self.out and not writable_only:
            dbs.append(self.main)
        return dbs

    def close(self) -> None:
        for db in self.all():
            try:
                db.close()
            except sqlite3.Error:
                pass
        self.main = self.out = self.spare = None
