"""The build cache (cache.py, batch.py): a warm build equals a cold one, and a bad cache is never trusted."""

from __future__ import annotations

import os
import pickle
import sqlite3
import time
import zipfile
from pathlib import Path

import pytest

from flashdeck import api, batch, cache
from flashdeck.cli import main


@pytest.fixture(autouse=True)
def fixed_time(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


@pytest.fixture(autouse=True)
def new_process():
    """Forget the results a previous build in this process kept in memory (batch._MEMO), as a new process would."""
    batch._MEMO.clear()
    return batch._MEMO.clear


@pytest.fixture
def cards(fixture_cards):
    """alpha.md (two cards) and topics/beta.md (one card showing topics/dot.png)."""
    folder = fixture_cards("cache")
    for entry in list((folder / "cache").iterdir()):
        entry.rename(folder / entry.name)
    (folder / "cache").rmdir()
    return folder


@pytest.fixture
def work(monkeypatch):
    """The files actually parsed and rendered (not taken from the cache), by name."""
    done: list[str] = []
    real = batch._work

    def spy(arg):
        done.append(arg[0].path.name)
        return real(arg)

    monkeypatch.setattr(batch, "_work", spy)
    return done


def packages(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.glob("*.apkg"))}


def cold(cards: Path, out: Path) -> dict[str, bytes]:
    api.build(cards, out, use_cache=False)
    return packages(out)


def fields(apkg: Path) -> dict[str, list[str]]:
    """Card id -> the note's fields, as stored in the package."""
    db = apkg.with_suffix(".anki2")
    with zipfile.ZipFile(apkg) as zf:
        db.write_bytes(zf.read("collection.anki2"))
    conn = sqlite3.connect(db)
    try:
        rows = [r[0].split("\x1f") for r in conn.execute("SELECT flds FROM notes")]
    finally:
        conn.close()
    return {f[0]: f for f in rows}


def entries(cards: Path) -> list[str]:
    return sorted(p.name for p in (cards / cache.CACHE_DIR).iterdir() if p.name != "CACHEDIR.TAG")


def test_warm_build_equals_cold_build_byte_for_byte(cards, tmp_path, work):
    api.build(cards, tmp_path / "first")
    assert sorted(work) == ["alpha.md", "beta.md"]
    work.clear()
    api.build(cards, tmp_path / "warm")
    assert work == []
    assert packages(tmp_path / "warm") == cold(cards, tmp_path / "cold")
    assert packages(tmp_path / "warm") == packages(tmp_path / "first")


def test_edited_file_alone_is_parsed_and_rendered_again(cards, tmp_path, work):
    api.build(cards, tmp_path / "dist")
    work.clear()
    path = cards / "alpha.md"
    path.write_text(path.read_text(encoding="utf-8").replace("About *70%*", "About *two thirds*"), encoding="utf-8")
    api.build(cards, tmp_path / "dist")
    assert work == ["alpha.md"]
    explanation = fields(tmp_path / "dist" / "alpha.apkg")["alpha-1"][4]
    assert explanation == "About <em>two thirds</em> of it, through <code>claudin-16</code>."
    assert packages(tmp_path / "dist") == cold(cards, tmp_path / "cold")


def test_changed_image_is_packaged_under_its_new_name(cards, tmp_path):
    """The card file is unchanged, but the image it shows is not: its cached HTML must not be reused."""
    api.build(cards, tmp_path / "dist")
    (cards / "topics" / "dot.png").write_bytes(b"\x89PNG\r\n\x1a\nother bytes")
    api.build(cards, tmp_path / "dist")
    import hashlib

    name = "fd-" + hashlib.sha256(b"\x89PNG\r\n\x1a\nother bytes").hexdigest()[:16] + ".png"
    assert f'src="{name}"' in fields(tmp_path / "dist" / "topics.apkg")["beta-1"][1]
    with zipfile.ZipFile(tmp_path / "dist" / "topics.apkg") as zf:
        assert name in zf.read("media").decode()
    assert packages(tmp_path / "dist") == cold(cards, tmp_path / "cold")


def test_missing_image_is_reported_even_when_its_card_file_is_cached(cards, tmp_path, capsys):
    api.build(cards, tmp_path / "dist")
    (cards / "topics" / "dot.png").unlink()
    assert main(["check", str(cards)]) == 1
    assert f"{cards / 'topics' / 'beta.md'}:4:12: error: card 'beta-1': image 'dot.png' not found" in capsys.readouterr().err


def test_corrupt_entries_are_ignored_and_rewritten(cards, tmp_path, work, new_process):
    api.build(cards, tmp_path / "dist")
    before = entries(cards)
    for name in before:
        (cards / cache.CACHE_DIR / name).write_bytes(b"\x80\x05 not a pickle")
    new_process()
    work.clear()
    api.build(cards, tmp_path / "dist")
    assert sorted(work) == ["alpha.md", "beta.md"]
    assert packages(tmp_path / "dist") == cold(cards, tmp_path / "cold")
    assert entries(cards) == before
    new_process()
    work.clear()
    api.build(cards, tmp_path / "dist")
    assert work == []


