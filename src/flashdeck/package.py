"""Package rendered notes into an Anki .apkg. The only module that imports genanki.

genanki gives us the collection schema, the note-type JSON and Anki-style GUIDs.
We insert notes and cards ourselves in one pass instead of calling
`Deck.write_to_db`, because that re-reads and re-writes the whole deck and model
JSON once per deck (a build with many subdecks would grow with the square of
their number) and stamps every note with the build time, which would make every
re-import overwrite what learners changed. Here each note carries its own
modification time (from the lock file) and every id is derived, so the same
input gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import tempfile
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from . import notetype
from .model import Note

GUID_NAMESPACE = "flashdeck"
ZIP_EPOCH = 315532800  # 1980-01-01, the earliest time a zip entry can carry
PAGE_SIZE = 16384
BIG_ENTRY = 8 * 2**20


def compress_level(size: int) -> int:
    """Deflate level for an entry of `size` bytes: zlib's default 6, or 5 above 8 MiB.

    Measured on 10,000 notes (15 MB of collection): level 6 takes 0.34 s for
    0.176x genanki's stored size, level 5 0.22 s for 0.181x, level 4 0.14 s
    for 0.199x. A big collection is deflated in parallel (`ParallelDeflate`)
    at level 6; this level is for the other entries.
    """
    return 6 if size <= BIG_ENTRY else 5


CHUNK = 1 << 18
"""Bytes of the collection each thread deflates at a time (see `ParallelDeflate`).

