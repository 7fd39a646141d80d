"""A big package's collection is patched from the last build's, and still ships the bytes of a cold build.

collection.py writes a package of VACUUM_FROM notes or more as a working
database (the last build's, kept in the cache, with only the rows that differ
written again) vacuumed into the file that ships. Every test here compares a
rebuild with a cold build of the same sources and lock (`use_cache=False`),
byte for byte, and reads `--verbose`'s count of notes written, so a rebuild
that quietly inserted everything again would fail too.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from flashdeck import api, cachekey, collection
from flashdeck.cli import main

N = collection.VACUUM_FROM + 20


@pytest.fixture(autouse=True)
def fixed_time(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


def card(i: int, extra: str = "", tag: str = "") -> str:
    if i % 7 == 0:  # a cloze card now and then: more than one card to a note
        return f"## Cloze {i} {{#k-{i}}}\nItem {i} has {{{{c1::part {i}}}}} and {{{{c2::piece {i}}}}}.{extra}\n\n### Explanation\nReason {i}.\n"
    return f"## Card {i} {{#k-{i}}}\nWhat is item {i}?{extra}\n\n### Answer\nValue {i}.\n\n### Explanation\nBecause of rule {i}.\n\nTags: {tag or f't{i % 3}'}\n"


def write_deck(cards: Path, numbers: list[int], edits: dict[int, str] | None = None, deck: str = "Big", tags: dict[int, str] | None = None) -> None:
    edits, tags = edits or {}, tags or {}
    text = f"---\ndeck: {deck}\n---\n" + "\n".join(card(i, edits.get(i, ""), tags.get(i, "")) for i in numbers)
    (cards / "big.md").write_text(text, encoding="utf-8")


def build(cards: Path, out: Path, capsys) -> tuple[bytes, int]:
    """Build with the cache (CLI, --verbose): the package's bytes and how many notes its collection wrote."""
    capsys.readouterr()
    assert main(["build", str(cards), "--out", str(out), "--verbose"]) == 0
    said = capsys.readouterr().out
    m = re.search(r"\[([\d,]+) of ([\d,]+) notes written", said)
    written = int(m.group(1).replace(",", "")) if m else None
    return (out / "big.apkg").read_bytes(), written


def cold(cards: Path, out: Path) -> bytes:
    """The same sources and lock built without any cache."""
    shutil.rmtree(out, ignore_errors=True)
    api.build(cards, out, use_cache=False)
    return (out / "big.apkg").read_bytes()


@pytest.fixture
def deck(tmp_path, capsys):
    cards = tmp_path / "cards"
    cards.mkdir()
    write_deck(cards, list(range(N)))
    first, written = build(cards, tmp_path / "dist", capsys)
    assert written is None  # a cold build writes every note, and says nothing about it
    assert first == cold(cards, tmp_path / "cold")
    return cards


EDITS = {
    "one card's text": (list(range(N)), {5: " Edited."}, "Big"),
    "one card's tags": (list(range(N)), {}, "Big", {8: "renal"}),
    "a card added in the middle": ([*range(100), 10_000, *range(100, N)], {}, "Big"),
    "a card deleted (retired)": ([i for i in range(N) if i != 50], {}, "Big"),
    "the cards' order": (list(reversed(range(N))), {}, "Big"),
    "every card's deck": (list(range(N)), {}, "Bigger"),
    "a cloze card gets a third deletion": (list(range(N)), {14: " And {{c3::more}}."}, "Big"),
}


@pytest.mark.parametrize("change", list(EDITS), ids=list(EDITS))
def test_a_rebuild_after_a_change_equals_a_cold_build(deck, tmp_path, capsys, change):
    write_deck(deck, *EDITS[change])
    rebuilt, written = build(deck, tmp_path / "dist", capsys)
    assert rebuilt == cold(deck, tmp_path / "cold")
    if change in ("one card's text", "one card's tags", "a cloze card gets a third deletion"):
        assert written == 1
    elif change == "a card deleted (retired)":
        assert written == 1  # its notice replaces its note
    elif change == "a card added in the middle":
        assert written is not None and written < 5


def test_a_run_of_rebuilds_keeps_equal_to_cold_builds(deck, tmp_path, capsys):
    numbers = list(range(N))
    steps = [
        (numbers, {3: " One."}),
        (numbers, {3: " One.", 200: " Two."}),
        ([*numbers, 20_000, 20_001], {3: " One."}),
        ([n for n in numbers if n not in (7, 8)] + [20_000, 20_001], {}),
        ([n for n in numbers if n not in (7, 8)] + [20_000, 20_001], {}),
    ]
    for n, (kept, edits) in enumerate(steps):
        write_deck(deck, kept, edits)
        rebuilt, written = build(deck, tmp_path / "dist", capsys)
        assert rebuilt == cold(deck, tmp_path / f"cold-{n}"), f"step {n}"
        assert written is not None or n == 4, f"step {n}: the collection was inserted afresh"


def test_a_build_that_changes_nothing_keeps_what_the_next_edit_patches(deck, tmp_path, capsys, monkeypatch):
    """A package left as it is still counts as used: its working database and deflated chunks are
    not pruned, so the edit after a no-change build (or after `--watch` starts) is not a cold write."""
    from flashdeck import package

    monkeypatch.setattr(package, "CHUNKED_MIN", 1 << 16)  # (this package's 0.4 MB collection deflated in chunks)
    write_deck(deck, list(range(N)), {5: " Edited."})
    build(deck, tmp_path / "dist", capsys)  # (now chunked, in the cache)
    capsys.readouterr()
    assert main(["build", str(deck), "--out", str(tmp_path / "dist"), "--verbose"]) == 0
    assert "unchanged " in capsys.readouterr().out
    write_deck(deck, list(range(N)), {5: " Edited.", 9: " Again."})
    capsys.readouterr()
    assert main(["build", str(deck), "--out", str(tmp_path / "dist"), "--verbose"]) == 0
    said = capsys.readouterr().out
    assert "1 of " in said and "notes written" in said, said
    reused = re.search(r"deflated in chunks: (\d+) new, (\d+) from the cache", said)
    assert reused and int(reused.group(2)) >= 1, said
    assert (tmp_path / "dist" / "big.apkg").read_bytes() == cold(deck, tmp_path / "cold")


