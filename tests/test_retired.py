"""Removed cards keep shipping as retired notes (README, "Removed cards are retired").

Checked twice, at two levels: in the built .apkg (what the file holds) and
after the real Anki imports it (what a learner, new or old, gets).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ankiutil import import_apkg, new_collection, notes_by_id
from apkgutil import read_apkg
from flashdeck.cli import main

T0 = 1_700_000_000  # first release (2023-11-14)
T1 = T0 + 86_400  # 2023-11-15: the cards below are removed
RETIRED_TAG = "flashdeck::retired"


def cut(path: Path, card_id: str) -> None:
    """Delete one card (heading to next heading) from a file, as an author does."""
    text = path.read_text(encoding="utf-8")
    start = text.rindex("## ", 0, text.index("{#" + card_id + "}"))
    end = text.find("\n## ", start + 1)
    path.write_text(text[:start] + ("" if end == -1 else text[end + 1 :]), encoding="utf-8")


def build(cards: Path, out: Path, when: int, monkeypatch, capsys) -> tuple[list[str], list[str]]:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(when))
    assert main(["build", str(cards), "--out", str(out)]) == 0
    out_text, err_text = capsys.readouterr()
    return out_text.splitlines(), err_text.splitlines()


@pytest.fixture
def retired_release(fixture_cards, tmp_path, monkeypatch, capsys) -> Path:
    """tests/fixtures/reimport built at T0, then at T1 without `mg-normal` (the first card) and `loop` (the last)."""
    cards = fixture_cards("reimport/renal")
    build(cards, tmp_path / "dist", T0, monkeypatch, capsys)
    cut(cards / "renal" / "electrolytes.md", "mg-normal")
    cut(cards / "renal" / "tubule.md", "loop")
    out, _ = build(cards, tmp_path / "dist", T1, monkeypatch, capsys)
    assert out[0] == f"wrote {tmp_path / 'dist' / 'renal.apkg'}: 3 cards (+2 retired) in Renal"
    return tmp_path / "dist" / "renal.apkg"


def test_package_ships_removed_cards_as_tagged_notices_at_the_end(retired_release):
    """In the .apkg: same ids, the notice instead of the text, the tag, the retirement time, last in order."""
    package = read_apkg(retired_release)
    assert sorted(package.notes) == ["loop", "mg-k", "mg-normal", "mg-site", "trpm6"]
    for card_id, title in (("loop", "Loop diuretics"), ("mg-normal", "Normal serum magnesium")):
        note = package.notes[card_id]
        assert note.tags == (RETIRED_TAG,), card_id
        assert note.fields["Question"] == f"{title} <em>(retired)</em>"
        assert note.fields["Answer"] == "The author removed this card from the deck on 2023-11-15."
        assert (note.fields["Options"], note.fields["References"], note.fields["Source"]) == ("", "", "")
        assert note.mod == T1, "a retired note must be newer than the learner's copy, once"
        # A first-time importer gets it in a subdeck of its own; a learner who has it keeps it where it is.
        assert package.decks[package.card_of(card_id).did] == "Renal::Retired"
    for card_id in ("mg-k", "mg-site", "trpm6"):
        assert RETIRED_TAG not in package.notes[card_id].tags
    order = package.new_card_order()
    assert sorted(order[-2:]) == ["loop", "mg-normal"], order
    assert sorted(order[:3]) == ["mg-k", "mg-site", "trpm6"], order


def test_first_time_importer_gets_retired_cards_tagged_and_last_among_new_cards(retired_release, tmp_path):
    """A new learner's Anki shows live cards first; the retired notices come after every live card."""
    col = new_collection(tmp_path / "anki")
    try:
        log = import_apkg(col, retired_release)
        assert len(log.new) == 5
        notes = notes_by_id(col)
        assert sorted(notes["loop"].tags) == sorted(notes["mg-normal"].tags) == [RETIRED_TAG]
        assert notes["mg-normal"]["Question"] == "Normal serum magnesium <em>(retired)</em>"
        assert sorted(notes["trpm6"].tags) == ["renal"]
        cards = sorted((col.get_card(cid) for cid in col.find_cards("")), key=lambda c: c.due)
        assert {c.type for c in cards} == {0}  # all new: `due` is the new-card position
        order = [c.note()["ID"] for c in cards]
        assert sorted(order[-2:]) == ["loop", "mg-normal"], order
        assert len({c.due for c in cards}) == 5, "two cards share a position"
        # What the reviewer would show first.
        col.decks.select(col.decks.id_for_name("Renal"))
        shown = []
        while (card := col.sched.getCard()) is not None:
            shown.append(card.note()["ID"])
            col.sched.answerCard(card, 4)
        assert sorted(shown[:3]) == ["mg-k", "mg-site", "trpm6"], shown
        assert col.find_cards(f"tag:{RETIRED_TAG}") and len(col.find_notes(f"tag:{RETIRED_TAG}")) == 2
        # The notices sit in their own subdeck: deleting it removes them and nothing else (issue 13).
        assert sorted(col.decks.name(col.get_card(c).did) for c in col.find_cards(f"tag:{RETIRED_TAG}")) == ["Renal::Retired"] * 2
        col.decks.remove([col.decks.id_for_name("Renal::Retired")])
        assert sorted(notes_by_id(col)) == ["mg-k", "mg-site", "trpm6"]
    finally:
        col.close()


