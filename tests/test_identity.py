"""A note's GUID comes from its card id alone, a deck's id from its name (README, "The note type").

tests/test_guid.py checks the GUID function against genanki; these check the
built package and the real Anki: the GUIDs learners' collections hold, and
that rewording a card keeps them.
"""

from __future__ import annotations

from pathlib import Path

from ankiutil import import_apkg, new_collection
from apkgutil import read_apkg
from flashdeck.api import build

# Written down once from genanki.guid_for("flashdeck", id) (genanki 0.13.1).
# Every learner's copy of these cards is matched by these strings.
KNOWN_GUIDS = {
    "loop": "EP-z6KGla-",
    "mg-k": "fw?c+g~zLF",
    "mg-normal": "yOLCQ@U%#+",
    "mg-site": "LTtDeyp;_o",
    "trpm6": "hWiyi!0f9S",
}
RENAL_DECK_ID = 5218740829085069  # tests/test_deck_ids.py: 2**52 + sha256("deck:Renal")[:8] mod 2**52


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_built_package_carries_the_guids_of_its_card_ids_and_the_deck_id_of_its_name(fixture_cards, tmp_path):
    cards = fixture_cards("reimport/renal")
    build(cards, tmp_path / "dist")
    package = read_apkg(tmp_path / "dist" / "renal.apkg")
    assert {cid: note.guid for cid, note in package.notes.items()} == KNOWN_GUIDS
    assert package.decks == {RENAL_DECK_ID: "Renal"}
    assert {card.did for card in package.cards} == {RENAL_DECK_ID}
    col = new_collection(tmp_path / "anki")
    try:
        import_apkg(col, tmp_path / "dist" / "renal.apkg")
        assert {col.get_note(n)["ID"]: col.get_note(n).guid for n in col.find_notes("")} == KNOWN_GUIDS
    finally:
        col.close()


def test_rewording_or_retiring_a_card_keeps_its_guid(fixture_cards, tmp_path, monkeypatch):
    """The GUID must not follow the text: a typo fix would orphan the learner's review history,
    and a retired notice under another GUID would never reach the learner's copy."""
    cards = fixture_cards("reimport/renal")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    build(cards, tmp_path / "dist")
    before = read_apkg(tmp_path / "dist" / "renal.apkg").notes
    tubule = cards / "renal" / "tubule.md"
    edit(tubule, "## Channel of the distal tubule {#trpm6}", "## Magnesium channel of the DCT {#trpm6}")
    edit(tubule, "Which channel takes up", "Which apical channel takes up")
    edit(tubule, "TRPM6\n", "TRPM6 (transient receptor potential melastatin 6)\n")
    edit(tubule, "It sits in the apical membrane.", "It sits in the apical (luminal) membrane.")
    edit(tubule, "Where is most filtered", "Where along the nephron is most filtered")
    edit(tubule, "- [x] Thick ascending limb", "- [x] Thick ascending limb of the loop of Henle")
    electrolytes = cards / "renal" / "electrolytes.md"
    edit(electrolytes, "What is the normal range of serum Mg^2+^?", "Normal serum Mg^2+^, in mmol/L?")
    text = tubule.read_text(encoding="utf-8")
    tubule.write_text(text[: text.index("## Loop diuretics {#loop}")], encoding="utf-8")  # retire `loop`
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700086400")
    build(cards, tmp_path / "dist")
    after = read_apkg(tmp_path / "dist" / "renal.apkg").notes
    assert after["trpm6"].fields["Question"] != before["trpm6"].fields["Question"]
    assert after["mg-site"].fields["Options"] != before["mg-site"].fields["Options"]
    assert after["loop"].tags == ("flashdeck::retired",)
    assert {cid: n.guid for cid, n in after.items()} == {cid: n.guid for cid, n in before.items()} == KNOWN_GUIDS
