"""Re-importing a rebuilt deck into the real Anki keeps learners' review history and their own edits.

Each test plays one release cycle: build `tests/fixtures/reimport` (five cards in
deck Renal, two files), import it into a fresh collection, review every card,
let the learner add a mnemonic to `mg-normal` (a card the author never touches),
then change the sources the way an author does, rebuild and re-import. Every
test runs with Anki's default import options and with "merge note types" on.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from ankiutil import import_apkg, new_collection, notes_by_id
from flashdeck import api, notetype

T0 = 1_700_000_000  # first release (2023-11-14)
T1 = T0 + 86_400  # next release, a day later
LEARNER_EDIT = "Below 0.7 mmol/L is hypomagnesaemia. my mnemonic"
IDS = ["loop", "mg-k", "mg-normal", "mg-site", "trpm6"]


@pytest.fixture(params=[False, True], ids=["default-options", "merge-note-types"])
def merge(request) -> bool:
    return request.param


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} not found once in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def block(path: Path, card_id: str) -> str:
    """The Markdown of one card, from its heading to the next card's heading."""
    text = path.read_text(encoding="utf-8")
    start = text.rindex("## ", 0, text.index("{#" + card_id + "}"))
    end = text.find("\n## ", start + 1)
    return text[start : len(text) if end == -1 else end + 1]


@dataclass
class Learner:
    """A learner's Anki collection that has imported, reviewed and edited the first release."""

    col: object
    merge: bool
    before: dict

    def reimport(self, apkg: Path):
        return import_apkg(self.col, apkg, self.merge)

    def notes(self) -> dict:
        return notes_by_id(self.col)

    def history(self) -> dict:
        return history(self.col)


def history(col) -> dict:
    """card id -> (reps, interval, due, type, queue, deck, review log rows) for every card."""
    out = {}
    for note_id, note in notes_by_id(col).items():
        (card,) = note.cards()
        revlog = col.db.all("select id, ease, ivl, lastIvl, factor, type from revlog where cid = ? order by id", card.id)
        deck = col.decks.name(card.did)
        out[note_id] = (card.reps, card.ivl, card.due, card.type, card.queue, deck, revlog)
    return out


def build(cards: Path, out: Path, when: int, monkeypatch) -> Path:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(when))
    api.build(cards, out)
    return out / "renal.apkg"


@pytest.fixture
def cards(fixture_cards) -> Path:
    return fixture_cards("reimport/renal")


@pytest.fixture
def learner(cards, tmp_path, merge, monkeypatch) -> Learner:
    col = new_collection(tmp_path / "anki")
    log = import_apkg(col, build(cards, tmp_path / "dist", T0, monkeypatch), merge)
    assert len(log.new) == 5
    col.decks.select(col.decks.id_for_name("Renal"))
    while card := col.sched.getCard():
        col.sched.answerCard(card, 4)  # Easy: straight to review with an interval of days
    note = notes_by_id(col)["mg-normal"]
    note["Explanation"] += " my mnemonic"
    col.update_note(note)
    # Anki stamps the edit with the wall clock; date it between the releases, as it
    # would be in life, so a build that stamps notes with its own time is caught.
    col.db.execute("update notes set mod = ? where id = ?", T0 + 3600, note.id)
    before = history(col)
    for reps, ivl, _due, ctype, _queue, deck, revlog in before.values():
        assert (reps, ctype, deck, len(revlog)) == (1, 2, "Renal", 1) and ivl >= 1
    yield Learner(col, merge, before)
    col.close()


def assert_history_and_edit_kept(learner: Learner, ids=IDS) -> None:
    assert sorted(learner.notes()) == ids, "a note was duplicated or lost"
    assert learner.col.card_count() == len(ids)
    assert learner.history() == learner.before
    assert learner.notes()["mg-normal"]["Explanation"] == LEARNER_EDIT