SAME_DECK = "---\ndeck: Renal\n---\n## {title} {{#{id}}}\nWhat is {id}?\n\n### Answer\nThis.\n\n### Explanation\nBecause.\n"


def test_retired_card_whose_package_is_gone_still_reaches_learners_through_its_deck(tmp_path, monkeypatch, capsys):
    """cards/b.md is deleted: its card goes into a.apkg, which builds the same deck, and a learner's copy is retired."""
    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "a.md").write_text(SAME_DECK.format(title="Alpha", id="a-1"), encoding="utf-8")
    (cards / "b.md").write_text(SAME_DECK.format(title="Beta", id="b-1"), encoding="utf-8")
    first = tmp_path / "first"
    build(cards, first, T0, monkeypatch, capsys)
    col = new_collection(tmp_path / "anki")
    try:
        for name in ("a", "b"):
            import_apkg(col, first / f"{name}.apkg")
        col.decks.select(col.decks.id_for_name("Renal"))
        while (card := col.sched.getCard()) is not None:
            col.sched.answerCard(card, 4)  # Easy: reviewed once, out of today's queue
        reviews = col.db.scalar("select count() from revlog")
        assert reviews == 2

        (cards / "b.md").unlink()
        second = tmp_path / "second"
        out, err = build(cards, second, T1, monkeypatch, capsys)
        assert out[0] == f"wrote {second / 'a.apkg'}: 1 cards (+1 retired) in Renal"
        assert err == []
        assert sorted(p.name for p in second.iterdir()) == ["a.apkg"]
        package = read_apkg(second / "a.apkg")
        assert package.notes["b-1"].tags == (RETIRED_TAG,)
        assert package.decks[package.card_of("b-1").did] == "Renal::Retired"

        log = import_apkg(col, second / "a.apkg")
        assert (len(log.new), len(log.updated)) == (0, 1)
        notes = notes_by_id(col)
        assert sorted(notes) == ["a-1", "b-1"]
        assert notes["b-1"].tags == [RETIRED_TAG]
        assert notes["b-1"]["Question"] == "Beta <em>(retired)</em>"
        assert col.db.scalar("select count() from revlog") == reviews, "review history lost"
        # Anki never moves a card a learner has: it stays in Renal, not in the new-comers' Retired subdeck.
        assert col.decks.name(notes["b-1"].cards()[0].did) == "Renal"
    finally:
        col.close()


def test_retired_card_no_package_can_carry_is_a_warning_naming_it(tmp_path, monkeypatch, capsys):
    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "a.md").write_text(SAME_DECK.format(title="Alpha", id="a-1"), encoding="utf-8")
    (cards / "b.md").write_text(SAME_DECK.replace("Renal", "Other").format(title="Beta", id="b-1"), encoding="utf-8")
    build(cards, tmp_path / "dist", T0, monkeypatch, capsys)
    (cards / "b.md").unlink()
    out, err = build(cards, tmp_path / "dist", T1, monkeypatch, capsys)
    assert err == [
        f"{cards / 'flashdeck.lock'}: warning: retired card 'b-1' is not shipped: no package builds its package 'b' or "
        "its deck 'Other' any more, so learners who have it will not see it marked retired; delete its line from the "
        "lock file to stop this warning",
        "0 errors, 1 warning",
    ]
    assert out[0] == f"wrote {tmp_path / 'dist' / 'a.apkg'}: 1 cards in Renal"
    assert sorted(read_apkg(tmp_path / "dist" / "a.apkg").notes) == ["a-1"]
