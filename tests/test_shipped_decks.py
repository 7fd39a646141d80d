"""The decks in cards/ are complete, and the real Anki imports them cleanly."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest

from ankiutil import import_apkg, new_collection
from flashdeck.api import build, cards
from flashdeck.notetype import BASIC

FIELDS = BASIC.fields

CARDS = Path(__file__).resolve().parent.parent / "cards"


def plain(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", html))).strip()


@pytest.fixture(scope="module")
def parsed():
    return cards(CARDS)


@pytest.fixture(scope="module")
def imported(tmp_path_factory, parsed):
    """Build cards/ into a temp folder (the lock is copied, not touched) and import every package."""
    import shutil

    work = tmp_path_factory.mktemp("shipped")
    shutil.copytree(CARDS, work / "cards")
    report = build(work / "cards", work / "dist")
    col = new_collection(work / "anki")
    logs = [import_apkg(col, pkg.path) for pkg in report.packages]
    yield col, logs
    col.close()


def test_every_parsed_card_has_an_answer_and_an_explanation(parsed):
    assert parsed, "cards/ holds no cards"
    for card in parsed:
        if card.options:
            (correct,) = card.correct_options
            assert correct.text.strip(), f"{card.path}:{card.line}: empty correct option"
        elif card.kind == "cloze":
            assert card.deletions and all(d.text.strip() for d in card.deletions), f"{card.path}:{card.line}: empty deletion"
        else:
            assert card.answer is not None and card.answer.text.strip(), f"{card.path}:{card.line}: no answer"
        assert card.explanation is not None and card.explanation.text.strip(), f"{card.path}:{card.line}: no explanation"


def retired_ids() -> set[str]:
    from flashdeck.lockread import read

    return {e.id for e in read(CARDS / "flashdeck.lock").entries.values() if e.retired is not None} | (
        set(read(CARDS / "flashdeck.lock").entries) - {c.id for c in cards(CARDS)}
    )


def test_import_log_shows_every_note_new_and_no_conflicts(imported, parsed):
    col, logs = imported
    assert sum(len(log.new) for log in logs) == len(parsed) + len(retired_ids())
    for log in logs:
        assert not log.conflicting and not log.missing_notetype and not log.missing_deck
        assert not log.duplicate and not log.updated and not log.empty_first_field


def test_imported_note_type_has_the_contract_fields(imported):
    col, _ = imported
    (model,) = [m for m in col.models.all() if m["name"] == "flashdeck"]
    assert [f["name"] for f in model["flds"]] == ["ID", "Question", "Options", "Answer", "Explanation", "References", "Source"]
    assert tuple(f["name"] for f in model["flds"]) == FIELDS


def test_each_card_answer_side_shows_its_answer_and_explanation(imported, parsed):
    col, _ = imported
    numbers = sum(len({d.number for d in c.deletions}) if c.kind == "cloze" else 1 for c in parsed)
    assert col.card_count() == numbers + len(retired_ids())
    for cid in col.find_cards("-tag:flashdeck::retired"):
        card = col.get_card(cid)
        note = card.note()
        answer_side = card.answer()
        if "Text" in note:  # a cloze card: its back reveals its own deletions and explains them
            assert f'<span class="cloze" data-ordinal="{card.ord + 1}">' in answer_side, note["ID"]
            assert "[" + "...]" not in plain(answer_side.split("</style>")[-1]), f"{note['ID']}: the back still hides a deletion"
            assert note["Explanation"] in answer_side
            continue
        assert plain(note["Answer"]), f"{note['ID']}: empty answer"
        assert plain(note["Explanation"]), f"{note['ID']}: empty explanation"
        assert note["Answer"] in answer_side
        assert note["Explanation"] in answer_side


def test_each_card_front_gives_nothing_of_the_answer_away(imported):
    """The front holds the question (and every option alike), never the answer, its mark or the explanation."""
    col, _ = imported
    fronts = 0
    for cid in col.find_cards("note:flashdeck"):  # (another note type has other fields)
        card = col.get_card(cid)
        note = card.note()
        front = re.sub(r"<script>.*?</script>", "", card.question().split("</style>")[-1], flags=re.DOTALL)  # (tap.js is code, not content)
        label = note["ID"]
        # The note type styles the key only under .fd-back, and shows the answer box only on the back.
        assert "fd-back" not in front and "fd-answer" not in front and 'id="answer"' not in front, label
        assert "\u2713" not in front and "Explanation" not in plain(front), label
        assert plain(note["Explanation"]) not in plain(front), label
        if note["Options"]:
            # Every option is on the front; what must not be there is the answer line ("B Thick ...").
            assert plain(front).count(plain(note["Answer"])[2:]) == 1, label
        else:
            assert plain(note["Answer"]) not in plain(front), label
        fronts += 1
    assert fronts > 5


def test_hypomagnesemia_deck_has_expected_name_and_quiz_answers(imported):
    """Answer letters and texts from the seed's published solutions (1B, 2D, 3A, 4C, 5C)."""
    col, _ = imported
    assert "Nephrology::Hypomagnesemia" in [d.name for d in col.decks.all_names_and_ids()]
    by_id = {col.get_note(n)["ID"]: col.get_note(n) for n in col.find_notes("")}
    expected = {
        "hypomg-q1": ("B", "Thick ascending limb of the loop of Henle"),
        "hypomg-q2": ("D", "TRPM6"),
        "hypomg-q3": ("A", "Competitive inhibition of EGFR"),
        "hypomg-q4": ("C", "Hypomagnesemia causes low intracellular Mg2+ levels which relieve inhibition of K+ secretion via ROMK channels."),
        "hypomg-q5": ("C", "Amiloride"),
    }
    for card_id, (letter, text) in expected.items():
        answer = plain(by_id[card_id]["Answer"])
        assert answer == f"{letter} {text}", card_id
        # The option the back marks is the key: its letter and text, no other option's.
        marked = re.findall(r'<li class="[^"]*\bfd-correct\b[^"]*">(.*?)</li>', by_id[card_id]["Options"], re.DOTALL)
        assert [plain(m) for m in marked] == [f"{letter} {text}"], card_id
        options = re.findall(r'<li class="[^"]*\bfd-option\b[^"]*">(.*?)</li>', by_id[card_id]["Options"], re.DOTALL)
        assert plain(options["ABCDE".index(letter)]) == f"{letter} {text}", card_id