def test_edited_question_answer_explanation_options_and_references_arrive(learner, cards, tmp_path, monkeypatch):
    tubule, electrolytes = cards / "renal" / "tubule.md", cards / "renal" / "electrolytes.md"
    edit(tubule, "Which channel takes up", "Which apical channel takes up")
    edit(tubule, "They increase it.", "They increase it markedly.")
    edit(tubule, "- [ ] Collecting duct", "- [ ] Cortical collecting duct")
    edit(tubule, "Blaine J. Clin J Am Soc Nephrol. 2015.", "Blaine J, et al. Clin J Am Soc Nephrol. 2015;10:1257.")
    edit(electrolytes, "through ROMK.", "through ROMK channels.")
    log = learner.reimport(build(cards, tmp_path / "dist", T1, monkeypatch))
    assert (len(log.new), len(log.updated), len(log.duplicate), len(log.conflicting)) == (0, 4, 1, 0)
    notes = learner.notes()
    assert notes["trpm6"]["Question"] == "Which apical channel takes up Mg<sup>2+</sup> in the distal convoluted tubule?"
    assert notes["loop"]["Answer"] == "They increase it markedly."
    assert '<span class="fd-letter">C</span> <span class="fd-text">Cortical collecting duct</span>' in notes["mg-site"]["Options"]
    assert notes["mg-site"]["References"] == "Blaine J, et al. Clin J Am Soc Nephrol. 2015;10:1257."
    assert notes["mg-k"]["Explanation"] == "Intracellular Mg<sup>2+</sup> normally blocks K<sup>+</sup> secretion through ROMK channels."
    assert_history_and_edit_kept(learner)


def test_reordering_cards_in_a_file_changes_nothing_for_learners(learner, cards, tmp_path, monkeypatch):
    tubule = cards / "renal" / "tubule.md"
    trpm6, loop = block(tubule, "trpm6"), block(tubule, "loop")
    edit(tubule, trpm6 + loop, loop.rstrip("\n") + "\n\n" + trpm6)
    log = learner.reimport(build(cards, tmp_path / "dist", T1, monkeypatch))
    assert (len(log.new), len(log.updated), len(log.duplicate)) == (0, 0, 5)
    assert_history_and_edit_kept(learner)


def test_card_moved_to_another_file_of_the_same_deck_keeps_its_history(learner, cards, tmp_path, monkeypatch):
    tubule, electrolytes = cards / "renal" / "tubule.md", cards / "renal" / "electrolytes.md"
    loop = block(tubule, "loop")
    edit(tubule, loop, "")
    electrolytes.write_text(electrolytes.read_text(encoding="utf-8") + "\n" + loop, encoding="utf-8")
    log = learner.reimport(build(cards, tmp_path / "dist", T1, monkeypatch))
    # Only the Source field differs, and where a card lives is not content: no update.
    assert (len(log.new), len(log.updated), len(log.duplicate)) == (0, 0, 5)
    assert learner.notes()["loop"]["Answer"] == "They increase it."
    assert_history_and_edit_kept(learner)


def test_note_type_css_and_template_change_arrives_and_history_survives(learner, cards, tmp_path, monkeypatch):
    monkeypatch.setattr(notetype, "BASIC", replace(notetype.BASIC, css=notetype.BASIC.css + "\n.fd-v2 { color: teal; }\n", front=notetype.BASIC.front + "<!-- flashdeck v2 -->"))
    kinds_before = len(learner.col.models.all_names_and_ids())
    log = learner.reimport(build(cards, tmp_path / "dist", T1, monkeypatch))
    assert (len(log.new), len(log.updated), len(log.conflicting)) == (0, 0, 0)
    learner.col.models._clear_cache()  # the Python side caches note types; the import ran in the backend
    model = learner.col.models.get(notetype.BASIC.id)
    assert model["css"].endswith(".fd-v2 { color: teal; }\n")
    assert model["tmpls"][0]["qfmt"].endswith("<!-- flashdeck v2 -->")
    assert len(learner.col.models.all_names_and_ids()) == kinds_before, "Anki made a copy of the note type"
    assert_history_and_edit_kept(learner)


