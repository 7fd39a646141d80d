"""Where a build keeps what each card became, and the build cache that remembers it between builds.

Every card's result (`CardResult`, small) and its rendered fields (large) go
into one SQLite file; a build holds only the results in memory and reads the
fields back when it packages, so 100,000 cards never sit in memory as HTML.

The cache is that file kept between builds, one per cards folder, outside it
(cachekey.py: where it lives, what its keys cover, the machine's secret). Each
entry carries an HMAC under that secret: one planted or edited by anyone else
fails the check and is ignored, so what ships depends only on the sources and
the lock. Entries hold plain values (marshal), never code, SQL or a note type.

Every failure to read or write the cache is a miss, never an error, with
one exception: fields are checked when they are packaged, after their result
was taken, so fields altered under an intact result stop that build with a
message and are dropped (the next build renders the card again). The cache
is safe to delete at any time, and a build without it (`--no-cache`) gives
the same bytes.
"""

from __future__ import annotations

import hmac
import marshal
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

from . import cachedb, cachefiles, cachekey
from .cachekey import dump_result as _dump_result
from .cachekey import load_result as _load_result
from .model import CardResult

BATCH = 500
"""Rows written or read per statement."""
SCAN_FROM = 2000
"""Keys asked at once from which one pass over the table beats looking each up (a third of the time on 10,000)."""
QUEUED_BYTES = 8 << 20  # values queued from which they are written before the batch of rows is full

