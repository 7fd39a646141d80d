"""Cloze cards (issue 11): Anki's own `{{c1::text::hint}}` in the question, one Anki card per deletion number.

Expected texts come from the fixtures by hand: tests/fixtures/cloze/renal.md for
the good cards, tests/fixtures/cloze/bad/ for one mistake each.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from ankiutil import import_apkg, new_collection, notes_by_id
from flashdeck import api, notetype
from flashdeck.cli import main
from flashdeck.lockread import read as read_lock

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "cloze"
T0 = 1_700_000_000
T1 = T0 + 86_400


@pytest.fixture
def cards(tmp_path) -> Path:
    folder = tmp_path / "cards"
    folder.mkdir()
    shutil.copy(FIXTURES / "renal.md", folder / "renal.md")
    return folder


def build(cards: Path, out: Path, when: int, monkeypatch) -> Path:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(when))
    api.build(cards, out)
    return out / "renal.apkg"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def body(html: str) -> str:
    """A rendered side without the note type's <style>."""
    return html.split("</style>")[-1]


# The note type ----------------------------------------------------------------


def test_cloze_note_type_is_a_second_fixed_contract():
    """Changing any of these makes Anki stop updating learners' cloze notes (README, "The note types")."""
    assert notetype.CLOZE.id == 1582148922
    assert notetype.CLOZE.name == "flashdeck cloze"
    assert notetype.CLOZE.kind == "cloze"
    assert notetype.CLOZE.fields == ("ID", "Text", "Explanation", "References", "Source")
    assert "{{cloze:Text}}" in notetype.CLOZE.front and "{{cloze:Text}}" in notetype.CLOZE.back
    assert "Explanation" not in notetype.CLOZE.front
    assert notetype.CLOZE.id != notetype.BASIC.id


def test_package_holds_a_cloze_note_with_one_card_per_number(cards, tmp_path, monkeypatch):
    apkg = build(cards, tmp_path / "dist", T0, monkeypatch)
    db = tmp_path / "c.anki2"
    with zipfile.ZipFile(apkg) as zf:
        db.write_bytes(zf.read("collection.anki2"))
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT n.flds, c.ord FROM cards c JOIN notes n ON n.id = c.nid WHERE n.mid = ?", (notetype.CLOZE.id,)).fetchall()
    by_id: dict[str, list[int]] = {}
    for flds, ord_ in rows:
        by_id.setdefault(flds.split("\x1f")[0], []).append(ord_)
    assert {k: sorted(v) for k, v in by_id.items()} == {"cz-tal": [0, 1], "cz-femg": [0, 1], "cz-tex": [0]}


# What the real Anki shows -------------------------------------------------------


@pytest.fixture
def imported(cards, tmp_path, monkeypatch):
    col = new_collection(tmp_path / "anki")
    log = import_apkg(col, build(cards, tmp_path / "dist", T0, monkeypatch))
    assert len(log.new) == 3
    yield col
    col.close()


def sides(col, card_id: str) -> list[tuple[str, str]]:
    note = notes_by_id(col)[card_id]
    return [(body(c.question()), body(c.answer())) for c in sorted(note.cards(), key=lambda c: c.ord)]


def test_each_front_hides_its_own_deletion_shows_the_hint_and_the_others(imported):
    (front1, back1), (front2, back2) = sides(imported, "cz-tal")
    assert re.search(r'<span class="cloze" data-cloze="70&#x25;" data-ordinal="1">\[\.\.\.\]</span>', front1)
    assert '<span class="cloze-inactive" data-ordinal="2">thick ascending limb</span>' in front1
    assert re.search(r'<span class="cloze" data-cloze="[^"]*" data-ordinal="2">\[segment\]</span>', front2)
    assert '<span class="cloze-inactive" data-ordinal="1">70%</span>' in front2
    assert "70%" not in front1 and "thick ascending limb" not in front2.replace("data-cloze", "")
    assert "paracellular" not in front1 + front2  # the explanation waits for the back


def test_each_back_reveals_its_deletion_with_the_explanation_and_no_template_error(imported):
    for front, back in sides(imported, "cz-tal"):
        assert "[...]" not in back and "[segment]" not in back
        assert "The thick ascending limb reabsorbs most filtered Mg<sup>2+</sup>, through the paracellular route." in back
        assert '<a href="https://example.org/magnesium-review">A review of magnesium handling</a>' in back
        for text in (front, back):
            assert "error" not in text.lower() and "{{" not in text
    (_, back1), (_, back2) = sides(imported, "cz-tal")
    assert '<span class="cloze" data-ordinal="1">70%</span>' in back1
    assert '<span class="cloze" data-ordinal="2">thick ascending limb</span>' in back2