def working_databases() -> list[Path]:
    return sorted(p for p in cachekey.cache_root().glob("*.files/*") if p.is_file())


def test_a_planted_working_database_is_not_used(deck, tmp_path, capsys):
    """What ships depends only on the sources and the lock: an altered copy in the cache is thrown away."""
    (work,) = working_databases()
    conn = sqlite3.connect(work)
    conn.execute("UPDATE notes SET flds = flds || '<script>alert(1)</script>' WHERE id = (SELECT min(id) FROM notes)")
    conn.commit()
    conn.close()
    write_deck(deck, list(range(N)), {9: " Edited."})
    rebuilt, written = build(deck, tmp_path / "dist", capsys)
    assert written is None  # inserted afresh
    assert b"<script>alert(1)" not in rebuilt and rebuilt == cold(deck, tmp_path / "cold")


def test_what_a_stopped_build_left_beside_the_cache_does_not_stop_the_next(deck, tmp_path, capsys):
    (work,) = working_databases()
    (cache,) = cachekey.cache_root().glob("*.sqlite")
    with sqlite3.connect(cache) as db:  # no record of it: as after a first build that was stopped
        db.execute("DELETE FROM blob WHERE key = ?", (work.name,))
    left = work.with_name(work.name + ".new")
    shutil.copyfile(tmp_path / "dist" / "big.apkg", left)
    write_deck(deck, list(range(N)), {9: " Edited."})
    rebuilt, written = build(deck, tmp_path / "dist", capsys)
    assert written is None and rebuilt == cold(deck, tmp_path / "cold")


def test_the_working_database_of_a_package_that_is_gone_is_dropped(deck, tmp_path, capsys):
    (before,) = working_databases()
    (deck / "big.md").rename(deck / "other.md")
    assert main(["build", str(deck), "--out", str(tmp_path / "dist")]) == 0
    (after,) = working_databases()  # other.md's: big.md's package is gone, and so is its copy
    assert after.name != before.name


def test_a_patched_collection_imports_into_anki(deck, tmp_path, capsys):
    from ankiutil import import_apkg, new_collection, notes_by_id

    write_deck(deck, list(range(N)), {5: " Edited."})
    _, written = build(deck, tmp_path / "dist", capsys)
    assert written == 1
    col = new_collection(tmp_path / "anki")
    try:
        import_apkg(col, tmp_path / "dist" / "big.apkg")
        notes = notes_by_id(col)
        assert len(notes) == N
        assert "Edited." in notes["k-5"]["Question"]
        assert col.card_count() == N + len([i for i in range(N) if i % 7 == 0])
    finally:
        col.close()


def test_a_file_another_build_is_writing_beside_the_cache_is_left_alone(deck, tmp_path, capsys):
    """Pruning deletes what no build uses, but not a `.new` file younger than an hour: another build of
    the same cards may be writing it (then patching and vacuuming it), and would ship an empty collection."""
    import os
    import time

    (work,) = working_databases()
    young, old = work.with_name("k" + "0" * 64 + ".new"), work.with_name("k" + "1" * 64 + ".new")
    young.write_bytes(b"being written")
    old.write_bytes(b"left by a build stopped long ago")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    write_deck(deck, list(range(N)), {9: " Edited."})
    build(deck, tmp_path / "dist", capsys)
    assert young.exists() and not old.exists()


def test_a_working_database_file_another_build_writes_is_never_this_builds(deck, tmp_path, capsys):
    """Two builds of the same cards (a --watch beside a build) each write their own working file:
    at one fixed name they overwrote and deleted each other's, and the builds failed or crashed."""
    (work,) = working_databases()
    theirs = work.with_name(work.name + ".new")  # (the name every build used)
    theirs.write_bytes(b"another build's half-written working database")
    write_deck(deck, list(range(N)), {9: " Edited."})
    rebuilt, written = build(deck, tmp_path / "dist", capsys)
    assert written == 1 and rebuilt == cold(deck, tmp_path / "cold")
    assert theirs.read_bytes() == b"another build's half-written working database"


def test_a_working_database_replaced_by_another_build_right_after_this_one_is_not_patched(deck, tmp_path, capsys, monkeypatch):
    """The record's MAC is of the file this build wrote, taken before it is moved into place: when
    another build of these cards moves its own in just after, the next build finds the MAC wrong and
    inserts afresh, instead of patching the other build's rows as if they were this one's."""
    import os

    (work,) = working_databases()
    earlier = work.read_bytes()  # (what a build of the cards as they were still writes)
    move = os.replace

    def replaced_by_another(src, dst):
        move(src, dst)
        if Path(dst) == work:
            Path(dst).write_bytes(earlier)

    monkeypatch.setattr(collection.os, "replace", replaced_by_another)
    write_deck(deck, list(range(N)), {9: " Edited."})
    build(deck, tmp_path / "dist", capsys)
    monkeypatch.setattr(collection.os, "replace", move)
    write_deck(deck, list(range(N)), {9: " Edited.", 12: " Again."})
    rebuilt, written = build(deck, tmp_path / "dist", capsys)
    assert written is None  # inserted afresh
    assert rebuilt == cold(deck, tmp_path / "cold")

