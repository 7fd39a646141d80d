"""Reading a lock file strictly: every line checked, or the record the build cache kept of these very bytes.

A damaged lock could make flashdeck overwrite learners' edits or keep a fix
from them, so nothing in it is taken on trust: an empty file, a merge
conflict, a value of the wrong type, or a time in the future is an error at
its line (lockcheck.py says what is wrong), never a silent "no lock" or a
traceback. The records and how they are written are in lockfile.py.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from array import array
from dataclasses import fields
from pathlib import Path

from . import lockcheck, lockrecord
from .errors import CardError
from .identity import ID_RE
from .lockfile import FUTURE_MARGIN, VERSION, Entry, Lines, Lock


def read(path: Path, now: int | None = None, cache=None) -> Lock | None:
    """The lock at `path`, or None when there is none. Raises CardError naming the line at fault.

    `cache` (a store.Store, or None) remembers what these bytes held: 10,000 lines are read
    and checked once, not at every build.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CardError(path, 0, f"cannot read the lock file ({exc.strerror or exc}): check its permissions") from None
    digest = hashlib.sha256(data).digest()
    key = lockrecord.key(digest)
    kept = cache.recall(key) if cache is not None else None
    if isinstance(kept, Lock) and kept.latest <= _limit(now):  # (a session's last lock: these very bytes)
        return kept
    known = cache.get(key) if cache is not None else None
    lock = loads(data, path, now, known)
    if cache is not None:
        if known is None:
            canonical = lock.digest() == digest
            cache.put_value(key, record(lock, canonical))
            if canonical:
                _keep_lines(lock, data)
        cache.keep(key, lock)
    return lock


def _limit(now: int | None) -> int:
    """The latest time a lock may hold (later is a clock that was wrong, or an edit)."""
    return (int(time.time()) if now is None else now) + FUTURE_MARGIN


def loads(data: bytes, path: Path, now: int | None = None, known=None) -> Lock:
    """The lock in `data` (read from `path`). `known` is what `record` made of these very bytes
    before (the build cache keeps it), or None: then every line is read and checked."""
    limit = _limit(now)
    lock = _from_record(known, data, limit)
    if lock is not None:
        return lock
    lockcheck.whole(data, path)  # (a pass of its own: a merge conflict is named before any of its lines is parsed)
    lock, batch = Lock(), []
    for n, line in lockcheck.lines(data, path):
        if line.strip() and not line.startswith("#"):
            batch.append((n, line))
            if len(batch) == _BATCH:
                _add(lock, batch, path, limit)
                batch = []
    _add(lock, batch, path, limit)
    return lock


_BATCH = 2000
"""Lines parsed at once: one json.loads over many lines is twice as fast as one per line, and a
batch, not the whole file, keeps the parsed objects of 100,000 lines (200 MB) from being held at once."""


def _add(lock: Lock, numbered: list[tuple[int, str]], path: Path, limit: int) -> None:
    """The entries (and header) of these lines into `lock`, each checked."""
    try:
        objs = json.loads("[" + ",".join(line for _, line in numbered) + "]")
        if len(objs) != len(numbered):
            raise ValueError("a line holds more than one value")
    except ValueError:
        objs = [lockcheck.json_object(line, path, n) for n, line in numbered]
    for (n, _), obj in zip(numbered, objs):
        if not isinstance(obj, dict):
            raise CardError(path, n, "lock file line is not an object; restore it from version control")
        if "flashdeck_lock" in obj:
            lock.notetypes.update(lockcheck.header(obj, VERSION, path, n, limit))
            continue
        e = _entry(obj, path, n, limit)
        if e.id in lock.entries:
            raise CardError(path, n, f"lock file lists card '{e.id}' twice; restore it from version control")
        lock.entries[e.id] = e


def record(lock: Lock, canonical: bool) -> tuple:
    """`lock` in plain values, for the build cache to keep under the file's bytes (lockrecord.py);
    `canonical`: those bytes are exactly `lock.dumps()`."""
    entries = list(lock.entries.values())
    columns = ((name, [getattr(e, name) for e in entries]) for name in _FIELDS)
    return lockrecord.encode(columns, len(entries), lock.notetypes, lock.latest, canonical)


_FIELDS = tuple(f.name for f in fields(Entry))
"""Entry's fields in the order of its constructor."""


def _from_record(known, data: bytes, limit: int) -> Lock | None:
    """The lock `record` kept for `data`, or None when there is none or it does not fit."""
    decoded = lockrecord.decode(known, _FIELDS, limit)
    if decoded is None:
        return None
    types, columns, canonical = decoded
    try:
        lock = Lock(types, {r[0]: Entry(*r) for r in zip(*columns)})
    except TypeError:
        return None
    if canonical:
        _keep_lines(lock, data)
    return lock


def _keep_lines(lock: Lock, data: bytes) -> None:
    """Note where each entry's line of `data` starts; `data` is `lock.dumps()`: two header lines, then a line per entry sorted by id."""
    starts, at = array("q"), data.find(b"\n", data.find(b"\n") + 1) + 1
    while 0 < at < len(data):
        starts.append(at)
        at = data.find(b"\n", at) + 1
    starts.append(len(data))
    if at == 0 or len(starts) != len(lock.entries) + 1:
        return  # (not the shape `dumps` writes after all: every line is encoded anew)
    lock.lines = Lines(lock.entries, sorted(lock.entries), data, starts)


def _entry(obj: dict, path: Path, n: int, limit: int) -> Entry:
    # The shape flashdeck writes, checked in one expression (10,000 entries in a tenth of the
    # time); anything else goes through the checks below, which name what is wrong.
    get = obj.get
    card_id, added, changed, fields, retired = get("id"), get("added"), get("changed"), get("fields"), get("retired")
    title, deck, package = get("title", ""), get("deck", ""), get("package", "")
    if (
        type(card_id) is str and type(added) is int and type(changed) is int and type(fields) is dict
        and type(title) is str and type(deck) is str and type(package) is str
        and 0 <= added <= limit and 0 <= changed <= limit
        and (retired is None or (type(retired) is int and 0 <= retired <= limit))
        and "kind" not in obj and "cloze" not in obj and ID_RE.fullmatch(card_id)
    ):
        hashes = " ".join(f"{k}:{v}" for k, v in sorted(fields.items()))
        if all(type(k) is str and type(v) is str for k, v in fields.items()) and hashes.count(" ") == len(fields) - 1 and hashes.count(":") == len(fields):
            return Entry(sys.intern(card_id), added, changed, hashes, title, sys.intern(deck), retired, sys.intern(package))
    return Entry(**lockcheck.entry(obj, path, n, limit))