def test_math_reaches_anki_as_tex_with_deletions_inside_and_around_it(imported):
    note = notes_by_id(imported)["cz-femg"]
    assert note["Text"] == (
        r'The FEMg is <span class="arithmatex">\(\frac{U_{Mg} \times P_{Cr}}{ {{c1::0.7}} \times P_{Mg} \times U_{Cr}}\)</span>'
        r' and its filtered share is {{c2::<span class="arithmatex">\(\frac{7}{10}\)</span>}}.'
    )
    (front1, _), (front2, back2) = sides(imported, "cz-femg")
    assert r"\times P_{Cr}}{ " in front1 and "[...]" in front1
    assert r"\(\frac{7}{10}\)" in back2 and r"\(\frac{7}{10}\)" not in front2


def test_tex_braces_that_end_a_deletion_come_out_whole(imported):
    """Anki ends a deletion at the first '}}': '\\frac{a}{b}}}' must reach it as '\\frac{a}{b} }}' (Anki's manual)."""
    note = notes_by_id(imported)["cz-tex"]
    assert note["Text"] == r"A ratio is written {{c1::\frac{a}{b} }} in TeX."
    ((front, back),) = sides(imported, "cz-tex")
    assert r'<span class="cloze" data-ordinal="1">\frac{a}{b} </span>' in back
    assert "}" not in front.split("[...]")[1].split("</span>")[1][:5]


# Mistakes, each at its place -----------------------------------------------------


