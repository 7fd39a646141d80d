"""`flashdeck ids --write` never hands out an id that was used before (README, "Ids")."""

from __future__ import annotations

from flashdeck.cli import main

CARD = "## {title}{id}\nWhat about {title}?\n\n### Answer\nThis.\n\n### Explanation\nBecause.\n"


def test_ids_write_skips_ids_of_retired_cards(tmp_path, capsys, monkeypatch):
    """A new card titled like a removed one must not inherit the removed card's id, or its review history."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    cards = tmp_path / "cards"
    cards.mkdir()
    renal = cards / "renal.md"
    kept = CARD.format(title="Thiazides", id=" {#thiazides}")
    renal.write_text(kept + "\n" + CARD.format(title="Loop diuretics", id=" {#loop-diuretics}"), encoding="utf-8")
    assert main(["build", str(cards), "--out", str(tmp_path / "dist")]) == 0
    renal.write_text(kept, encoding="utf-8")  # the card is removed: its id is retired
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700086400")
    assert main(["build", str(cards), "--out", str(tmp_path / "dist")]) == 0
    assert "  retired  loop-diuretics: kept for learners, tagged flashdeck::retired" in capsys.readouterr().out

    renal.write_text(kept + "\n" + CARD.format(title="Loop diuretics", id=""), encoding="utf-8")
    assert main(["ids", str(cards), "--write"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{renal}:10: added id 'loop-diuretics-2'"]
    assert renal.read_text(encoding="utf-8") == kept + "\n" + CARD.format(title="Loop diuretics", id=" {#loop-diuretics-2}")

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700172800")
    assert main(["build", str(cards), "--out", str(tmp_path / "dist")]) == 0
    out, err = capsys.readouterr()
    assert err == "", "the new card was given an id learners already have"
    assert out.splitlines()[1:] == ["changes for learners: 1 new, 0 changed, 1 unchanged, 0 retired", "  new      loop-diuretics-2"]


def test_ids_without_write_lists_what_it_would_add_and_changes_nothing(tmp_path, capsys):
    cards = tmp_path / "cards"
    cards.mkdir()
    source = cards / "a.md"
    text = CARD.format(title="Loop diuretics", id="") + "\n" + CARD.format(title="Loop diuretics", id="")
    source.write_text(text, encoding="utf-8")
    assert main(["ids", str(cards)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{source}:1: would add id 'loop-diuretics'",
        f"{source}:10: would add id 'loop-diuretics-2'",
    ]
    assert source.read_text(encoding="utf-8") == text
    assert sorted(p.name for p in cards.iterdir()) == ["a.md"]
