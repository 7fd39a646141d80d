"""A package's collection.anki2: its notes inserted afresh, or last build's patched, then vacuumed.

A one-card edit of a 10,000-note package used to insert all 10,000 notes
again: 0.25 s of a 0.9 s rebuild, every note's fields read back from the
store. From VACUUM_FROM notes the collection is made in two steps instead:

1. a working database: inserted afresh on a cold build; on a rebuild, the
   last build's working database (kept in the cache) with only the rows that
   differ deleted, replaced or added, found by a digest of each note's row;
2. `VACUUM INTO` the file that ships. VACUUM writes a database from its rows
   alone, in rowid order, so the shipped bytes are the same however the
   working database came about (a patched copy keeps the fresh one's schema
   cookie, the one header field VACUUM takes from its source).
   tests/test_collection.py checks rebuilds against cold builds over a run of edits.

The working database is kept beside the cache under the store's key, and its
record (what its rows hold) in the store. A copy whose bytes do not match
their MAC, or a record made by other code, is not used: the build inserts
afresh. Below VACUUM_FROM notes the fresh database ships as it is.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from . import notetype
from .cachekey import context

PAGE_SIZE = 16384
VACUUM_FROM = 300
"""Notes from which a package's collection is patched and vacuumed (below, inserting them all takes under 10 ms)."""
RECORD = 1
"""The shape of a working database's record; a record of another shape is not used."""


@dataclass(frozen=True, slots=True)
class PackNote:
    """One note as it goes into the collection."""

    nid: int
    guid: str
    kind: str
    mod: int
    """Modification time (Unix seconds): from the lock."""
    tags: tuple[str, ...]
    fields: tuple[str, ...]
    csum: int


@dataclass(frozen=True, slots=True)
class Rows:
    """A package's notes in brief, in package order: what a rebuild compares with the last build."""

    nids: array
    """Note ids ('q')."""
    digests: bytes
    """16 bytes a note: a digest of everything in its row but the id."""
    cards: array
    """(card id, note id, deck id, ordinal, mod, position) of every card, flat ('q')."""


class Notes(Protocol):
    rows: Rows

    def notes(self, positions: Sequence[int] | None = None) -> Iterator[PackNote]:
        """The notes at `positions` (ascending; all when None), fields and all."""


def write(db_path: Path, source: Notes, decks: dict[str, int], model_mods: dict[str, int], timestamp: int, facts, store=None, key: str = "") -> int:
    """Write the collection of `source`'s notes to `db_path` (see the module docstring); how many notes were written.

    `facts`: package.Facts. `store` (store.Store) and `key` keep the working database for the next build.
    """
    rows = source.rows
    if fresh_only(len(rows.nids)):
        _fresh(db_path, source.notes(), rows, decks, model_mods, timestamp, facts)
        return len(rows.nids)
    files = store.files(key) if store is not None and key else None
    slot = files.slot(key) if files is not None else None
    work = files.new_file(slot.name) if slot is not None else db_path.with_name("work.anki2")
    base = _base(facts)
    record = store.get(key) if slot is not None else None
    try:
        written = _work(work, files, slot, source, record if _usable(record, base) else None, decks, model_mods, timestamp, facts)
        conn = _connect(work)  # (its PRAGMAs hold for the file VACUUM writes: without, SQLite synced it six times)
        try:
            conn.execute("VACUUM INTO ?", (str(db_path),))
        finally:
            conn.close()
    except BaseException:
        work.unlink(missing_ok=True)
        raise
    if slot is None:
        work.unlink()
        return written
    mac = files.mac(work)  # (before it is moved into place, where another build of these cards may replace it)
    os.replace(work, slot)
    store.put_value(key, (RECORD, base, mac, rows.nids.tobytes(), rows.digests, rows.cards.tobytes()))
    return written


def _work(work: Path, files, slot: Path | None, source: Notes, record, decks: dict[str, int], model_mods: dict[str, int], timestamp: int, facts) -> int:
    """Make the working database at `work`: last build's (a usable `record`, the copy at `slot`) patched, else inserted afresh; how many notes were written."""
    rows = source.rows
    if record is not None and _copy_verified(files, slot, work, record[2]):
        return _patch(work, source, record, decks, model_mods, timestamp, facts)
    work.unlink(missing_ok=True)
    _fresh(work, source.notes(), rows, decks, model_mods, timestamp, facts)
    return len(rows.nids)


def fresh_only(notes: int) -> bool:
    """Whether a collection of `notes` notes is inserted afresh and ships as it is: nothing kept in the store."""
    return notes < VACUUM_FROM or sqlite3.sqlite_version_info < (3, 27)  # (VACUUM INTO came in SQLite 3.27)


def _base(facts) -> str:
    """What a working database's rows depend on besides the notes' digests: flashdeck's code, the note types, the schema, SQLite."""
    types = [(nt.kind, nt.id, nt.sort_field) for nt in notetype.all_types()]
    h = hashlib.sha256(context() + f"{types}\0{facts.schema}\0{facts.col}\0{sqlite3.sqlite_version}\0{PAGE_SIZE}".encode())
    return h.hexdigest()


def _usable(record, base: str) -> bool:
    return isinstance(record, tuple) and len(record) == 6 and record[0] == RECORD and record[1] == base and all(isinstance(v, bytes) for v in record[2:])