def test_added_and_removed_tags_arrive(learner, cards, tmp_path, monkeypatch):
    tubule = cards / "renal" / "tubule.md"
    edit(tubule, "\nTags: tal\n", "\n")
    edit(tubule, "It sits in the apical membrane.\n", "It sits in the apical membrane.\n\nTags: dct\n")
    log = learner.reimport(build(cards, tmp_path / "dist", T1, monkeypatch))
    assert len(log.updated) == 2
    notes = learner.notes()
    assert sorted(notes["mg-site"].tags) == ["renal"]
    assert sorted(notes["trpm6"].tags) == ["dct", "renal"]
    assert sorted(notes["mg-normal"].tags) == ["renal"]
    assert_history_and_edit_kept(learner)


def test_deleted_card_arrives_retired_and_the_others_are_intact(learner, cards, tmp_path, monkeypatch):
    electrolytes = cards / "renal" / "electrolytes.md"
    edit(electrolytes, block(electrolytes, "mg-k"), "")
    log = learner.reimport(build(cards, tmp_path / "dist", T1, monkeypatch))
    assert (len(log.new), len(log.updated), len(log.duplicate)) == (0, 1, 4)
    retired = learner.notes()["mg-k"]
    assert retired.tags == ["flashdeck::retired"]
    assert retired["Question"] == "Potassium that will not rise <em>(retired)</em>"
    assert retired["Answer"] == "The author removed this card from the deck on 2023-11-15."
    assert_history_and_edit_kept(learner)
    # Rebuilding again ships the same retired note: nothing changes for the learner.
    log = learner.reimport(build(cards, tmp_path / "dist", T1 + 86_400, monkeypatch))
    assert (len(log.new), len(log.updated), len(log.duplicate)) == (0, 0, 5)


def release(cards: Path) -> None:
    """Commit the lock, as an author does when the packages go out (git is how flashdeck tells a release)."""
    git = ["git", "-C", str(cards), "-c", "user.name=Author", "-c", "user.email=author@example.org"]
    if not (cards / ".git").exists():
        subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "flashdeck.lock"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "release"], check=True)


def test_card_retired_in_a_released_build_comes_back_over_the_notice(learner, cards, tmp_path, monkeypatch):
    electrolytes = cards / "renal" / "electrolytes.md"
    mg_k = block(electrolytes, "mg-k")
    edit(electrolytes, mg_k, "")
    learner.reimport(build(cards, tmp_path / "dist", T1, monkeypatch))
    release(cards)
    assert learner.notes()["mg-k"].tags == ["flashdeck::retired"]
    electrolytes.write_text(electrolytes.read_text(encoding="utf-8") + mg_k, encoding="utf-8")
    log = learner.reimport(build(cards, tmp_path / "dist", T1 + 86_400, monkeypatch))
    assert len(log.updated) == 1
    revived = learner.notes()["mg-k"]
    assert sorted(revived.tags) == ["renal"]
    assert revived["Answer"] == "ROMK leaks potassium."
    assert_history_and_edit_kept(learner)


def test_card_cut_and_pasted_with_a_build_between_keeps_the_learners_edit(learner, cards, tmp_path, monkeypatch):
    """The build between cut and paste (or --watch) retires the card on the author's machine only."""
    release(cards)  # the first release, which the learner has
    electrolytes, tubule = cards / "renal" / "electrolytes.md", cards / "renal" / "tubule.md"
    mg_normal = block(electrolytes, "mg-normal")
    edit(electrolytes, mg_normal, "")
    build(cards, tmp_path / "dist", T1, monkeypatch)  # never given to learners
    tubule.write_text(tubule.read_text(encoding="utf-8") + "\n" + mg_normal, encoding="utf-8")
    log = learner.reimport(build(cards, tmp_path / "dist", T1 + 86_400, monkeypatch))
    assert (len(log.new), len(log.updated)) == (0, 0)
    assert learner.notes()["mg-normal"]["Explanation"] == LEARNER_EDIT
    assert_history_and_edit_kept(learner)


def test_file_caught_empty_by_a_build_keeps_every_learners_edit(learner, cards, tmp_path, monkeypatch):
    """An editor that truncates before it writes, caught by a build: the cards come back with their stamps."""
    release(cards)
    electrolytes = cards / "renal" / "electrolytes.md"
    text = electrolytes.read_text(encoding="utf-8")
    electrolytes.write_text("", encoding="utf-8")
    build(cards, tmp_path / "dist", T1, monkeypatch)
    electrolytes.write_text(text, encoding="utf-8")
    log = learner.reimport(build(cards, tmp_path / "dist", T1 + 86_400, monkeypatch))
    assert (len(log.new), len(log.updated)) == (0, 0)
    assert learner.notes()["mg-normal"]["Explanation"] == LEARNER_EDIT
    assert_history_and_edit_kept(learner)