256 KiB: a rebuild deflates its few changed chunks in 5 ms each (1 MiB: 21 ms);
the size is the same within 0.1% (each chunk is primed with the 32 KiB before it)."""
PARALLEL_DEFLATE_MIN = 2 * CHUNK
PARALLEL_LEVEL = 6


class ParallelDeflate:
    """A zlib-compatible compressor (`compress`, `flush`) that deflates 256 KiB chunks on several threads.

    The way pigz does it: each chunk is a raw deflate stream primed with the
    32 KiB before it and ended with a sync flush (the last with a finish), so the
    chunks concatenate into one valid stream. zlib releases the GIL, so 2 cores
    deflate a 15 MB collection in half the time, at level 6 (0.18x genanki's
    size) instead of the 5 a single thread could afford. Chunk borders depend
    only on the offset, so the bytes never depend on the number of threads.
    """

    def __init__(self, level: int = PARALLEL_LEVEL, threads: int | None = None, store=None) -> None:
        self.level = level
        self.threads = max(1, threads if threads is not None else _cpus())
        self.store = store
        """A build cache (cache.Cache) or None: a chunk deflated before is taken from it.

        A one-card edit changes 3 of the 59 chunks of 10,000 notes' collection
        (the header page, the note's page, the deck list page), so a rebuild
        deflates 3 chunks instead of 59. Same input, same output: the bytes are
        the same as deflating anew."""
        self._pending = bytearray()
        self._prev = b""
        self._running: list = []

    def compress(self, data: bytes) -> bytes:
        self._pending += data
        out = []
        while len(self._pending) >= CHUNK:
            chunk = bytes(self._pending[:CHUNK])
            del self._pending[:CHUNK]
            out.append(self._start(chunk, last=False))
        return b"".join(out)

    def flush(self) -> bytes:
        out = [self._start(bytes(self._pending), last=True, here=True)]
        self._pending = bytearray()
        while self._running:
            out.append(self._finish_oldest())
        return b"".join(out)

    def _start(self, chunk: bytes, last: bool, here: bool = False) -> bytes:
        """Start deflating `chunk`; return what finished while keeping at most `threads` at work.

        With `here`, deflate it on this thread: zipfile also flushes from a
        finalizer after a Ctrl-C, and a thread started while the interpreter
        shuts down never runs (the build hung instead of exiting).
        """
        import threading

        slot: list = []
        dictionary, self._prev = self._prev, chunk[-32768:]

        def work() -> None:
            k = None
            if self.store is not None and chunk:  # (an empty last chunk is 2 bytes: not worth a file)
                k = self._key(dictionary, chunk, last)
                hit = self.store.get(k)
                if isinstance(hit, tuple) and len(hit) == 2 and isinstance(hit[0], bytes) and zlib.crc32(hit[0]) == hit[1]:
                    slot.append(hit[0])
                    return
            co = zlib.compressobj(self.level, zlib.DEFLATED, -15, zdict=dictionary) if dictionary else zlib.compressobj(self.level, zlib.DEFLATED, -15)
            out = co.compress(chunk) + co.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)
            if k is not None:
                self.store.put(k, (out, zlib.crc32(out)))
            slot.append(out)

        if here:
            work()
            self._running.append((None, slot))
            return b""
        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        self._running.append((thread, slot))
        # Up to 4 chunks a thread in flight: most come from the cache at once,
        # so a chunk being deflated does not hold up the ones after it.
        return self._finish_oldest() if len(self._running) > 4 * self.threads else b""

    def _key(self, dictionary: bytes, chunk: bytes, last: bool) -> str:
        from .cache import context

        h = hashlib.sha256(context() + b"deflate\0" + zlib.ZLIB_RUNTIME_VERSION.encode() + bytes([self.level, last]))
        h.update(len(dictionary).to_bytes(4, "big"))
        h.update(dictionary)
        h.update(chunk)
        return "z" + h.hexdigest()[1:]

    def _finish_oldest(self) -> bytes:
        thread, slot = self._running.pop(0)
        if thread is not None:
            thread.join()
        if not slot:
            raise RuntimeError("deflating a chunk of the collection failed")
        return slot[0]


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True, slots=True)
class Stamp:
    """When a note was added and last changed (Unix seconds), from the lock file."""

    added: int
    changed: int


def checksum(note: Note) -> int:
    """Anki's `csum` of a note: the first 8 hex digits of the SHA-1 of its first field without HTML."""
    return int(hashlib.sha1(_strip_html(note.fields[0]).encode("utf-8")).hexdigest()[:8], 16)


def guid(card_id: str) -> str:
    """The note GUID: from the card id alone, never from its text, so edits keep history."""
    # genanki.guid_for(GUID_NAMESPACE, card_id), spelled out: importing genanki
    # costs more than the rest of a one-card rebuild's packaging. The first 8
    # bytes of SHA-256 of "flashdeck__<id>" in Anki's base 91, most significant
    # digit first; tests/test_guid.py checks it against genanki.
    n = int.from_bytes(hashlib.sha256(f"{GUID_NAMESPACE}__{card_id}".encode("utf-8")).digest()[:8], "big")
    digits = []
    while n > 0:
        n, d = divmod(n, 91)
        digits.append(_BASE91[d])
    return "".join(reversed(digits))


_BASE91 = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_`{|}~"
)
"""genanki's (and Anki's) base-91 alphabet for GUIDs."""


def deck_id(name: str) -> int:
    """A stable deck id from the deck name: 52 bits of its SHA-256, above Anki's small ids.

    52 bits keeps the id exact in JavaScript (AnkiDroid, AnkiMobile), and makes a
    collision between two deck names a 1-in-2^26 event even at 10^6 decks.
    """
    h = int.from_bytes(hashlib.sha256(("deck:" + name).encode("utf-8")).digest()[:8], "big")
    return (1 << 52) + (h & ((1 << 52) - 1))


def _genanki_facts(cache=None) -> dict:
    """What a package takes from genanki: the collection schema and first row, the note type's and a deck's JSON.

    Importing genanki (and its YAML, Mustache and asyncio imports) costs a
    tenth of a rebuild of 10,000 cards whose GUIDs come from the cache, so the
    facts are kept in the build cache too (its key covers genanki's version).
    The JSON is made with mod/did/id 0 and a blank name, filled in per package.
    """
    from .cache import context

    what = f"{notetype.fingerprint()}\0{notetype.MODEL_ID}\0{notetype.SORT_FIELD}\0"
    k = "g" + hashlib.sha256(context() + b"genanki-facts\0" + what.encode("utf-8")).hexdigest()[1:]
    hit = _FACTS.get(k)
    if hit is not None:  # kept from an earlier build in this process (build --watch)
        if cache is not None:
            cache.used.add(k)
            if cache.writable and not (cache.folder / k).exists():  # another cards folder
                cache.put(k, hit)
        return hit
    hit = cache.get(k) if cache is not None else None
    if isinstance(hit, dict) and set(hit) == {"schema", "col", "model", "deck"}:
        _FACTS[k] = hit
        return hit
    import genanki
    from genanki.apkg_col import APKG_COL
    from genanki.apkg_schema import APKG_SCHEMA

    facts = {"schema": APKG_SCHEMA, "col": APKG_COL, "model": _model(0, 0), "deck": genanki.Deck(0, "").to_json()}
    if cache is not None:
        cache.put(k, facts)
    _FACTS[k] = facts
    return facts


_FACTS: dict[str, dict] = {}


def genanki_model():
    """The flashdeck note type as a `genanki.Model` (also what the size benchmark compares against)."""
    import genanki

    return genanki.Model(
        notetype.MODEL_ID,
        notetype.NAME,
        fields=[{"name": f} for f in notetype.FIELDS],
        templates=[{"name": notetype.TEMPLATE_NAME, "qfmt": notetype.FRONT, "afmt": notetype.BACK}],
        css=notetype.CSS,
        sort_field_index=notetype.SORT_FIELD,
    )


def _model(model_mod: int, first_deck: int) -> dict:
    return genanki_model().to_json(model_mod, first_deck)


def write_apkg(
    out: BinaryIO,
    notes: Iterable[Note],
    stamps: dict[str, Stamp],
    model_mod: int,
    media: dict[str, Path] | None = None,
    timestamp: int | None = None,
    cache=None,
    known: dict[str, tuple[str, int]] | None = None,
) -> int:
    """Write an .apkg holding `notes` to the open binary file `out`; return the note count.

    `stamps[note.id]` gives each note's added/changed time; `model_mod` is when
    the note type last changed; `timestamp` (default: newest stamp) dates the zip
    entries and the collection, so the same input gives the same bytes.
    `cache` (a cache.Cache) keeps the collection's deflated chunks for the next build;
    `known` maps card ids to their (GUID, checksum) when already computed (kept in the cache).
    """
    media = media or {}
    with tempfile.TemporaryDirectory(prefix="flashdeck-") as tmp:
        db_path = os.path.join(tmp, "collection.anki2")
        count, newest = _write_collection(db_path, notes, stamps, model_mod, known or {}, _genanki_facts(cache))
        when = max(timestamp if timestamp is not None else newest, ZIP_EPOCH)
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            _add(zf, "collection.anki2", Path(db_path), when, cache)
            names = sorted(media)
            _add(zf, "media", json.dumps({str(i): n for i, n in enumerate(names)}).encode(), when)
            for i, name in enumerate(names):
                _add(zf, str(i), media[name], when)
    return count


def _add(zf: zipfile.ZipFile, name: str, data: bytes | Path, when: int, cache=None) -> None:
    """Add an entry from bytes, or streamed from a file (the collection of 100,000 notes is 150 MB)."""
    import time

    info = zipfile.ZipInfo(name, date_time=time.gmtime(when)[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # ZipInfo says 0 on Windows: pin it so every OS writes the same bytes
    info.external_attr = 0o644 << 16
    if isinstance(data, bytes):
        zf.writestr(info, data, compresslevel=compress_level(len(data)))
        return
    # What writestr() does before zf.open(info, "w"): the size, and the level
    # (a private attribute of ZipInfo, `compress_level` from Python 3.13).
    info.file_size = data.stat().st_size
    info._compresslevel = compress_level(info.file_size)
    if hasattr(info, "compress_level"):
        info.compress_level = info._compresslevel
    with open(data, "rb") as src:
        dest = zf.open(info, "w")
        try:
            # zipfile's writer feeds every block through `_compressor` (CPython 3.8-3.13):
            # a big collection goes through ParallelDeflate instead of one zlib stream.
            if info.file_size >= PARALLEL_DEFLATE_MIN and getattr(dest, "_compressor", None) is not None:
                dest._compressor = ParallelDeflate(store=cache)
            shutil.copyfileobj(src, dest, 1 << 20)
        finally:
            _close_entry(dest)


def _close_entry(dest) -> None:
    """Close a zip entry being written, even when a Ctrl-C lands inside its close().

    Left half closed, the entry keeps its ZipFile "writing": closing the
    ZipFile then raised a ValueError in place of the KeyboardInterrupt, and
    a finalizer closed the entry again at exit, writing to a closed file.
    """
    try:
        dest.close()
    except KeyboardInterrupt:
        dest.close()  # (a no-op when the first close got past its own cleanup)
        raise


def _write_collection(
    db_path: str,
    notes: Iterable[Note],
    stamps: dict[str, Stamp],
    model_mod: int,
    known: dict[str, tuple[str, int]],
    facts: dict,
) -> tuple[int, int]:
    conn = sqlite3.connect(db_path)
    try:
        cur = conn.cursor()
        # A throwaway file that write.py moves into place only once complete:
        # no journal or fsync needed. 16 KiB pages hold ~12 notes instead of ~3,
        # so far less of the file is page slack (15 MB instead of 21 MB for
        # 10,000 notes; the .apkg shrinks by a tenth).
        cur.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        cur.execute("PRAGMA journal_mode = OFF")
        cur.execute("PRAGMA synchronous = OFF")
        cur.executescript(facts["schema"])
        cur.executescript(facts["col"])
        decks: dict[str, int] = {}
        notes = notes if isinstance(notes, list) else list(notes)
        nids = _note_ids(notes, stamps)
        newest = max([model_mod, *(stamps[n.id].changed for n in notes)])
        model_id = notetype.MODEL_ID
        sort_field = notetype.SORT_FIELD

        # Rows are generated while SQLite inserts them: no second copy of every
        # note's fields is held in memory (100,000 notes are ~150 MB of HTML).
        def note_rows():
            for note in notes:
                changed = stamps[note.id].changed
                tags = " " + " ".join(note.tags) + " " if note.tags else ""
                gc = known.get(note.id)
                note_guid, csum = gc if gc is not None else (guid(note.id), checksum(note))
                yield (nids[note.id], note_guid, model_id, changed, -1, tags, "\x1f".join(note.fields), note.fields[sort_field], csum, 0, "")

        def card_rows():
            for position, note in enumerate(notes, start=1):
                did = decks.get(note.deck)
                if did is None:
                    did = decks[note.deck] = deck_id(note.deck)
                nid = nids[note.id]
                yield (nid, nid, did, 0, stamps[note.id].changed, -1, 0, 0, position, 0, 0, 0, 0, 0, 0, 0, 0, "")

        cur.executemany("INSERT INTO notes VALUES(?,?,?,?,?,?,?,?,?,?,?)", note_rows())
        cur.executemany("INSERT INTO cards VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", card_rows())
        deck_json = json.loads(cur.execute("SELECT decks FROM col").fetchone()[0])
        for name, did in sorted(decks.items()):
            deck_json[str(did)] = dict(facts["deck"], id=did, name=name, mod=model_mod)
        first = min(decks.values()) if decks else 1
        models = {str(notetype.MODEL_ID): dict(facts["model"], mod=model_mod, did=first)}
        cur.execute("UPDATE col SET decks = ?, models = ?, mod = ?", (json.dumps(deck_json), json.dumps(models), newest * 1000))
        conn.commit()
    finally:
        conn.close()
    return len(notes), newest


def _note_ids(notes: list[Note], stamps: dict[str, Stamp]) -> dict[str, int]:
    """Note (and card) ids: the lock's added time in ms, made unique in (added, card id) order.

    Anki matches notes by GUID, so these ids only name the notes inside the
    package (and become a new learner's ids, Anki's "created" date). Deriving
    them from the lock and the card id, never from the order of the sources,
    keeps a reordered file from renumbering its notes.
    """
    ids: dict[str, int] = {}
    last = -1
    for note in sorted(notes, key=lambda n: (stamps[n.id].added, n.id)):
        # In this order every id taken so far is <= last, and the ids from the
        # current added time up to `last` are all taken: the first free one is
        # max(base, last + 1). (Probing one by one was quadratic: 10,000 cards
        # added in one build took 3 s.)
        nid = max(stamps[note.id].added * 1000, last + 1)
        ids[note.id] = last = nid
    return ids


_TAG_RE = re.compile(r"<[^>]*>")


def _strip_html(s: str) -> str:
    return _TAG_RE.sub("", s) if "<" in s else s