def _copy_verified(files, src: Path, dst: Path, mac: bytes) -> bool:
    """Copy `src` to `dst` and keep the copy when its bytes match `mac` (what is written is checked: a build beside may replace `src`)."""
    try:
        if hmac.compare_digest(files.copy(src, dst), mac):
            return True
    except OSError:
        pass
    dst.unlink(missing_ok=True)
    return False


def _connect(path: Path, new: bool = False) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    if new:
        # 16 KiB pages hold ~12 notes instead of ~3, so far less of the file is
        # page slack (the .apkg shrinks by a tenth).
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
    # A throwaway file that write.py moves into place only once complete (or
    # one the next build checks before use): no journal or fsync needed.
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    return conn


def _fresh(path: Path, notes: Iterable[PackNote], rows: Rows, decks: dict[str, int], model_mods: dict[str, int], timestamp: int, facts) -> None:
    conn = _connect(path, new=True)
    try:
        conn.executescript(facts.schema)
        conn.executescript(facts.col)
        # Rows are made while SQLite inserts them: no second copy of every
        # note's fields is held in memory (100,000 notes are ~150 MB of HTML).
        conn.executemany("INSERT INTO notes VALUES(?,?,?,?,?,?,?,?,?,?,?)", _note_rows(notes))
        conn.executemany(_CARD_ROW, _card_rows(rows.cards))
        _col(conn, decks, model_mods, timestamp, facts)
        conn.commit()
    finally:
        conn.close()


def _patch(path: Path, source: Notes, record: tuple, decks: dict[str, int], model_mods: dict[str, int], timestamp: int, facts) -> int:
    """Turn last build's working database (copied to `path`) into this build's: only rows that differ are written (how many notes)."""
    rows = source.rows
    old_nids = array("q")
    old_nids.frombytes(record[3])
    old_digests, new_digests = record[4], rows.digests
    if old_nids == rows.nids:
        gone: list[int] = []
        changed = [i for i in range(len(rows.nids)) if old_digests[16 * i : 16 * i + 16] != new_digests[16 * i : 16 * i + 16]] if old_digests != new_digests else []
    else:
        before = {nid: old_digests[16 * i : 16 * i + 16] for i, nid in enumerate(old_nids)}
        now = set(rows.nids)
        gone = [nid for nid in old_nids if nid not in now]
        changed = [i for i, nid in enumerate(rows.nids) if before.get(nid) != new_digests[16 * i : 16 * i + 16]]
    old_cards = array("q")
    old_cards.frombytes(record[5])
    conn = _connect(path)
    try:
        conn.executemany("DELETE FROM notes WHERE id = ?", ((nid,) for nid in gone))
        conn.executemany("INSERT OR REPLACE INTO notes VALUES(?,?,?,?,?,?,?,?,?,?,?)", _note_rows(source.notes(changed)))
        if old_cards != rows.cards:
            # Card rows compared by position: a differing position's old card is deleted and its new one written.
            # (Card ids are unique in each array, so an old row kept at its position is never deleted.)
            new_cards = rows.cards
            stale, fresh = [], array("q")
            for k in range(0, max(len(old_cards), len(new_cards)), 6):
                o, n = old_cards[k : k + 6], new_cards[k : k + 6]
                if o != n:
                    if o:
                        stale.append((o[0],))
                    fresh.extend(n)
            conn.executemany("DELETE FROM cards WHERE id = ?", stale)
            conn.executemany(_CARD_ROW, _card_rows(fresh))
        conn.execute("DELETE FROM col")
        conn.executescript(facts.col)
        _col(conn, decks, model_mods, timestamp, facts)
        conn.commit()
    finally:
        conn.close()
    return len(changed)


_CARD_ROW = "INSERT INTO cards VALUES(?,?,?,?,?,-1,0,0,?,0,0,0,0,0,0,0,0,'')"


def _card_rows(cards: array) -> Iterator[tuple[int, ...]]:
    return zip(*[iter(cards)] * 6)


def _note_rows(notes: Iterable[PackNote]) -> Iterator[tuple]:
    """The notes table's rows of `notes`."""
    model_ids = {nt.kind: nt.id for nt in notetype.all_types()}
    sort_index = {nt.kind: nt.sort_field for nt in notetype.all_types()}
    for n in notes:
        tags = " " + " ".join(n.tags) + " " if n.tags else ""
        yield (n.nid, n.guid, model_ids[n.kind], n.mod, -1, tags, "\x1f".join(n.fields), n.fields[sort_index[n.kind]], n.csum, 0, "")


def _col(conn: sqlite3.Connection, decks: dict[str, int], model_mods: dict[str, int], timestamp: int, facts) -> None:
    """Fill in genanki's collection row with this package's decks and note types, and date it."""
    deck_json = json.loads(conn.execute("SELECT decks FROM col").fetchone()[0])
    newest_model = max(model_mods.values(), default=0)
    for name, did in sorted(decks.items()):
        deck_json[str(did)] = dict(facts.deck, id=did, name=name, mod=newest_model)
    first = min(decks.values()) if decks else 1
    model_ids = {nt.kind: nt.id for nt in notetype.all_types()}
    models = {str(model_ids[kind]): dict(facts.models[kind], mod=mod, did=first) for kind, mod in sorted(model_mods.items())}
    conn.execute("UPDATE col SET decks = ?, models = ?, mod = ?", (json.dumps(deck_json), json.dumps(models), timestamp * 1000))
