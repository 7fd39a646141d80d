"""Read a built .apkg as Anki would find it: the notes, cards and decks of its collection.

Tests of what a package holds (before any import) go through here, so they
check the file learners download, not flashdeck's objects in memory.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from flashdeck import notetype


@dataclass(frozen=True)
class PackagedNote:
    nid: int
    guid: str
    mod: int
    tags: tuple[str, ...]
    fields: dict[str, str]
    """Field name (the note type's) -> HTML."""

    @property
    def id(self) -> str:
        return self.fields["ID"]


@dataclass(frozen=True)
class PackagedCard:
    nid: int
    did: int
    due: int
    """For a new card, its position in the new-card order."""


@dataclass(frozen=True)
class Package:
    notes: dict[str, PackagedNote]
    """Card id (the ID field) -> note, for the flashdeck note type's notes."""
    cards: list[PackagedCard]
    decks: dict[int, str]
    """Deck id -> name (Anki's Default deck left out)."""

    def card_of(self, card_id: str) -> PackagedCard:
        """The card of a one-card note (question/answer or multiple choice)."""
        nid = self.notes[card_id].nid
        (card,) = [c for c in self.cards if c.nid == nid]
        return card

    def new_card_order(self) -> list[str]:
        """Card ids in the order a first-time importer meets them as new cards."""
        by_nid = {n.nid: n.id for n in self.notes.values()}
        return list(dict.fromkeys(by_nid[c.nid] for c in sorted(self.cards, key=lambda c: (c.due, c.nid))))


def read_apkg(path: Path) -> Package:
    with tempfile.TemporaryDirectory(prefix="apkg-") as tmp:
        with zipfile.ZipFile(path) as zf:
            zf.extract("collection.anki2", tmp)
        conn = sqlite3.connect(Path(tmp) / "collection.anki2")
        try:
            notes = {}
            # Notes of the flashdeck note types, each with its own fields.
            types = {nt.id: nt for nt in notetype.all_types()}
            rows = conn.execute(f"SELECT id, guid, mod, tags, flds, mid FROM notes WHERE mid IN ({','.join('?' * len(types))})", tuple(types))
            for nid, guid, mod, tags, flds, mid in rows:
                fields = dict(zip(types[mid].fields, flds.split("\x1f"), strict=True))
                note = PackagedNote(nid, guid, mod, tuple(tags.split()), fields)
                assert note.id not in notes, f"two notes with ID {note.id!r}"
                notes[note.id] = note
            nids = {n.nid for n in notes.values()}
            cards = [PackagedCard(*row) for row in conn.execute("SELECT nid, did, due FROM cards ORDER BY id") if row[0] in nids]
            decks_json = json.loads(conn.execute("SELECT decks FROM col").fetchone()[0])
        finally:
            conn.close()
    decks = {int(k): v["name"] for k, v in decks_json.items() if int(k) != 1}
    return Package(notes, cards, decks)
