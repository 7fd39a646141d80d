"""The .apkg is deflated: at most 0.2x the size genanki's own writer gives the same notes, and Anki still imports it."""

from __future__ import annotations

import importlib.util
import sqlite3
import warnings
import zipfile
from pathlib import Path

import genanki

from ankiutil import import_apkg, new_collection, notes_by_id
from flashdeck import api
from flashdeck.identity import timed_ids
from flashdeck.notetype import BASIC
from flashdeck.package import genanki_model

ROOT = Path(__file__).resolve().parent.parent


def _corpus():
    spec = importlib.util.spec_from_file_location("bench_corpus", ROOT / "bench" / "corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rows(apkg: Path, tmp: Path) -> list[tuple[str, str, str]]:
    db = tmp / "ours.anki2"
    with zipfile.ZipFile(apkg) as zf:
        db.write_bytes(zf.read("collection.anki2"))
    conn = sqlite3.connect(db)
    try:
        return list(conn.execute("SELECT guid, flds, tags FROM notes ORDER BY id"))
    finally:
        conn.close()


def _genanki_size(rows, out: Path) -> int:
    model = genanki_model(BASIC)
    deck = genanki.Deck(2**52 + 1, "Bench")
    for guid, flds, tags in rows:
        deck.add_note(genanki.Note(model=model, fields=flds.split("\x1f"), guid=guid, tags=tags.split()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # only the size of genanki's output matters here
        genanki.Package(deck).write_to_file(str(out))
    return out.stat().st_size


def test_package_is_a_fifth_of_genankis_and_imports_into_anki(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    cards = _corpus().generate(1000, tmp_path / "corpus")
    api.build(cards, tmp_path / "dist")
    ours = tmp_path / "dist" / "bench.apkg"
    rows = _rows(ours, tmp_path)
    assert len(rows) == 1000
    theirs = _genanki_size(rows, tmp_path / "genanki.apkg")
    assert ours.stat().st_size <= 0.2 * theirs, (ours.stat().st_size, theirs)

    col = new_collection(tmp_path / "anki")
    try:
        import_apkg(col, ours)
        notes = notes_by_id(col)
        assert len(notes) == 1000
        assert notes["c000001"]["Options"].startswith('<ol class="fd-options" type="A"><li class="fd-option')
        assert col.decks.by_name("Bench") is not None
    finally:
        col.close()


def test_many_notes_added_in_one_build_get_consecutive_unique_ids():
    """Note ids start at the added time in ms and step by one: 10,000 new cards in one build (this was quadratic)."""
    added = {f"c{i:05d}": 1_700_000_000 for i in range(10_000)}
    added["c00000"] = 1_700_000_005  # added 5 s later: lands after the run of the others
    note_ids, card_ids = timed_ids([(when, cid, (0,)) for cid, when in added.items()])  # (in the order of `added`)
    assert list(note_ids[1:]) == list(range(1_700_000_000_000, 1_700_000_000_000 + 9_999))
    assert note_ids[0] == 1_700_000_009_999
    assert card_ids == note_ids, "one card a note: card ids run with the note ids"


def test_a_cloze_notes_card_ids_run_on_and_the_next_note_starts_after_them():
    note_ids, card_ids = timed_ids([(1_700_000_000, "b", (0,)), (1_700_000_000, "a", (0, 1, 2))])
    assert list(note_ids) == [1_700_000_000_001, 1_700_000_000_000]
    assert list(card_ids) == [1_700_000_000_003, 1_700_000_000_000], "a's three cards take ...000 to ...002"
