"""Deck ids come from deck names and never collide (issue 7: a peer merged 4 of 200 generated subdecks)."""

from __future__ import annotations

import random
import string

from flashdeck.identity import deck_id

JS_SAFE = 2**53


def test_two_hundred_generated_subdeck_names_get_two_hundred_ids():
    names = [f"Curriculum::Block {b:02d}::Topic {t:03d}" for b in range(10) for t in range(20)]
    names += [f"Curriculum::part-{n:04d}" for n in range(200)]
    assert len({deck_id(n) for n in names}) == len(set(names)) == 400


def test_a_hundred_thousand_random_deck_names_never_share_an_id():
    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits + " -_:éü" + "::"
    names = {"::".join("".join(rng.choices(alphabet, k=rng.randint(1, 12))) for _ in range(rng.randint(1, 3))) for _ in range(100_000)}
    ids = {deck_id(n) for n in names}
    assert len(ids) == len(names)


def test_names_differing_only_in_case_spacing_or_nesting_get_different_ids():
    names = ["Renal", "renal", "Renal ", "Renal::Tubule", "Renal::tubule", "Renal::Tubule::", "Renal:Tubule", "Rénal"]
    assert len({deck_id(n) for n in names}) == len(names)


# Worked out from the rule in package.deck_id's docstring, not from its code:
# 2**52 + (the first 8 bytes of sha256("deck:" + name), big-endian, mod 2**52).
# A learner's cards sit in the deck with this id: a change moves none of them
# but makes a second deck of the same name appear on the next import.
KNOWN_DECK_IDS = {
    "Nephrology::Hypomagnesemia": 7813930921927003,
    "Renal": 5218740829085069,
    "renal": 4786977083308105,
    "Rénal": 5021727306034450,
    "Default": 7296630515231408,
    "": 8364526401773090,
}


def test_deck_ids_are_the_documented_hash_of_the_name():
    assert {name: deck_id(name) for name in KNOWN_DECK_IDS} == KNOWN_DECK_IDS


def test_deck_ids_are_exact_in_javascript_and_never_anki_default_deck():
    """AnkiDroid and AnkiMobile handle ids in JavaScript: they must stay below 2**53, and never be Anki's default deck (1)."""
    for name in (*KNOWN_DECK_IDS, "x" * 500):
        assert 2**52 <= deck_id(name) < JS_SAFE
