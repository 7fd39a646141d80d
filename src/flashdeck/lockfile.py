"""The lock file's format: its records, and writing them so that a diff shows one line per changed card.

Format: a comment line, a header object, then one JSON object per card sorted
by id. Reading is strict and lives in lockread.py: nothing in a lock is taken
on trust.
"""

from __future__ import annotations

import hashlib
import json
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from json.encoder import encode_basestring as _js
from pathlib import Path

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