def test_entry_stored_under_another_key_is_not_used(cards, tmp_path, work, new_process):
    """A foreign entry (another file's result, renamed) must not stand in for this file."""
    api.build(cards, tmp_path / "dist")
    key_of = {
        name: cache.key((cards / rel).read_bytes(), cards / rel, rel, deck)
        for name, rel, deck in (("alpha", "alpha.md", "alpha"), ("beta", "topics/beta.md", "topics::beta"))
    }
    folder = cards / cache.CACHE_DIR
    (folder / key_of["alpha"]).write_bytes((folder / key_of["beta"]).read_bytes())
    new_process()
    work.clear()
    api.build(cards, tmp_path / "dist")
    assert work == ["alpha.md"]
    assert packages(tmp_path / "dist") == cold(cards, tmp_path / "cold")


def test_entry_cannot_run_code(cards, tmp_path, work, new_process):
    api.build(cards, tmp_path / "dist")
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (os.mkdir, (str(marker),))

    for name in entries(cards):
        (cards / cache.CACHE_DIR / name).write_bytes(pickle.dumps((cache.FORMAT, name, Evil())))
    new_process()
    work.clear()
    api.build(cards, tmp_path / "dist")
    assert not marker.exists()
    assert sorted(work) == ["alpha.md", "beta.md"]


def test_entries_of_other_flashdeck_code_are_never_used(cards, tmp_path, work, monkeypatch):
    api.build(cards, tmp_path / "dist")
    monkeypatch.setattr(cache, "_CONTEXT", b"flashdeck with other rendering code")
    work.clear()
    api.build(cards, tmp_path / "dist")
    assert sorted(work) == ["alpha.md", "beta.md"]


def test_another_flashdeck_version_gets_other_keys(monkeypatch):
    args = (b"## Q {#q}\n", Path("cards/a.md"), "a.md", "a")
    monkeypatch.setattr(cache, "_CONTEXT", None)
    ours = cache.key(*args)
    monkeypatch.setattr(cache, "_CONTEXT", None)
    monkeypatch.setattr(cache, "__version__", "0.0.0-other")
    assert cache.key(*args) != ours


def test_deleting_the_cache_changes_nothing(cards, tmp_path):
    api.build(cards, tmp_path / "dist")
    first = packages(tmp_path / "dist")
    import shutil

    shutil.rmtree(cards / cache.CACHE_DIR)
    api.build(cards, tmp_path / "dist")
    assert packages(tmp_path / "dist") == first


def test_entries_no_build_uses_are_deleted(cards, tmp_path):
    api.build(cards, tmp_path / "dist")
    old = set(entries(cards))
    path = cards / "alpha.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    api.build(cards, tmp_path / "dist")
    now = set(entries(cards))
    # One entry per card file (hex names), the old alpha.md entry gone, plus the
    # one `g…` entry holding what packages take from genanki (package.py).
    per_file = {n for n in now if n[0] in "0123456789abcdef"}
    assert len(per_file) == 2
    assert len(old & per_file) == 1
    assert len(now - per_file) == 1 and (now - per_file) <= old and next(iter(now - per_file)).startswith("g")


def test_check_reads_a_builds_cache_and_writes_nothing(cards, tmp_path, work):
    api.build(cards, tmp_path / "dist")
    snapshot = {p: p.stat().st_mtime_ns for p in cards.rglob("*")}
    work.clear()
    api.check(cards)
    assert work == []
    path = cards / "alpha.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    snapshot[path] = path.stat().st_mtime_ns
    api.check(cards)
    assert work == ["alpha.md"]
    assert {p: p.stat().st_mtime_ns for p in cards.rglob("*")} == snapshot


def test_file_changing_while_read_is_not_filed_under_its_old_bytes(cards):
    """The key is taken before parsing; if the bytes differ by then, the result must not be stored under it."""
    path = cards / "alpha.md"
    stale_key = cache.key(b"older bytes", path, "alpha.md", "alpha")
    result = batch._work((batch.Job(path, "alpha.md", "alpha"), str(cards), stale_key, str(cards)))
    assert [c.id for c in result.cards] == ["alpha-1", "alpha-2"]
    assert not (cards / cache.CACHE_DIR / stale_key).exists()


def test_parallel_build_equals_serial_build(cards, tmp_path, monkeypatch):
    for i in range(6):
        (cards / "topics" / f"more-{i}.md").write_text(
            f"## Extra {i} {{#extra-{i}}}\nWhat is {i}?\n\n### Answer\n*{i}*\n\n### Explanation\nIt is `{i}`.\n", encoding="utf-8"
        )
    serial = cold(cards, tmp_path / "serial")
    monkeypatch.setattr(batch, "PARALLEL_MIN_BYTES", 0)
    used = []
    real = batch._worker_count
    monkeypatch.setattr(batch, "_worker_count", lambda *a: used.append(real(*a)) or 2)
    assert cold(cards, tmp_path / "parallel") == serial
    assert used  # the pool was asked for


