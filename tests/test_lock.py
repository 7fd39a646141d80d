"""The lock file decides which cards changed, when, and what a re-import will do; the build says so."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from flashdeck import continuity, lockfile, lockread, lockrecord
from flashdeck.cli import main
from flashdeck.errors import CardError
from flashdeck.lock import field_hashes, update
from flashdeck.lockfile import Entry, Lock
from flashdeck.lockread import read as read_lock
from flashdeck.model import CardResult, Placed
from flashdeck.store import Store

FIELDS = ("ID", "Question", "Options", "Answer", "Explanation", "References", "Source")
T0 = 1_700_000_000  # 2023-11-14
T1 = T0 + 86_400  # 2023-11-15
NT = {"basic": "note-type-v1"}


def note(cid, question="Q?", answer="A.", explanation="E.", tags=("t",), source="a.md", title="", line=1, deck="Deck", fields=FIELDS, extra=()) -> Placed:
    """A card as a build places it, its fields rendered from these texts."""
    values = (cid, question, "", answer, explanation, "", source, *extra)
    result = CardResult(cid, title or cid, "basic", tuple(tags), (), True, hashes=field_hashes(fields, values, tuple(tags)))
    return Placed("k-" + cid, result, Path("cards/a.md"), line, deck, "a", source)


def first(*cards: Placed) -> Lock:
    lock, _ = update(Lock(), list(cards), NT, T0)
    return lock


def sha12(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def test_first_build_stamps_every_card_new_at_the_build_time():
    lock, change = update(Lock(), [note("b"), note("a")], NT, T0)
    assert change.new == ("a", "b")
    assert (change.changed, change.unchanged, change.retired, change.notetypes_changed) == ((), 0, (), ())
    assert (lock.entries["a"].added, lock.entries["a"].changed, lock.notetypes["basic"]) == (T0, T0, ("note-type-v1", T0))


def test_edit_restamps_only_the_edited_card_and_names_its_fields():
    lock, change = update(first(note("a"), note("b")), [note("a"), note("b", explanation="E2.", tags=("t", "u"))], NT, T1)
    assert change.changed == (("b", ("Explanation", "Tags")),)
    assert (change.new, change.unchanged) == ((), 1)
    assert (lock.entries["a"].changed, lock.entries["b"].changed, lock.entries["b"].added) == (T0, T1, T0)


def test_unchanged_rebuild_keeps_every_time_and_the_same_lock_text():
    old = first(note("a"), note("b"))
    lock, change = update(old, [note("a"), note("b")], NT, T1)
    assert (change.new, change.changed, change.unchanged) == ((), (), 2)
    assert lock.dumps() == old.dumps()


def test_change_is_stamped_after_the_newest_time_in_the_lock_even_when_the_clock_is_behind():
    lock, _ = update(first(note("a")), [note("a", answer="B.")], NT, T0 - 500)
    assert lock.entries["a"].changed == T0 + 1


def test_moving_a_card_to_another_file_is_not_a_change():
    lock, change = update(first(note("a")), [note("a", source="b.md")], NT, T1)
    assert (change.changed, change.unchanged, lock.entries["a"].changed) == ((), 1, T0)


def test_card_moved_to_another_deck_is_reported_because_anki_will_not_move_it():
    _, change = update(first(note("a")), [note("a", deck="Deck::Sub")], NT, T1)
    assert change.moved == (("a", "Deck", "Deck::Sub"),)
    assert change.summary().splitlines() == [
        "0 new, 0 changed, 1 unchanged, 0 retired",
        "  deck     a: Deck -> Deck::Sub; learners who have it keep it in Deck",
    ]


def test_removed_card_is_retired_once_and_keeps_its_content_time():
    retired, change = update(first(note("a"), note("b")), [note("a")], NT, T1)
    assert change.retired == ("b",)
    assert (retired.entries["b"].retired, retired.entries["b"].changed) == (T1, T0)
    again, change = update(retired, [note("a")], NT, T1 + 50)
    assert (change.retired, change.unchanged) == ((), 1)
    assert again.dumps() == retired.dumps()


def test_retired_card_back_with_its_content_keeps_its_stamp_when_the_retirement_was_never_released():
    retired, _ = update(first(note("a"), note("b")), [note("a")], NT, T1)
    lock, change = update(retired, [note("a"), note("b")], NT, T1 + 50, released=lambda: None)
    assert (change.restored, change.revived, change.changed) == (("b",), (), ())
    assert (lock.entries["b"].retired, lock.entries["b"].changed, lock.entries["b"].added) == (None, T0, T0)


def test_retired_card_back_after_a_released_retirement_gets_a_new_stamp_over_the_notice():
    retired, _ = update(first(note("a"), note("b")), [note("a")], NT, T1)
    lock, change = update(retired, [note("a"), note("b")], NT, T1 + 50, released=lambda: retired)
    assert (change.restored, change.revived) == ((), ("b",))
    assert (lock.entries["b"].retired, lock.entries["b"].changed) == (None, T1 + 50)


def test_retired_card_back_with_other_content_gets_a_new_stamp():
    retired, _ = update(first(note("a"), note("b")), [note("a")], NT, T1)
    lock, change = update(retired, [note("a"), note("b", explanation="Fixed.")], NT, T1 + 50, released=lambda: None)
    assert change.revived == ("b",)
    assert lock.entries["b"].changed == T1 + 50


def test_retired_id_reused_for_another_card_is_flagged_at_the_card():
    retired, _ = update(first(note("a"), note("b", title="Old card")), [note("a")], NT, T1)
    reused = note("b", question="Other?", answer="Other.", line=7)
    assert [str(d) for d in continuity.against_lock([note("a"), reused], retired)] == [
        "cards/a.md:7: warning: card 'b': this id belonged to a card retired on 2023-11-15 ('Old card'); learners who "
        "kept it will see it replaced by this card, with the old card's review history. If this is a different card, "
        "give it a new id"
    ]


def test_live_id_whose_question_and_answer_both_change_is_flagged():
    lock = first(note("a", title="Old card"))
    assert [str(d) for d in continuity.against_lock([note("a", question="New?", answer="New.", line=3)], lock)] == [
        "cards/a.md:3: warning: card 'a': question and answer both changed (was 'Old card'); learners' review history "
        "of the old card carries over to this one. If this is a different card, give it a new id"
    ]


def test_rewording_only_the_question_is_an_ordinary_edit():
    lock = first(note("a"))
    _, change = update(lock, [note("a", question="Reworded?")], NT, T1)
    assert change.changed == (("a", ("Question",)),)
    assert continuity.against_lock([note("a", question="Reworded?")], lock) == []


def test_note_type_change_is_stamped_and_reported_without_touching_cards():
    lock, change = update(first(note("a")), [note("a")], {"basic": "note-type-v2"}, T1)
    assert (change.notetypes_changed, change.unchanged, lock.notetypes["basic"], lock.entries["a"].changed) == (("basic",), 1, ("note-type-v2", T1), T0)


def test_field_added_to_the_note_type_changes_only_the_cards_that_fill_it():
    old = first(note("a"), note("b"))
    wider = FIELDS + ("Hint",)
    _, change = update(old, [note("a", fields=wider, extra=("",)), note("b", fields=wider, extra=("Think of the loop.",))], NT, T1)
    assert (change.changed, change.unchanged) == ((("b", ("Hint",)),), 1)


def test_lock_text_is_one_sorted_line_per_card_and_reads_back(tmp_path):
    lock, _ = update(Lock(), [note("b"), note("a", title="Card A")], NT, T0)
    lines = lock.dumps().splitlines()
    assert lines[0].startswith("# flashdeck lock file")
    assert json.loads(lines[1]) == {"flashdeck_lock": 1, "notetype": {"hash": "note-type-v1", "changed": T0}}
    assert json.loads(lines[2]) == {
        "id": "a", "added": T0, "changed": T0, "deck": "Deck", "package": "a", "title": "Card A",
        "fields": {"Answer": sha12("A."), "Explanation": sha12("E."), "Options": sha12(""), "Question": sha12("Q?"),
                   "References": sha12(""), "tags": sha12("t")},
    }
    assert json.loads(lines[3])["id"] == "b" and len(lines) == 4
    (tmp_path / "flashdeck.lock").write_text(lock.dumps(), encoding="utf-8")
    assert read_lock(tmp_path / "flashdeck.lock", now=T1) == lock


def test_damaged_lock_line_names_the_file_and_line(tmp_path):
    path = tmp_path / "flashdeck.lock"
    path.write_text('# comment\n{"flashdeck_lock": 1, "notetype": {"hash": "x", "changed": 1}}\n{"id": "a", "added": 1\n', encoding="utf-8")
    with pytest.raises(CardError) as err:
        read_lock(path)
    assert str(err.value).startswith(f"{path}:3: error: lock file line is damaged (")
    assert str(err.value).endswith("); restore it from version control")


def test_lock_from_an_older_flashdeck_with_id_and_source_hashes_keeps_its_times():
    hashes = first(note("a")).entries["a"].hashes
    old = Lock(NT and {"basic": ("note-type-v1", T0)}, {"a": Entry("a", T0, T0, "ID:1 Source:2 " + hashes, package="a")})
    lock, change = update(old, [note("a")], NT, T1)
    assert (change.unchanged, lock.entries["a"].changed) == (1, T0)
    assert "Source" not in lock.entries["a"].fields


# The command line -----------------------------------------------------------


@pytest.fixture
def cards(fixture_cards, monkeypatch) -> Path:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(T0))
    return fixture_cards("reimport/renal")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path.write_text(text.replace(old, new), encoding="utf-8")


def snapshot(*folders: Path) -> dict:
    """Every file the author sees (hidden caches left out) and its bytes."""
    return {
        p: p.read_bytes()
        for folder in folders
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    }


def test_build_and_diff_print_what_a_reimport_will_do(cards, tmp_path, capsys, monkeypatch):
    dist = tmp_path / "dist"
    assert main(["build", str(cards), "--out", str(dist)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"wrote {dist / 'renal.apkg'}: 5 cards in Renal",
        "changes for learners: 5 new, 0 changed, 0 unchanged, 0 retired",
        "  new      loop",
        "  new      mg-k",
        "  new      mg-normal",
        "  new      mg-site",
        "  new      trpm6",
    ]
    tubule, electrolytes = cards / "renal" / "tubule.md", cards / "renal" / "electrolytes.md"
    edit(tubule, "Which channel takes up", "Which apical channel takes up")
    edit(tubule, "- [ ] Collecting duct", "- [ ] Cortical collecting duct")
    edit(tubule, "Blaine J. Clin J Am Soc Nephrol. 2015.", "Blaine J, et al. Clin J Am Soc Nephrol. 2015;10:1257.")
    edit(tubule, "\nTags: tal\n", "\n")
    text = electrolytes.read_text(encoding="utf-8")
    electrolytes.write_text(text[: text.index("## Potassium that will not rise")], encoding="utf-8")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(T1))
    before = snapshot(cards, dist)
    assert main(["diff", str(cards), "--out", str(dist)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"would write {dist / 'renal.apkg'}: 4 cards (+1 retired) in Renal",
        "a re-import would bring: 0 new, 2 changed, 2 unchanged, 1 retired",
        "  changed  mg-site: Options, References, Tags",
        "  changed  trpm6: Question",
        "  retired  mg-k: kept for learners, tagged flashdeck::retired",
    ]
    assert snapshot(cards, dist) == before, "diff wrote something"
    assert main(["build", str(cards), "--out", str(dist)]) == 0
    assert capsys.readouterr().out.splitlines()[1] == "changes for learners: 0 new, 2 changed, 2 unchanged, 1 retired"
    assert main(["build", str(cards), "--out", str(dist), "--dry-run"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == ["a re-import would bring: 0 new, 0 changed, 4 unchanged, 0 retired"]


def test_reused_retired_id_is_a_warning_and_fails_strict_builds(cards, tmp_path, capsys, monkeypatch):
    dist = tmp_path / "dist"
    electrolytes = cards / "renal" / "electrolytes.md"
    text = electrolytes.read_text(encoding="utf-8")
    kept = text[: text.index("## Potassium that will not rise")]
    assert main(["build", str(cards), "--out", str(dist)]) == 0
    electrolytes.write_text(kept, encoding="utf-8")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(T1))
    assert main(["build", str(cards), "--out", str(dist)]) == 0
    reuse = "## Calcium sensing {#mg-k}\nWhich receptor senses Ca^2+^ in the thick limb?\n\n### Answer\nCaSR\n\n### Explanation\nIt lowers reabsorption.\n"
    electrolytes.write_text(kept + reuse, encoding="utf-8")
    line = kept.count("\n") + 1
    capsys.readouterr()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(T1 + 86_400))
    before = snapshot(cards, dist)
    assert main(["build", str(cards), "--out", str(dist), "--strict"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{electrolytes}:{line}: error: card 'mg-k': this id belonged to a card retired on 2023-11-15 ('Potassium that "
        "will not rise'); learners who kept it will see it replaced by this card, with the old card's review history. "
        "If this is a different card, give it a new id",
        "1 error, 0 warnings",
    ]
    assert snapshot(cards, dist) == before, "a failed strict build wrote something"
    assert main(["build", str(cards), "--out", str(dist)]) == 0
    out, err = capsys.readouterr()
    assert err.splitlines()[1:] == ["0 errors, 1 warning"]
    assert err.startswith(f"{electrolytes}:{line}: warning: card 'mg-k': this id belonged to a card retired on 2023-11-15")
    assert "a retired card is back" in out and "  revived  mg-k" in out


def test_lock_line_is_exactly_what_json_writes_even_for_odd_titles(tmp_path):
    """The lock writes its lines by hand for speed: they must stay byte-for-byte json.dumps (no diff churn)."""
    title = 'Mg²⁺ "low" \\ tab\there\u2028 \x01 🧲'
    entry = Entry("c-1", 1700000000, 1700000500, "Answer:a1 Question:q2 tags:t0", title, "Renal::Mg ≥ 2", 1700000600, "renal")
    lock = Lock({"basic": ("nt", 5)}, {"c-1": entry})
    expected = json.dumps(
        {"id": "c-1", "added": 1700000000, "changed": 1700000500, "retired": 1700000600, "deck": "Renal::Mg ≥ 2",
         "package": "renal", "title": title, "fields": {"Answer": "a1", "Question": "q2", "tags": "t0"}},
        ensure_ascii=False,
    )
    assert lock.dumps().split("\n")[2] == expected
    (tmp_path / "flashdeck.lock").write_text(lock.dumps(), encoding="utf-8")
    assert read_lock(tmp_path / "flashdeck.lock") == lock


def test_lock_with_comments_blank_lines_and_an_older_entry_shape_reads_back(tmp_path):
    path = tmp_path / "flashdeck.lock"
    path.write_text(
        "# flashdeck lock file\n\n"
        '{"flashdeck_lock": 1, "notetype": {"hash": "nt", "changed": 3}}\n'
        '{"id": "b", "added": 1, "changed": 2, "fields": {"Question": "q"}}\n'
        "# a comment someone added\n"
        '{"changed": 4, "id": "a", "added": 1, "deck": "D", "fields": {"tags": "t", "Answer": "7"}}\n',
        encoding="utf-8",
    )
    lock = read_lock(path)
    assert lock.notetypes == {"basic": ("nt", 3)}
    assert lock.entries == {
        "b": Entry("b", 1, 2, "Question:q"),
        "a": Entry("a", 1, 4, "Answer:7 tags:t", deck="D"),
    }


def test_card_listed_twice_in_the_lock_names_the_second_line(tmp_path):
    path = tmp_path / "flashdeck.lock"
    line = '{"id": "a", "added": 1, "changed": 2, "fields": {}}\n'
    path.write_text('{"flashdeck_lock": 1, "notetype": {"hash": "x", "changed": 1}}\n' + line + line, encoding="utf-8")
    with pytest.raises(CardError) as err:
        read_lock(path)
    assert str(err.value) == f"{path}:3: error: lock file lists card 'a' twice; restore it from version control"


def test_a_lock_of_thousands_of_cards_reads_back_whole_and_names_the_line_at_fault(tmp_path):
    """Big locks are parsed some lines at a time (memory): every entry comes back, in any part of the
    file, and a fault is named at its own line however far down it is."""
    entries = {f"c-{i:05d}": Entry(f"c-{i:05d}", T0, T0 + i, f"Question:{i:x}", f"Card {i}", "Deck", package="p") for i in range(4500)}
    lock = Lock({"basic": ("nt", T0)}, entries)
    path = tmp_path / "flashdeck.lock"
    path.write_text(lock.dumps(), encoding="utf-8")
    assert read_lock(path, now=T1) == lock
    lines = lock.dumps().split("\n")
    for at, broken, message in [
        (4321, '{"id": "c-04318", "added": 1', "lock file line is damaged ("),
        (4400, lines[9], "lock file lists card 'c-00007' twice"),
    ]:
        path.write_text("\n".join(lines[: at - 1] + [broken] + lines[at:]), encoding="utf-8")
        with pytest.raises(CardError) as err:
            read_lock(path, now=T1)
        assert str(err.value).startswith(f"{path}:{at}: error: {message}")


def lock_lines(cards: Path) -> dict[str, dict]:
    lines = (cards / "flashdeck.lock").read_text(encoding="utf-8").splitlines()[2:]
    return {obj["id"]: obj for obj in map(json.loads, lines)}


SAME_DECK = "---\ndeck: Renal\n---\n"
PLAIN = "## {title} {{#{id}}}\n{question}\n\n### Answer\nThis.\n\n### Explanation\nBecause.\n\n"


def test_lock_follows_renamed_headings_and_cards_moved_between_packages(tmp_path, capsys, monkeypatch):
    """What the lock says of a card (its title, its package) stays true without restamping it,
    so a later retirement notice names it rightly and ships where learners have it."""
    cards, dist = tmp_path / "cards", tmp_path / "dist"
    cards.mkdir()
    (cards / "a.md").write_text(SAME_DECK + PLAIN.format(title="Alpha", id="a-1", question="Q1?") + PLAIN.format(title="Beta", id="a-2", question="Q2?"), encoding="utf-8")
    (cards / "b.md").write_text(SAME_DECK + PLAIN.format(title="Gamma", id="b-1", question="Q3?") + PLAIN.format(title="Delta", id="b-2", question="Q4?"), encoding="utf-8")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(T0))
    assert main(["build", str(cards), "--out", str(dist)]) == 0
    capsys.readouterr()

    # a-1: heading renamed; a-2: heading renamed and question reworded; b-1: moved to a.md.
    (cards / "a.md").write_text(
        SAME_DECK
        + PLAIN.format(title="Alpha renamed", id="a-1", question="Q1?")
        + PLAIN.format(title="Beta renamed", id="a-2", question="Q2 reworded?")
        + PLAIN.format(title="Gamma", id="b-1", question="Q3?"),
        encoding="utf-8",
    )
    (cards / "b.md").write_text(SAME_DECK + PLAIN.format(title="Delta", id="b-2", question="Q4?"), encoding="utf-8")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(T1))
    assert main(["build", str(cards), "--out", str(dist)]) == 0
    assert capsys.readouterr().out.splitlines()[2:] == [
        "changes for learners: 0 new, 1 changed, 3 unchanged, 0 retired",
        "  changed  a-2: Question",
    ]
    lock = lock_lines(cards)
    assert {cid: (e["title"], e["package"], e["changed"]) for cid, e in lock.items()} == {
        "a-1": ("Alpha renamed", "a", T0),
        "a-2": ("Beta renamed", "a", T1),
        "b-1": ("Gamma", "a", T0),
        "b-2": ("Delta", "b", T0),
    }

    (cards / "a.md").write_text(SAME_DECK + PLAIN.format(title="Beta renamed", id="a-2", question="Q2 reworded?"), encoding="utf-8")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(T1 + 86_400))
    assert main(["build", str(cards), "--out", str(dist)]) == 0
    from apkgutil import read_apkg

    shipped = read_apkg(dist / "a.apkg").notes
    assert shipped["a-1"].fields["Question"] == "Alpha renamed <em>(retired)</em>"
    assert shipped["b-1"].tags == ("flashdeck::retired",), "b-1 was last built into a.apkg"
    assert sorted(read_apkg(dist / "b.apkg").notes) == ["b-2"]


def test_revived_card_with_new_content_is_stamped_once(tmp_path, capsys, monkeypatch):
    cards, dist = tmp_path / "cards", tmp_path / "dist"
    cards.mkdir()
    source = cards / "a.md"
    keep = PLAIN.format(title="Kept", id="k-1", question="Kept?")
    steps = [
        (T0, keep + PLAIN.format(title="Old title", id="a-1", question="Old question?")),
        (T1, keep),  # a-1 retired
        (T1 + 100, keep + PLAIN.format(title="New title", id="a-1", question="New question?")),  # revived, reworded
        (T1 + 200, keep + PLAIN.format(title="New title", id="a-1", question="New question?")),  # nothing changed
    ]
    summaries, entries = [], []
    for when, text in steps:
        source.write_text(text, encoding="utf-8")
        monkeypatch.setenv("SOURCE_DATE_EPOCH", str(when))
        assert main(["build", str(cards), "--out", str(dist)]) == 0
        summaries.append(capsys.readouterr().out.splitlines()[1])
        entries.append(lock_lines(cards)["a-1"])
    assert summaries[2] == "changes for learners: 0 new, 0 changed, 1 unchanged, 0 retired, 1 revived"
    assert summaries[3] == "changes for learners: 0 new, 0 changed, 2 unchanged, 0 retired"
    assert entries[1]["retired"] == T1
    for entry in entries[2:]:
        assert (entry["title"], entry["changed"], entry["added"], "retired" in entry) == ("New title", T1 + 100, T0, False)


def test_a_lock_read_back_from_the_cache_is_the_lock_in_the_file(tmp_path):
    """A build reads the lock from the record the cache kept of its bytes (lockread.record): it must hold what the file holds."""
    from flashdeck.store import Store

    live = [note("a-1", deck="One"), note("b-2", deck="Two", title="B two"), note("c-3", deck="One")]
    lock, _ = update(Lock(), live, NT, T0)
    lock, _ = update(lock, live[:2], NT, T1)  # c-3 leaves the sources: retired at T1
    entries = dict(lock.entries)
    entries["z-9"] = Entry("z-9", T0, T1, "Text:abc", "Cloze", "Three", None, "b", "cloze", ((1, "x"), (2, "y / z")))
    lock = Lock(dict(lock.notetypes), dict(sorted(entries.items())))
    path = tmp_path / "flashdeck.lock"
    path.write_text(lock.dumps(), encoding="utf-8")
    store = Store(tmp_path)
    parsed = read_lock(path, cache=store)  # read line by line; the cache keeps its record
    known = store.get(lockrecord.key(hashlib.sha256(path.read_bytes()).digest()))
    assert known is not None
    from_record = lockread.loads(path.read_bytes(), path, known=known)
    assert read_lock(path, cache=store).entries == from_record.entries
    store.close()
    assert from_record.entries == parsed.entries == read_lock(path).entries
    assert from_record.entries["c-3"].retired == T1 and from_record.entries["a-1"].retired is None
    assert from_record.entries["z-9"].cloze == ((1, "x"), (2, "y / z"))
    assert from_record.notetypes == parsed.notetypes and from_record.lines == parsed.lines


def test_a_rebuild_encodes_only_the_lock_lines_of_cards_that_changed(cards, tmp_path, monkeypatch):
    """The lines of unchanged entries are copied from the file as read (100,000 of them took 1.3 s to
    encode again); the changed ones are encoded anew, and the file is what encoding every line gives.
    Reaching inside on purpose: only counting the encoder shows what was copied."""
    from flashdeck import api

    api.build(cards, tmp_path / "dist")
    for old, new in [("Below 0.7 mmol/L", "Under 0.7 mmol/L"), ("Under 0.7 mmol/L", "Less than 0.7 mmol/L")]:
        edit(cards / "renal" / "electrolytes.md", old, new)
        encoded, real = [], lockfile._line
        with monkeypatch.context() as m:
            m.setattr(lockfile, "_line", lambda e, encoded=encoded, real=real: encoded.append(e.id) or real(e))
            api.build(cards, tmp_path / "dist")
        assert set(encoded) == {"mg-normal"}
        lock = lockread.read(cards / "flashdeck.lock")
        assert (cards / "flashdeck.lock").read_text(encoding="utf-8") == Lock(lock.notetypes, lock.entries).dumps()


def test_a_watch_session_takes_the_lock_as_the_file_now_is(cards, tmp_path, monkeypatch):
    """A session keeps its last lock in memory, under the file's bytes: a lock checked out or emptied
    between two builds is read again, and is what the change is counted against; a clock set back
    under a running session still finds its times in the future."""
    from flashdeck import api
    from flashdeck.errors import FlashdeckError
    from flashdeck.session import Session

    lock = cards / "flashdeck.lock"
    with Session() as s:
        api.build(cards, tmp_path / "dist", session=s)
        released = lock.read_bytes()
        edit(cards / "renal" / "electrolytes.md", "Below 0.7 mmol/L", "Under 0.7 mmol/L")
        assert api.build(cards, tmp_path / "dist", session=s).change.changed
        assert api.build(cards, tmp_path / "dist", session=s).change.changed == ()
        lock.write_bytes(released)  # (as `git checkout` of the released lock would)
        assert [cid for cid, _ in api.build(cards, tmp_path / "dist", session=s).change.changed] == ["mg-normal"]
        with monkeypatch.context() as m, pytest.raises(FlashdeckError) as caught:
            m.setattr(lockread.time, "time", lambda: T0 - 3 * 86400)
            m.delenv("SOURCE_DATE_EPOCH")
            api.build(cards, tmp_path / "dist", session=s)
        (said,) = caught.value.diagnostics
        assert said.path == lock and "in the future" in said.message
        lock.write_bytes(b"")
        with pytest.raises(FlashdeckError) as caught:
            api.build(cards, tmp_path / "dist", session=s)
        assert "lock file is empty" in str(caught.value.diagnostics)


@pytest.mark.parametrize("change", ["none", "drop first", "drop middle", "drop last", "change middle", "change last", "insert first", "insert middle", "insert last"])
def test_a_lock_written_over_the_lines_it_was_read_from_is_the_lock_encoded_anew(tmp_path, change):
    """Reused lines go out in runs cut from the file as read: wherever an entry is left out, changed or
    added, the bytes are those of every line encoded again."""
    ids = [f"c{i:02d}" for i in range(0, 20, 2)]
    lock, _ = update(Lock(), [note(cid) for cid in ids], NT, T0)
    path = tmp_path / "flashdeck.lock"
    path.write_text(lock.dumps(), encoding="utf-8")
    with Store(tmp_path) as store:
        read = read_lock(path, cache=store)  # (with a cache, the lines of a canonical file are kept)
    assert read.lines is not None  # (else nothing here is reused and the test proves nothing)
    entries = dict(read.entries)
    at = {"first": ids[0], "middle": ids[5], "last": ids[-1]}
    verb, _, where = change.partition(" ")
    if verb == "drop":
        del entries[at[where]]
    elif verb == "change":
        entries[at[where]] = Entry(at[where], T0, T1, "Question:000000000000", title="changed")
    elif verb == "insert":
        cid = {"first": "a00", "middle": "c09", "last": "d00"}[where]
        entries[cid] = Entry(cid, T1, T1, "Question:000000000000", title="new")
    reused = Lock(read.notetypes, entries, read.lines)
    anew = Lock(read.notetypes, dict(entries))
    assert reused.dumps() == anew.dumps()
    assert reused.digest() == hashlib.sha256(anew.dumps().encode("utf-8")).digest()
    assert (verb == "none") == (reused.dumps() == path.read_text(encoding="utf-8"))
