"""Who a card is in Anki: its id, its note's GUID, its deck's id, its note and card ids.

Anki finds a learner's copy of a note by GUID alone, so the GUID comes from the
card id and never from the text: fixing a typo updates the note in place and
keeps its review history. Deck ids come from the deck name, note ids from the
lock (when the card was added), so nothing depends on the order of the sources.
"""

from __future__ import annotations

import hashlib
import re
from array import array

GUID_NAMESPACE = "flashdeck"
ID_RE = re.compile(r"[A-Za-z0-9_-]+")
"""What a card id may hold (README, "Card format")."""

_BASE91 = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_`{|}~"
"""genanki's (and Anki's) base-91 alphabet for GUIDs."""
_TAG_RE = re.compile(r"<[^>]*>")


def guid(card_id: str) -> str:
    """The note GUID: `genanki.guid_for("flashdeck", card_id)`, from the id alone.

    Spelled out (the first 8 bytes of SHA-256 of "flashdeck__<id>" in base 91,
    most significant digit first) because importing genanki costs more than the
    rest of a one-card rebuild; tests/test_guid.py checks it against genanki.
    Not memoised: 4 us a card, and a cache of every GUID was 16 MB at 100,000 cards.
    """
    n = int.from_bytes(hashlib.sha256(f"{GUID_NAMESPACE}__{card_id}".encode("utf-8")).digest()[:8], "big")
    digits = []
    while n > 0:
        n, d = divmod(n, 91)
        digits.append(_BASE91[d])
    return "".join(reversed(digits))


def deck_id(name: str) -> int:
    """A stable deck id from the deck name: 52 bits of its SHA-256, above Anki's small ids.

    52 bits keeps the id exact in JavaScript (AnkiDroid, AnkiMobile), and makes a
    collision between two deck names a 1-in-2^26 event even at 10^6 decks.
    """
    h = int.from_bytes(hashlib.sha256(("deck:" + name).encode("utf-8")).digest()[:8], "big")
    return (1 << 52) + (h & ((1 << 52) - 1))


def checksum(first_field: str) -> int:
    """Anki's `csum` of a note: the first 8 hex digits of the SHA-1 of its first field without HTML."""
    text = _TAG_RE.sub("", first_field) if "<" in first_field else first_field
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest()[:8], 16)


def timed_ids(notes: list[tuple[int, str, tuple[int, ...]]]) -> tuple[array, array]:
    """Note and card ids from (added time, card id, template ordinals): (note ids, first card ids), in the order of `notes`.

    Each id is the time in ms, made unique in (time, card id, ordinal) order,
    note ids and card ids each a sequence of their own; a note's card ids run
    on from its first, one per ordinal in ordinal order. Anki matches notes by
    GUID, so these ids only name the notes and cards inside the package (and
    become a new learner's ids, Anki's "created" date). Kept in arrays: 16
    bytes a note, where a dict of tuples was 170 (100,000 notes: 17 MB).
    """
    note_ids, card_ids = array("q", bytes(8 * len(notes))), array("q", bytes(8 * len(notes)))
    last_note = last_card = -1
    for i in sorted(range(len(notes)), key=notes.__getitem__):
        # In this order every id taken so far is <= last, and the ids from the
        # current time up to `last` are all taken: the first free one is
        # max(base, last + 1) (probing one by one was quadratic).
        when, _, ords = notes[i]
        base = when * 1000
        last_note = max(base, last_note + 1)
        note_ids[i] = last_note
        card_ids[i] = max(base, last_card + 1)
        last_card = card_ids[i] + len(ords) - 1
    return note_ids, card_ids
