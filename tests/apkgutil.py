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

from flashdeck.notetype import FIELDS, MODEL_ID


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
        nid = self.notes[card_id].nid
        (card,) = [c for c in self.cards if c.nid == nid]
        return card

    def new_card_order(self) -> list[str]:
        """Card ids in the order a first-time importer meets them as new cards."""
        by_nid = {n.nid: n.id for n in self.notes.values()}
        return [by_nid[c.nid] for c in sorted(self.cards, key=lambda c: c.due)]


def read_apkg(path: Path) -> Package:
    with tempfile.TemporaryDirectory(prefix="apkg-") as tmp:
        with zipfile.ZipFile(path) as zf:
            zf.extract("collection.anki2", tmp)
        conn = sqlite3.connect(Path(tmp) / "collection.anki2")
        try:
            notes = {}
            # Notes of the flashdeck note type only: another note type has other fields.
            rows = conn.execute("SELECT id, guid, mod, tags, flds FROM notes WHERE mid = ?", (MODEL_ID,))
            for nid, guid, mod, tags, flds in rows:
                fields = dict(zip(FIELDS, flds.split("\x1f"), strict=True))
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