def test_a_second_build_in_one_process_reuses_results_kept_in_memory(cards, tmp_path, work, monkeypatch):
    """What build --watch relies on: no entry is read from disk again, and the output is the same."""
    monkeypatch.setattr(batch, "REMEMBER", True)
    api.build(cards, tmp_path / "dist")
    first = packages(tmp_path / "dist")
    monkeypatch.setattr(cache.Cache, "get", lambda self, k: pytest.fail("read an entry from disk"))
    work.clear()
    api.build(cards, tmp_path / "dist")
    assert work == []
    assert packages(tmp_path / "dist") == first


def test_big_decks_build_the_same_without_keeping_card_markdown(cards, tmp_path, monkeypatch):
    """Above SLIM_MIN_BYTES, build drops each card's Markdown once rendered: same packages, same id checks."""
    plain = cold(cards, tmp_path / "plain")
    monkeypatch.setattr(batch, "SLIM_MIN_BYTES", 0)
    assert cold(cards, tmp_path / "slim") == plain
    (cards / "copy.md").write_text((cards / "alpha.md").read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(api.BuildError) as err:
        api.build(cards, tmp_path / "slim")
    assert f"card id 'alpha-1' of 'Site of magnesium reabsorption' is already used by 'Site of magnesium reabsorption' at {cards / 'alpha.md'}:4" in str(err.value)


def _edit_alpha(cards: Path) -> None:
    path = cards / "alpha.md"
    path.write_text(path.read_text(encoding="utf-8").replace("About *70%* of it", "About *two thirds* of it"), encoding="utf-8")


@pytest.mark.parametrize("child", ["answers", "fails"])
def test_changed_file_rendered_in_a_forked_process_gives_the_cold_build(cards, tmp_path, monkeypatch, child):
    """Big decks render the edited files in a child while loading the others' entries; its result is the same.

    When the child fails, the files are rendered in this process instead.
    """
    monkeypatch.setattr(batch, "AHEAD_MIN_CACHED_BYTES", 0)
    # batch forks only while this process runs a single thread (forking beside
    # other threads is unsafe), and threads left by earlier tests (a browser
    # driver, Anki's backend) may still be ending. The subject here is what the
    # forked path produces, so let stray threads finish, then allow the fork.
    deadline = time.monotonic() + 5
    while not batch._single_threaded() and time.monotonic() < deadline:
        time.sleep(0.05)
    monkeypatch.setattr(batch, "_single_threaded", lambda: True)
    forked = []
    real = batch._render_ahead

    def spy(*args):
        ahead = real(*args)
        forked.append(ahead is not None and sorted(args[0][i].path.name for i in ahead.indexes))
        return ahead

    monkeypatch.setattr(batch, "_render_ahead", spy)
    if child == "fails":
        parent, real_work = os.getpid(), batch._work

        def work(arg):
            if os.getpid() != parent:
                raise RuntimeError("the child dies")
            return real_work(arg)

        monkeypatch.setattr(batch, "_work", work)
    api.build(cards, tmp_path / "dist")
    _edit_alpha(cards)
    api.build(cards, tmp_path / "dist")
    assert forked == [False, ["alpha.md"]]  # the first build has no entries to load
    warm = packages(tmp_path / "dist")
    assert "About <em>two thirds</em> of it" in fields(tmp_path / "dist" / "alpha.apkg")["alpha-1"][4]
    assert warm == cold(cards, tmp_path / "cold")


def test_changed_image_rerenders_a_file_whose_other_cards_were_cached_without_markdown(cards, tmp_path):
    """A build loads cached cards without their Markdown; re-rendering for a new image must get it back."""
    beta = cards / "topics" / "beta.md"
    beta.write_text(
        beta.read_text(encoding="utf-8")
        + "\n## Plain neighbour {#beta-2}\nWhat is *plain*?\n\n### Answer\nNo image.\n\n### Explanation\nNone at all.\n",
        encoding="utf-8",
    )
    api.build(cards, tmp_path / "dist")
    (cards / "topics" / "dot.png").write_bytes(b"\x89PNG\r\n\x1a\nother bytes")
    api.build(cards, tmp_path / "dist")
    assert fields(tmp_path / "dist" / "topics.apkg")["beta-2"][1] == "What is <em>plain</em>?"
    assert packages(tmp_path / "dist") == cold(cards, tmp_path / "cold")


def test_check_after_a_build_gets_every_cached_card_whole(cards, tmp_path):
    api.build(cards, tmp_path / "dist")
    loaded = api.load(cards)
    alpha = {c.id: c for c in loaded.cards["alpha"]}
    assert alpha["alpha-1"].explanation.text == "About *70%* of it, through `claudin-16`."
    assert [o.text for o in alpha["alpha-1"].options] == ["Proximal tubule", "Thick ascending limb"]