def test_rebuild_without_source_date_epoch_keeps_learner_edits(cards, tmp_path, merge, monkeypatch):
    """Guards the peers' bug: notes stamped with the build time overwrite every learner edit."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    now = int(time.time())
    monkeypatch.setattr(time, "time", lambda: now - 100)  # the author's first build
    api.build(cards, tmp_path / "dist")
    monkeypatch.undo()
    col = new_collection(tmp_path / "anki")
    import_apkg(col, tmp_path / "dist" / "renal.apkg", merge)
    note = notes_by_id(col)["mg-normal"]
    note["Explanation"] += " my mnemonic"
    col.update_note(note)  # the learner's edit, now
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    monkeypatch.setattr(time, "time", lambda: now + 100)  # the author's next build, later
    api.build(cards, tmp_path / "dist")
    monkeypatch.undo()
    log = import_apkg(col, tmp_path / "dist" / "renal.apkg", merge)
    assert (len(log.new), len(log.updated), len(log.duplicate)) == (0, 0, 5)
    assert notes_by_id(col)["mg-normal"]["Explanation"] == LEARNER_EDIT
    col.close()


def test_change_built_with_an_older_source_date_epoch_still_arrives(learner, cards, tmp_path, monkeypatch):
    """A SOURCE_DATE_EPOCH older than the lock (a rebased commit) must not hide a fix."""
    edit(cards / "renal" / "tubule.md", "They increase it.", "They increase it markedly.")
    log = learner.reimport(build(cards, tmp_path / "dist", T0 - 86_400, monkeypatch))
    assert len(log.updated) == 1
    assert learner.notes()["loop"]["Answer"] == "They increase it markedly."
    assert_history_and_edit_kept(learner)


def test_note_type_change_built_before_a_merge_import_does_not_arrive(learner, cards, tmp_path, monkeypatch):
    """Pins the Anki behaviour behind the README's advice to keep "merge note types" off.

    A merging import restamps the learner's note type with the time of the
    import, so a later template change arrives only if it was built after the
    learner's last import. With the default options it always arrives.
    """
    learner.reimport(build(cards, tmp_path / "dist", T1, monkeypatch))  # any re-import
    monkeypatch.setattr(notetype, "BASIC", replace(notetype.BASIC, css=notetype.BASIC.css + "\n.fd-v2 { color: teal; }\n"))
    learner.reimport(build(cards, tmp_path / "dist", T1 + 86_400, monkeypatch))
    learner.col.models._clear_cache()
    arrived = learner.col.models.get(notetype.BASIC.id)["css"].endswith(".fd-v2 { color: teal; }\n")
    assert arrived is (not learner.merge)
    assert_history_and_edit_kept(learner)


def test_note_type_contract_is_pinned():
    """Changing any of these breaks every learner's updates: see README, "Note type upgrades"."""
    assert notetype.BASIC.id == 1986451723
    assert notetype.BASIC.name == "flashdeck"
    assert notetype.BASIC.fields == ("ID", "Question", "Options", "Answer", "Explanation", "References", "Source")
    assert notetype.BASIC.template == "Card"


