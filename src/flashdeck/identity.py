"""Who a card is in Anki: its id, its note's GUID, its deck's id, its note and card ids.

Anki finds a learner's copy of a note by GUID alone, so the GUID comes from the
card id and never from the text: fixing a typo updates the note in place and
keeps its review history. Deck ids come from the deck name, note ids from the
lock (when the card was added), so nothing depends on the order of the sources.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable

GUID_NAMESPACE = "flashdeck"
ID_RE = re.compile(r"[A-Za-z0-9_-]+")
"""What a card id may hold (README, "Card format")."""

_BASE91 = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_`{|}~"
"""genanki's (and Anki's) base-91 alphabet for GUIDs."""
_TAG_RE = re.compile(r"<[^>]*>")


@functools.lru_cache(maxsize=2**17)  # (a --watch session asks again for every card at every build)
def guid(card_id: str) -> str:
    """The note GUID: `genanki.guid_for("flashdeck", card_id)`, from the id alone.

    Spelled out (the first 8 bytes of SHA-256 of "flashdeck__<id>" in base 91,
    most significant digit first) because importing genanki costs more than the
    rest of a one-card rebuild; tests/test_guid.py checks it against genanki.
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


def timed_ids(notes: Iterable[tuple[int, str, tuple[int, ...]]]) -> dict[str, tuple[int, tuple[int, ...]]]:
    """Note and card ids from (added time, card id, template ordinals): id -> (note id, card id of each ordinal, in order).

    Each id is the time in ms, made unique in (time, card id, ordinal) order,
    note ids and card ids each a sequence of their own. Anki matches notes by
    GUID, so these ids only name the notes and cards inside the package (and
    become a new learner's ids, Anki's "created" date).
    """
    out: dict[str, tuple[int, tuple[int, ...]]] = {}
    last_note = last_card = -1
    for when, key, ords in sorted(notes):
        # In this order every id taken so far is <= last, and the ids from the
        # current time up to `last` are all taken: the first free one is
        # max(base, last + 1) (probing one by one was quadratic).
        base = when * 1000
        last_note = max(base, last_note + 1)
        cards = []
        for _ in sorted(ords):
            last_card = max(base, last_card + 1)
            cards.append(last_card)
        out[key] = (last_note, tuple(cards))
    return out
