"""Note GUIDs are genanki.guid_for("flashdeck", id): flashdeck computes them without importing genanki."""

from __future__ import annotations

import random

import genanki

from flashdeck.identity import guid


def test_guid_is_genankis_guid_for_the_card_id():
    rng = random.Random(5)
    alphabet = "abcxyz0189-_./ÄéΩ漢🧲 "
    ids = ["hypomg-q1", "c000001", "", "x" * 300] + ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40))) for _ in range(2000)]
    for card_id in ids:
        assert guid(card_id) == genanki.guid_for("flashdeck", card_id), card_id


def test_guid_of_a_known_id_is_the_one_shipped_decks_carry():
    # Written down once from genanki 0.13's guid_for("flashdeck", "hypomg-q1"): a change here orphans learners' history.
    assert guid("hypomg-q1") == "iQvn6eR^l8"