BAD = {
    "unclosed_deletion": "2:7: error: card 'cz-unclosed': cloze deletion '{{c1::70% of it.' is never closed: end it with '}}'",
    "empty_deletion": "2:7: error: card 'cz-empty': cloze deletion '{{c1:: }}' hides nothing: write the hidden text after '::'",
    "deletion_numbered_zero": "2:7: error: card 'cz-zero': cloze deletion '{{c0::70%}}' is numbered 0: numbers start at c1",
    "deletion_in_code_span": "2:8: error: card 'cz-code': cloze deletion '{{c1::x}}' is inside code, where Anki would hide it too and break the code: move the deletion out of the code",
    "deletion_in_code_block": "5:5: error: card 'cz-block': cloze deletion '{{c2::x}}' is inside code, where Anki would hide it too and break the code: move the deletion out of the code",
    "cloze_with_options": "2:5: error: card 'cz-options' has cloze deletions and an option list: a card is either multiple choice or cloze; remove one",
    "cloze_with_answer": "4:1: error: card 'cz-answer' has cloze deletions and an '### Answer' section: a cloze card's answer is its deletions; remove the section",
    "cloze_numbers_with_a_gap": "2:5: warning: card 'cz-gap': cloze numbers skip c2: number deletions c1, c2, … without gaps (learners' cards are per number, so renumber only before the first release)",
    "nested_deletion": "2:16: error: card 'cz-nested': cloze deletion '{{c1::loop {{c2::diuretic}}}}' holds another deletion, which flashdeck does not support: write the deletions side by side",
    "cloze_with_one_colon": "2:5: warning: card 'cz-almost': '{{c1:TAL}}' looks like a cloze deletion but is not one: write '{{c1::text}}' (two colons)",
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_each_cloze_mistake_is_one_located_message(name, tmp_path, monkeypatch, capsys):
    (tmp_path / "cards").mkdir()
    shutil.copy(FIXTURES / "bad" / f"{name}.md", tmp_path / "cards" / f"{name}.md")
    monkeypatch.chdir(tmp_path)
    status = main(["check", "cards"])
    err = capsys.readouterr().err.splitlines()
    error = " error: " in BAD[name]
    assert err == [f"cards/{name}.md:{BAD[name]}", "1 error, 0 warnings" if error else "0 errors, 1 warning"]
    assert status == (1 if error else 0)


# Learners' history, per number -------------------------------------------------------


@dataclass
class Learner:
    col: object
    merge: bool
    before: dict


def states(col) -> dict:
    """(card id, deletion number) -> (reps, interval, due, type, review log rows)."""
    out = {}
    for card_id, note in notes_by_id(col).items():
        for c in note.cards():
            revlog = col.db.all("select id, ease, ivl from revlog where cid = ? order by id", c.id)
            out[(card_id, c.ord + 1)] = (c.reps, c.ivl, c.due, c.type, revlog)
    return out


@pytest.fixture(params=[False, True], ids=["default-options", "merge-note-types"])
def learner(request, cards, tmp_path, monkeypatch) -> Learner:
    col = new_collection(tmp_path / "anki")
    import_apkg(col, build(cards, tmp_path / "dist", T0, monkeypatch), request.param)
    col.decks.select(col.decks.id_for_name("Cloze::Renal"))
    while card := col.sched.getCard():
        col.sched.answerCard(card, 4)
    note = notes_by_id(col)["cz-tex"]
    note["Explanation"] += " my mnemonic"
    col.update_note(note)
    col.db.execute("update notes set mod = ? where id = ?", T0 + 3600, note.id)  # between the releases
    before = states(col)
    assert len(before) == 5 and all(s[0] == 1 for s in before.values())
    yield Learner(col, request.param, before)
    col.close()


def test_reimport_after_editing_deletions_keeps_every_number_s_history(learner, cards, tmp_path, monkeypatch):
    path = cards / "renal.md"
    edit(path, "About {{c1::70%}}", "About {{c1::two thirds (70%)}}")
    edit(path, "limb::segment}}.", "limb::segment}}, about {{c3::10%}} in the DCT.")
    log = import_apkg(learner.col, build(cards, tmp_path / "dist", T1, monkeypatch), learner.merge)
    assert (len(log.new), len(log.updated), len(log.duplicate)) == (0, 1, 2)
    after = states(learner.col)
    assert {k: v for k, v in after.items() if k != ("cz-tal", 3)} == learner.before
    assert after[("cz-tal", 3)][0] == 0, "the new number's card arrives new"
    assert "two thirds (70%)" in notes_by_id(learner.col)["cz-tal"]["Text"]
    assert notes_by_id(learner.col)["cz-tex"]["Explanation"].endswith(" my mnemonic")


def test_lock_records_what_each_number_hides(cards, tmp_path, monkeypatch):
    build(cards, tmp_path / "dist", T0, monkeypatch)
    entries = read_lock(cards / "flashdeck.lock").entries
    assert (entries["cz-tal"].kind, entries["cz-tal"].cloze) == ("cloze", ((1, "70%"), (2, "thick ascending limb")))
    assert entries["cz-femg"].cloze == ((1, "0.7"), (2, r"$\frac{7}{10}$"))


def test_renumbered_deletions_warn_at_the_card_and_fail_strict(cards, tmp_path, monkeypatch, capsys):
    build(cards, tmp_path / "dist", T0, monkeypatch)
    path = cards / "renal.md"
    edit(path, "About {{c1::70%}} of filtered Mg^2+^ is reabsorbed in the {{c2::thick ascending limb::segment}}.",
         "The {{c1::thick ascending limb::segment}} reabsorbs about {{c2::70%}} of filtered Mg^2+^.")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(T1))
    assert main(["check", "--strict", str(cards)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"{path}:5: error: card 'cz-tal': c1 now hides 'thick ascending limb' but learners learned '70%' under c1 "
        "(c2 hid that before: were the deletions renumbered?); their review history of c1 would carry over to a "
        "different fact: keep each number on its fact (numbers need not be in reading order), or give the card a new id",
        f"{path}:5: error: card 'cz-tal': c2 now hides '70%' but learners learned 'thick ascending limb' under c2 "
        "(c1 hid that before: were the deletions renumbered?); their review history of c2 would carry over to a "
        "different fact: keep each number on its fact (numbers need not be in reading order), or give the card a new id",
        "2 errors, 0 warnings",
    ]


def test_an_edited_deletion_is_an_edit_not_a_renumbering(cards, tmp_path, monkeypatch, capsys):
    build(cards, tmp_path / "dist", T0, monkeypatch)
    edit(cards / "renal.md", "the {{c2::thick ascending limb::segment}}", "the {{c2::thick ascending limb of Henle::segment}}")
    assert main(["check", "--strict", str(cards)]) == 0


def test_removed_number_is_reported_for_learners(cards, tmp_path, monkeypatch, capsys):
    build(cards, tmp_path / "dist", T0, monkeypatch)
    edit(cards / "renal.md", " and its filtered share is {{c2::$\\frac{7}{10}$}}", "")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(T1))
    assert main(["build", str(cards), "--out", str(tmp_path / "dist")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "  cloze    cz-femg: c2 removed; learners keep an empty card until Tools > Empty Cards" in out


def test_card_that_changes_kind_under_its_id_is_an_error(cards, tmp_path, monkeypatch, capsys):
    build(cards, tmp_path / "dist", T0, monkeypatch)
    path = cards / "renal.md"
    edit(path, "A ratio is written {{c1::\\frac{a}{b}}} in TeX.", "How is a ratio written in TeX?\n\n### Answer\nAs \\frac{a}{b}.")
    before = (tmp_path / "dist" / "renal.apkg").read_bytes()
    assert main(["build", str(cards), "--out", str(tmp_path / "dist")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"{path}:20:19: error: card 'cz-tex' was a cloze card and is now a question/answer card: Anki cannot update "
        "learners' notes across note types, so they would keep the old card; give this card a new id (the old one retires)",
        "1 error, 0 warnings",
    ]
    assert (tmp_path / "dist" / "renal.apkg").read_bytes() == before


def test_preview_shows_every_deletion_s_card(cards, tmp_path):
    assert main(["preview", str(cards), "--out", str(tmp_path / "preview.html")]) == 0
    page = (tmp_path / "preview.html").read_text(encoding="utf-8")
    captions = re.findall(r"<figcaption>([^<]*)</figcaption>", page)
    assert captions.count("c1 Front") == 3 and captions.count("c2 Back") == 2
    assert '<span class="cloze">[segment]</span>' in page
    assert '<span class="cloze">thick ascending limb</span>' in page