class Store:
    """The results and fields of one build, backed by the cache of its cards folder when there is one.

    `persist=False` (`--no-cache`): nothing is read from or written to the
    cache. `writable=False` (`check`): the cache is read, new entries are kept
    for this session only. A session (`build --watch`) keeps its store open
    and the results in memory between builds; `commit` after each build,
    `close` at the end.
    """

    def __init__(self, cards_dir: Path, persist: bool = True, writable: bool = True) -> None:
        self.hits = 0
        self._memo: dict[str, CardResult] = {}
        self._objects: dict[str, object] = {}
        self._used: set[str] = set()
        self._present: set[str] | None = None  # (card rows as the last prune left them: a session prunes without asking the table)
        self._stale: list[str] | None = None  # (card rows this build's one pass over the table did not ask for)
        self._pending: list[tuple] = []
        self._values: dict[str, tuple[bytes, bytes]] = {}  # (values not written yet: key -> (value, MAC))
        self._queued = 0
        self._marked = False
        self._key = b""
        self._files: cachefiles.Files | None = None
        db = None
        if persist:
            db, self._key, folder = cachedb.open_cache(Path(cards_dir), writable)
            if db is not None:
                self._files = cachefiles.Files(folder, self._key)  # (read by `check` too; written only when writable)
        self._tables = cachedb.Tables(db, writable)  # (where rows are read and written: the cache, a scratch, a spare)

    # -- card results -------------------------------------------------------

    def results(self, keys: Iterable[str]) -> dict[str, CardResult]:
        """The known results among `keys`: kept in memory by this session, or cached intact and authentic."""
        keys = list(keys)
        self._used.update(keys)
        found = {k: self._memo[k] for k in keys if k in self._memo}
        self.hits += len(found)
        keys = [k for k in keys if k not in found]
        if self._db is None or not keys:
            return found
        before = len(found)
        wanted = {k: k for k in keys}  # (results are kept under the caller's key objects, not the rows' copies: 100,000 cards, 11 MB)
        try:
            if len(keys) >= SCAN_FROM:
                batches = [self._scan(wanted)]
            else:
                batches = (self._db.execute(f"SELECT key, result, rmac FROM card WHERE key IN ({','.join('?' * len(b))})", b) for b in _batches(keys))
            for rows in batches:
                for key, data, mac in rows:
                    if hmac.compare_digest(mac, self._mac(b"r", key, data)):
                        result = _load_result(data)
                        if result is not None:
                            found[wanted[key]] = result
        except sqlite3.Error:
            pass
        self.hits += len(found) - before
        self._memo.update(found)
        return found

    def _scan(self, wanted: dict[str, str]) -> Iterator[tuple]:
        """One pass over the card rows: those in `wanted`; the keys of the others are noted for `commit`."""
        stale = self._stale = []
        for row in self._db.execute("SELECT key, result, rmac FROM card"):
            if row[0] in wanted:
                yield row
            else:
                stale.append(row[0])

    def empty(self) -> bool:
        """Whether no card result of this flashdeck is known: a cold build, or the first after an upgrade
        (keys do not show their context, so `commit` leaves a mark of it; without, the workers of such a
        build started late, from a parent holding it: 773 MB over the processes, not 500)."""
        if self._memo:
            return False
        if self.get(_context_mark()) is None:
            return True
        try:
            return self._db is None or self._db.execute("SELECT 1 FROM card LIMIT 1").fetchone() is None
        except sqlite3.Error:
            return True

    def touch(self, key: str) -> None:
        """Mark `key` as used by this build (so pruning keeps it)."""
        self._used.add(key)

    def put(self, key: str, result: CardResult, fields: tuple[str, ...] | None) -> None:
        """Keep `result` and its fields under `key` (the cache too when it is writable)."""
        self._used.add(key)
        self._memo[key] = result
        data = _dump_result(result)
        fdata = marshal.dumps(fields) if fields is not None else None
        self._pending.append((key, data, self._mac(b"r", key, data), fdata, self._mac(b"f", key, fdata) if fdata is not None else None))
        if len(self._pending) >= BATCH:
            self._flush()

    def fields(self, keys: list[str]) -> Iterator[tuple[str, ...] | None]:
        """The fields kept under each of `keys`, in order (None where there are none or they were altered)."""
        self._flush()
        for batch in _batches(keys):
            got: dict[str, tuple[str, ...]] = {}
            for db in self._tables.all():
                want = [k for k in batch if k not in got]
                if not want:
                    break
                try:
                    rows = db.execute(f"SELECT key, fields, fmac FROM card WHERE key IN ({','.join('?' * len(want))})", want)
                    for key, data, mac in rows:
                        if data is not None and hmac.compare_digest(mac, self._mac(b"f", key, data)):
                            got[key] = marshal.loads(data)
                        elif data is not None:
                            self._forget(key)
                except (sqlite3.Error, ValueError, EOFError, TypeError):
                    continue
            for k in batch:
                yield got.get(k)

    def _forget(self, key: str) -> None:
        """Drop an entry whose fields fail their check, so the next build renders its card again."""
        self._memo.pop(key, None)
        if self._writes:
            try:
                self._db.execute("DELETE FROM card WHERE key = ?", (key,))
                self._db.commit()  # (now: the build stops with this card's message)
            except sqlite3.Error:
                pass

    def _flush(self) -> None:
        """Write the queued rows (cachedb.Tables.write: rows the cache refuses are a miss next time, not a failure)."""
        if not self._pending and not self._values:
            return
        rows, self._pending = self._pending, []
        values, self._values, self._queued = [(k, *v) for k, v in self._values.items()], {}, 0
        self._tables.write(rows, values)

    # -- other entries (deflated chunks, image digests, package records) ---

    def get(self, key: str):
        """A plain value kept with `put_value`, or None."""
        self._used.add(key)
        row = self._values.get(key)
        for db in self._tables.all() if row is None else ():
            try:
                row = db.execute("SELECT value, mac FROM blob WHERE key = ?", (key,)).fetchone()
            except sqlite3.Error:
                continue
            if row is not None:
                break
        if row is None:
            return None
        data = row[0]
        if not data and self._files is not None:  # kept in a file beside the cache (put_value)
            data = self._files.read_value(key)
            if data is None:
                return None
        if hmac.compare_digest(row[1], self._mac(b"b", key, data)):
            try:
                return marshal.loads(data)
            except (ValueError, EOFError, TypeError):
                return None
        return None

    def put_value(self, key: str, value) -> None:
        self._used.add(key)
        data = marshal.dumps(value, 2)  # (version 2 keeps no memo of every object written: 100,000 cards' lock record is 300,000 of them)
        mac = self._mac(b"b", key, data)
        if len(data) >= cachefiles.BIG_FILE and self._writes and self._files.write_value(key, data):
            data = b""  # (in a file: cachefiles.py)
        self._values[key] = (data, mac)
        self._queued += len(data)
        if self._queued >= QUEUED_BYTES:
            self._flush()

    def _mac(self, kind: bytes, key: str, data: bytes) -> bytes:
        return cachekey.mac(self._key or b"scratch", kind, key, data)

    def keep(self, key: str, value) -> None:
        """Keep `value` in memory for this session's next builds, never in the cache (the lock: 50 ms to remake at 10,000 cards)."""
        self._objects[key] = value

    def recall(self, key: str):
        """What `keep` put under `key` in this session, or None (marks `key` used)."""
        if key in self._objects:
            self._used.add(key)
        return self._objects.get(key)

    # -- big files kept beside the cache (collection.py) --------------------

    def files(self, key: str) -> cachefiles.Files | None:
        """The folder beside the cache, for a file kept under `key` (its MAC goes in a value); None without a writable cache."""
        if not self._writes:
            return None
        self._used.add(key)
        return self._files

    # -- closing -------------------------------------------------------------

    def commit(self, prune: bool = False) -> None:
        """Keep what this build made; with `prune`, drop what it did not use (in memory and in the cache)."""
        try:
            if self._writes and not self._marked:
                self.put_value(_context_mark(), 1)  # (what `empty` asks for; once a session, kept by every prune)
                self._marked = True
            self.touch(_context_mark())
            self._flush()
            if prune:
                self._memo = {k: v for k, v in self._memo.items() if k in self._used}
                self._objects = {k: v for k, v in self._objects.items() if k in self._used}
                known = self._present if self._present is not None else self._stale
                for db in self._tables.all(writable_only=True):
                    cachedb.prune(db, self._used, known if db is self._db else None)
            for db in self._tables.all(writable_only=True):
                db.commit()
            if prune and self._writes:
                self._files.prune(self._used)
            if prune:
                self._present = self._used  # (what the cache holds now, as far as this session knows; `_used` starts anew below)
        except (sqlite3.Error, OSError):
            self._present = None  # (not known to be right any more: the next prune asks the table)
            for db in self._tables.all(writable_only=True):
                cachedb.rollback(db)  # (a prune another build kept from its end is tried again by the next build)
        self._used, self._stale = set(), None
        self.hits = 0

    @property
    def _db(self) -> sqlite3.Connection | None:
        """The cache (None without one)."""
        return self._tables.main

    @property
    def _writes(self) -> bool:
        """Whether this store writes the cache."""
        return self._tables.writes

    def close(self) -> None:
        self._tables.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is None:
            self.commit(prune=True)
        self.close()


def _context_mark() -> str:
    return "C" + cachekey.context().hex()


def _batches(keys: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(keys), BATCH):
        yield keys[i : i + BATCH]