def test_field_list_upgrade_with_a_new_model_id_keeps_history(learner, cards, tmp_path, monkeypatch):
    """The documented upgrade path: new model id and name, same card ids (GUIDs).

    With the default options Anki leaves the learner's notes on the old note type,
    untouched ("conflicting"); with "merge note types" it moves them to the new
    one and applies the update. Either way nothing is duplicated or lost.
    """
    monkeypatch.setattr(notetype, "BASIC", replace(
        notetype.BASIC, fields=tuple(f for f in notetype.BASIC.fields if f != "Source"), id=1986451724, name="flashdeck 2",
    ))
    edit(cards / "renal" / "tubule.md", "They increase it.", "They increase it markedly.")
    log = learner.reimport(build(cards, tmp_path / "dist", T1, monkeypatch))
    notes = learner.notes()
    if learner.merge:
        assert (len(log.updated), len(log.conflicting)) == (1, 0)
        assert notes["loop"]["Answer"] == "They increase it markedly."
        assert {n.note_type()["name"] for n in notes.values()} == {"flashdeck 2"}
    else:
        assert (len(log.new), len(log.updated), len(log.conflicting)) == (0, 0, 5)
        assert notes["loop"]["Answer"] == "They increase it."
        assert {n.note_type()["name"] for n in notes.values()} == {"flashdeck"}
    assert_history_and_edit_kept(learner)


def test_learner_with_todays_note_type_gets_tap_to_answer_and_keeps_every_review(tmp_path, monkeypatch):
    """Issue 12: the shipped deck as learners have it (templates before tap to answer, kept in
    tests/fixtures/notetype_before_tap/), reviewed, then the new release imported with Anki's
    default options: the new templates arrive, no note is added, updated or duplicated, and
    every card keeps its review state and log."""
    import shutil

    root = Path(__file__).resolve().parent.parent
    before = Path(__file__).resolve().parent / "fixtures" / "notetype_before_tap"
    cards = tmp_path / "cards"
    shutil.copytree(root / "cards", cards)
    with monkeypatch.context() as old:
        old.setattr(notetype, "BASIC", replace(
            notetype.BASIC,
            front=(before / "front.html").read_text(encoding="utf-8"),
            back=(before / "back.html").read_text(encoding="utf-8"),
            css=(before / "card.css").read_text(encoding="utf-8") + "\n" + notetype._read("code.css"),  # (code.css as shipped: the fixture keeps only what tap to answer changed)
        ))
        monkeypatch.setenv("SOURCE_DATE_EPOCH", str(T0))
        (first,) = api.build(cards, tmp_path / "v1").packages
    col = new_collection(tmp_path / "anki")
    try:
        notes = len(import_apkg(col, first.path).new)
        assert notes >= 50
        assert "<script" not in col.models.get(notetype.BASIC.id)["tmpls"][0]["qfmt"]
        col.decks.select(col.decks.id_for_name("Nephrology::Hypomagnesemia"))
        reviewed = 0
        while card := col.sched.getCard():
            col.sched.answerCard(card, 3)
            reviewed += 1
        assert reviewed >= 10
        kept = card_states(col)
        monkeypatch.setenv("SOURCE_DATE_EPOCH", str(T1))
        (second,) = api.build(cards, tmp_path / "v2").packages
        log = import_apkg(col, second.path)
        # "duplicate" is Anki's word for a note it found already there and left alone.
        assert (len(log.new), len(log.updated), len(log.duplicate), len(log.conflicting)) == (0, 0, notes, 0)
        col.models._clear_cache()  # the Python side caches note types; the import ran in the backend
        model = col.models.get(notetype.BASIC.id)
        assert (model["tmpls"][0]["qfmt"], model["tmpls"][0]["afmt"], model["css"]) == (notetype.BASIC.front, notetype.BASIC.back, notetype.BASIC.css)
        assert "<script>" in model["tmpls"][0]["qfmt"] and "<script>" in model["tmpls"][0]["afmt"]
        assert [m.name for m in col.models.all_names_and_ids()].count("flashdeck") == 1, "Anki made a copy of the note type"
        assert card_states(col) == kept
        quiz = col.get_card(notes_by_id(col)["hypomg-q1"].cards()[0].id)
        assert "flashdeck-tap" in quiz.question() and "flashdeck-tap" in quiz.answer()
    finally:
        col.close()


def card_states(col) -> dict:
    """Anki card id -> (reps, interval, due, type, queue, review log rows), for every card of every note."""
    out = {}
    for cid in col.find_cards(""):
        c = col.get_card(cid)
        revlog = col.db.all("select id, ease, ivl, lastIvl, factor, type from revlog where cid = ? order by id", cid)
        out[cid] = (c.reps, c.ivl, c.due, c.type, c.queue, revlog)
    return out
