"""The lock file's format: reading it strictly, writing it so that a diff shows one line per changed card.

Format: a comment line, a header object, then one JSON object per card sorted
by id. A damaged lock could make flashdeck overwrite learners' edits or keep a
fix from them, so nothing in it is taken on trust: an empty file, a merge
conflict, a value of the wrong type, or a time in the future is an error at
its line, never a silent "no lock" or a traceback.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from json.encoder import encode_basestring as _js
from pathlib import Path

from . import lockcheck, lockrecord
from .errors import CardError
from .identity import ID_RE

LOCK_NAME = "flashdeck.lock"
VERSION = 1
HEADER = "# flashdeck lock file: when each card last changed. Keep it in version control; `flashdeck build` updates it."
FUTURE_MARGIN = 86400
"""Seconds a time may lie beyond now: a clock set to local time instead of UTC is off by up to 14 hours."""


@dataclass(frozen=True, slots=True)
class Entry:
    """What the lock knows about one card id."""

    id: str
    added: int
    """When the id first appeared (Unix seconds); the note id derives from it."""
    changed: int
    """When the card's content last changed: the note's modification time while it is live."""
    hashes: str
    """Its content fields' and tags' short hashes, `Name:hash` sorted and space-separated (lock.field_hashes)."""
    title: str = ""
    deck: str = ""
    retired: int | None = None
    """When the card left the sources (its notice's modification time), or None while it is in them."""
    package: str = ""
    """The package (top-level file or folder of the cards folder) the card was last built into."""
    kind: str = "basic"
    cloze: tuple[tuple[int, str], ...] = ()
    """(number, text it hides) of a cloze card, as last built."""

    @property
    def fields(self) -> dict[str, str]:
        return fields_of(self.hashes)


def fields_of(hashes: str) -> dict[str, str]:
    """The field hashes of an entry's `hashes` string ("Name:hash Name:hash …")."""
    return dict(part.split(":", 1) for part in hashes.split(" ")) if hashes else {}


@dataclass(frozen=True, slots=True)
class Lines:
    """A lock file's entry lines as read, when the file was exactly what `Lock.dumps` writes.

    Kept as the file's bytes and where each line starts, not as strings: 100,000 lines are the
    30 MB file, not 46 MB of strings, and a line is copied out as the bytes it was.
    """

    entries: dict[str, Entry]
    """The entries as read: a line is reused only for an entry that is still that very object."""
    keys: list[str]
    """Their ids in file order (sorted)."""
    data: bytes
    starts: array
    """Where each entry's line starts in `data`, then where the last one ends."""


@dataclass(slots=True)
class Lock:
    notetypes: dict[str, tuple[str, int]] = field(default_factory=dict)
    """Note type kind -> (hash of its templates and CSS, when they last changed)."""
    entries: dict[str, Entry] = field(default_factory=dict)
    lines: Lines | None = field(default=None, compare=False, repr=False)

    @property
    def latest(self) -> int:
        """The newest time in the lock (0 when empty)."""
        times = [t for _, t in self.notetypes.values()]
        times += [max(e.changed, e.retired or 0) for e in self.entries.values()]
        return max(times, default=0)

    def dumps(self) -> str:
        return b"".join(self.encoded_lines()).decode("utf-8")

    def encoded_lines(self) -> Iterator[bytes | memoryview]:
        """The file's bytes in UTF-8, in pieces that end with a newline: a big lock is written and compared
        a piece at a time, never held whole. Lines reused from the file as read come as one piece a run
        (a view of its bytes): a one-card edit of 100,000 cards hashes and writes five pieces, not 100,002 lines."""
        header: dict = {"flashdeck_lock": VERSION}
        for kind, key in (("basic", "notetype"), ("cloze", "cloze_notetype")):
            if kind in self.notetypes:
                h, changed = self.notetypes[kind]
                header[key] = {"hash": h, "changed": changed}
        yield (HEADER + "\n").encode("utf-8")
        yield (json.dumps(header) + "\n").encode("utf-8")
        read, j = self.lines, 0
        keys = read.keys if read is not None else ()
        starts = read.starts if read is not None else ()
        data = memoryview(read.data) if read is not None else None
        run = end = 0  # (the reused lines [run, end) of the file, not yielded yet)
        for key in sorted(self.entries):
            e = self.entries[key]
            while j < len(keys) and keys[j] < key:  # (both in id order: one walk, no lookup table)
                j += 1
            reused = j < len(keys) and keys[j] == key and read.entries[key] is e
            if end > run and not (reused and j == end):  # (the run ends: a line anew, or one left out)
                yield data[starts[run] : starts[end]]
                run = end
            if not reused:
                yield (_line(e) + "\n").encode("utf-8")
            elif run == end:
                run, end = j, j + 1
            else:
                end = j + 1
        if end > run:
            yield data[starts[run] : starts[end]]

    def digest(self) -> bytes:
        """SHA-256 of the bytes `dumps` writes."""
        h = hashlib.sha256()
        for line in self.encoded_lines():
            h.update(line)
        return h.digest()

    def write(self, f) -> None:
        """Write the file's bytes into the open binary file `f`."""
        for line in self.encoded_lines():
            f.write(line)


def _line(e: Entry) -> str:
    """`json.dumps` of the entry as an object, keys in lock order, fields sorted, non-ASCII kept.

    Spelled out (strings through json's own encoder): 2.5x faster than building a
    dict and calling json.dumps for each of 10,000 cards; tests check it against json.dumps.
    """
    fields = ", ".join(f"{_js(k)}: {_js(v)}" for k, v in fields_of(e.hashes).items())
    retired = f', "retired": {int(e.retired)}' if e.retired is not None else ""
    kind = f', "kind": {_js(e.kind)}' if e.kind != "basic" else ""
    cloze = ", ".join(f'"{n}": {_js(t)}' for n, t in e.cloze)
    cloze = f', "cloze": {{{cloze}}}' if e.kind == "cloze" else ""
    return (
        f'{{"id": {_js(e.id)}, "added": {int(e.added)}, "changed": {int(e.changed)}{retired}, '
        f'"deck": {_js(e.deck)}, "package": {_js(e.package)}, "title": {_js(e.title)}{kind}{cloze}, "fields": {{{fields}}}}}'
    )


def file_digest(path: Path) -> bytes | None:
    """SHA-256 of the lock file's bytes as they are on disk (what `Lock.digest` is compared with), or None."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return None
    return h.digest()


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
