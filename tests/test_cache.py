"""The build cache (store.py, cardwork.py): a warm build equals a cold one, work is per card, and no entry is trusted blindly.

`report.cached` counts the cards whose result a build took from the cache (or
from the session's last build) instead of rendering them.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from flashdeck import api, cachefiles, cachekey, store
from flashdeck.cli import main
from flashdeck.session import Session


@pytest.fixture(autouse=True)
def fixed_time(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


@pytest.fixture
def cards(fixture_cards):
    """alpha.md (two cards) and topics/beta.md (one card showing topics/dot.png)."""
    folder = fixture_cards("cache")
    for entry in list((folder / "cache").iterdir()):
        entry.rename(folder / entry.name)
    (folder / "cache").rmdir()
    return folder


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


def cache_files() -> list[Path]:
    return sorted(cachekey.cache_root().glob("*.sqlite"))


def rows(table: str = "card") -> list[tuple]:
    (path,) = cache_files()
    with sqlite3.connect(path) as db:
        return db.execute(f"SELECT * FROM {table}").fetchall()


# A big deck's results are read in one pass over the cache, a small one's looked up by key
# (store.SCAN_FROM); these fixtures are small, so the tests that guard what a warm build reads
# run both ways by setting the threshold.
READ_PATHS = pytest.mark.parametrize("scan_from", [10**9, 1], ids=["looked-up-by-key", "one-pass"])


@READ_PATHS
def test_warm_build_equals_cold_build_byte_for_byte(cards, tmp_path, monkeypatch, scan_from):
    monkeypatch.setattr(store, "SCAN_FROM", scan_from)
    first = api.build(cards, tmp_path / "first")
    assert (first.cards, first.cached) == (3, 0)
    warm = api.build(cards, tmp_path / "warm")
    assert (warm.cards, warm.cached) == (3, 3)
    assert packages(tmp_path / "warm") == cold(cards, tmp_path / "cold")
    assert packages(tmp_path / "warm") == packages(tmp_path / "first")


def test_the_cache_lives_outside_the_cards_folder(cards, tmp_path):
    """A shared zip or repository of the cards folder carries no entries (issue 15)."""
    before = sorted(p.relative_to(cards) for p in cards.rglob("*"))
    api.build(cards, tmp_path / "dist")
    after = sorted(p.relative_to(cards) for p in cards.rglob("*"))
    assert [p for p in after if p not in before] == [Path("flashdeck.lock")]
    assert len(cache_files()) == 1


def test_edited_card_alone_is_rendered_again(cards, tmp_path):
    api.build(cards, tmp_path / "dist")
    path = cards / "alpha.md"
    path.write_text(path.read_text(encoding="utf-8").replace("About *70%*", "About *two thirds*"), encoding="utf-8")
    report = api.build(cards, tmp_path / "dist")
    assert (report.cards, report.cached) == (3, 2)
    explanation = fields(tmp_path / "dist" / "alpha.apkg")["alpha-1"][4]
    assert explanation == "About <em>two thirds</em> of it, through <code>claudin-16</code>."
    assert packages(tmp_path / "dist") == cold(cards, tmp_path / "cold")


def imported_by_a_one_card_rebuild(cards: Path, out: Path, modules: list[str], builds: int = 1) -> list[str]:
    """Build (`builds` times), edit one card, rebuild in a new process: its exit code, then whether it imported each of `modules`."""
    for _ in range(builds):
        api.build(cards, out)
    path = cards / "alpha.md"
    path.write_text(path.read_text(encoding="utf-8").replace("About *70%*", "About *two thirds*"), encoding="utf-8")
    code = (
        "import sys; from flashdeck.cli import main; "
        f"rc = main(['build', {str(cards)!r}, '--out', {str(out)!r}, '-q']); print(rc, *[m in sys.modules for m in {modules!r}])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_a_rebuild_takes_genankis_facts_from_the_cache_without_importing_it(cards, tmp_path):
    """Importing genanki and making the note types' JSON was 40 ms of a one-card rebuild (package.facts)."""
    assert imported_by_a_one_card_rebuild(cards, tmp_path / "dist", ["genanki"]) == ["0", "False"]
    assert packages(tmp_path / "dist") == cold(cards, tmp_path / "cold")


def test_a_build_that_changes_nothing_keeps_genankis_facts_for_the_next_rebuild(cards, tmp_path):
    """The facts are used only when a package is written: a no-change build in between used to prune them."""
    assert imported_by_a_one_card_rebuild(cards, tmp_path / "dist", ["genanki"], builds=2) == ["0", "False"]


def test_a_watch_session_that_wrote_a_package_keeps_genankis_facts_for_the_next_process(cards, tmp_path):
    """Within a session the facts are made once; each build that writes still marks them used, or its pruning drops them."""
    with Session() as s:
        api.build(cards, tmp_path / "dist", session=s)
        for path, old, new in [(cards / "alpha.md", "0.7 to 1.0", "0.70 to 1.00"), (cards / "topics" / "beta.md", "the dot.", "the dot shown.")]:
            path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")  # (every package written)
        assert not any(p.unchanged for p in api.build(cards, tmp_path / "dist", session=s).packages)
    assert imported_by_a_one_card_rebuild(cards, tmp_path / "dist", ["genanki"], builds=0) == ["0", "False"]


def test_a_cache_another_build_holds_locked_stops_no_build_of_a_watch_session(cards, tmp_path):
    """A write the cache refuses goes to a scratch file the session reads too. (The session dropped
    the cache instead, and its cards' results could no longer find their fields: every later build
    stopped with 'failed its integrity check'.)"""
    with Session() as s:
        api.build(cards, tmp_path / "dist", session=s)
        (held,) = s._stores.values()
        held._db.execute("PRAGMA busy_timeout = 50")  # (reaching inside: not to wait the 2 s another build gets)
        other = sqlite3.connect(cache_files()[0], isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another build writing: it reads, but cannot write
        path = cards / "alpha.md"
        for old, new in [("About *70%*", "About *two thirds*"), ("0.7 to 1.0", "0.70 to 1.00")]:
            path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
            assert api.build(cards, tmp_path / "dist", session=s).change.changed
        other.execute("ROLLBACK")
        other.close()
        path.write_text(path.read_text(encoding="utf-8").replace("About *", "About *nearly "), encoding="utf-8")
        assert api.build(cards, tmp_path / "dist", session=s).change.changed
    assert packages(tmp_path / "dist") == cold(cards, tmp_path / "cold")


def test_a_rebuild_reads_unchanged_front_matter_from_the_cache_without_importing_yaml(cards, tmp_path):
    """Pure-Python YAML was 40 ms of a one-card rebuild of 200 files, importlib.metadata 30 ms (frontmatter.read, cachekey)."""
    assert imported_by_a_one_card_rebuild(cards, tmp_path / "dist", ["yaml", "importlib.metadata"]) == ["0", "False", "False"]
    assert packages(tmp_path / "dist") == cold(cards, tmp_path / "cold")


def test_front_matter_read_from_the_cache_says_and_gives_what_it_did_when_read(cards, tmp_path, capsys):
    path = cards / "alpha.md"
    path.write_text(path.read_text(encoding="utf-8").replace("deck: Cache::Alpha\n", "deck: Cache::Alpha\ntags: renal, renal, Mg\ndekc: x\n"), encoding="utf-8")
    said = []
    for _ in range(2):
        assert main(["build", str(cards), "--out", str(tmp_path / "dist")]) == 0
        said.append(capsys.readouterr().err)
        path.write_text(path.read_text(encoding="utf-8").replace("About *70%*", "About *two thirds*"), encoding="utf-8")
    assert f"{path}:4:1: warning: unknown front matter key 'dekc' is ignored; did you mean 'deck'?" in said[0]
    assert said[1] == said[0]
    assert packages(tmp_path / "dist") == cold(cards, tmp_path / "cold")  # (the second build wrote alpha.apkg: the tags and the deck came from the cache)


def test_a_file_cut_from_the_cache_gives_the_same_cards_and_warnings(cards, tmp_path, capsys):
    """What a file was cut into and what is wrong outside its cards are kept by its bytes (sources.py)."""
    odd = cards / "odd.md"
    odd.write_text(
        "A stray line before any card.\n\n##Lookalike heading\n\n## First {#odd-1}\nWhat?\n\n### Answer\nThis.\n\n### Explanation\nBecause.\n\n"
        "# Level one {#not-a-card}\n\n## Second {#odd-2}\nWhich?\n\n### Answer\nThat.\n\n### Explanation\nSo.\n\n```\nnever closed\n",
        encoding="utf-8",
    )
    said = []
    for n in range(2):
        if n:  # (another file edited: the build goes on to write a package)
            path = cards / "alpha.md"
            path.write_text(path.read_text(encoding="utf-8").replace("About *70%*", "About *two thirds*"), encoding="utf-8")
        assert main(["build", str(cards), "--out", str(tmp_path / "dist")]) == 0
        said.append(capsys.readouterr().err)
    assert said[0].count("warning:") == 4, said[0]
    assert all(f"{odd}:{line}" in said[0] for line in ("1: warning", "3:1: warning", "14:1: warning", "25:1: warning"))
    assert said[1] == said[0]
    assert packages(tmp_path / "dist") == cold(cards, tmp_path / "cold")


@pytest.mark.parametrize("big", [False, True])
def test_a_rebuild_cuts_again_only_the_files_and_cards_that_changed(cards, tmp_path, monkeypatch, big):
    """Unchanged files are not cut again; of a changed big one, only the cards that changed (rescan.py), while a
    small one is cut whole. Reaches inside (scan.split, sources.RESCAN_FROM: these files are small) because
    what it guards is work not done: the output is the same either way."""
    from flashdeck import scan, sources

    if big:
        monkeypatch.setattr(sources, "RESCAN_FROM", 0)
    api.build(cards, tmp_path / "dist")
    cut, split = [], scan.split
    monkeypatch.setattr(scan, "split", lambda data: cut.append(data) or split(data))
    path = cards / "alpha.md"
    path.write_text(path.read_text(encoding="utf-8").replace("About *70%*", "About *two thirds*"), encoding="utf-8")
    api.build(cards, tmp_path / "dist")
    edited = path.read_bytes()
    assert cut == [edited[edited.index(b"## Site of") : edited.index(b"## Normal serum")] if big else edited]
    assert packages(tmp_path / "dist") == cold(cards, tmp_path / "cold")


def test_card_moved_down_its_file_is_not_rendered_again(cards, tmp_path):
    """The key of a card is its text, not its line: lines added above it change nothing."""
    api.build(cards, tmp_path / "dist")
    path = cards / "alpha.md"
    path.write_text(path.read_text(encoding="utf-8").replace("---\n## Site", "---\n<!-- a note -->\n\n\n## Site"), encoding="utf-8")
    report = api.build(cards, tmp_path / "dist")
    assert report.cached == 3
    assert packages(tmp_path / "dist") == cold(cards, tmp_path / "cold")


def test_findings_of_a_cached_card_point_at_its_new_line(cards, tmp_path, capsys):
    path = cards / "alpha.md"
    path.write_text(path.read_text(encoding="utf-8").replace("0.7 to 1.0 mmol/L.", "0.7 to 1.0 mmol/L.\n\n### Notes\nx"), encoding="utf-8")
    assert main(["check", str(cards)]) == 0
    first = capsys.readouterr().err
    assert f"{path}:19:1: warning: card 'alpha-2': section '### Notes'" in first
    api.build(cards, tmp_path / "dist")
    path.write_text(path.read_text(encoding="utf-8").replace("---\n## Site", "---\n\n\n## Site"), encoding="utf-8")
    assert main(["check", str(cards)]) == 0
    assert f"{path}:21:1: warning: card 'alpha-2': section '### Notes'" in capsys.readouterr().err


def test_unchanged_package_is_left_as_it_is(cards, tmp_path, capsys):
    out = tmp_path / "dist"
    api.build(cards, out)
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.apkg")}
    path = cards / "alpha.md"
    path.write_text(path.read_text(encoding="utf-8").replace("About *70%*", "About *two thirds*"), encoding="utf-8")
    assert main(["build", str(cards), "--out", str(out), "--verbose"]) == 0
    stdout = capsys.readouterr().out
    assert f"unchanged {out / 'topics.apkg'}: 1 cards in topics" in stdout
    assert (out / "topics.apkg").stat().st_mtime_ns == before["topics.apkg"]
    assert (out / "alpha.apkg").stat().st_mtime_ns != before["alpha.apkg"]
    assert packages(out) == cold(cards, tmp_path / "cold")


def test_package_replaced_by_hand_is_written_again(cards, tmp_path):
    out = tmp_path / "dist"
    api.build(cards, out)
    good = (out / "topics.apkg").read_bytes()
    (out / "topics.apkg").write_bytes(b"not a package")
    report = api.build(cards, out)
    assert [p.unchanged for p in report.packages] == [True, False]
    assert (out / "topics.apkg").read_bytes() == good


def test_changed_image_is_packaged_under_its_new_name(cards, tmp_path):
    """The card file is unchanged, but the image it shows is not: its packaged name must follow."""
    api.build(cards, tmp_path / "dist")
    (cards / "topics" / "dot.png").write_bytes(b"\x89PNG\r\n\x1a\nother bytes")
    api.build(cards, tmp_path / "dist")
    name = "fd-" + hashlib.sha256(b"\x89PNG\r\n\x1a\nother bytes").hexdigest()[:16] + ".png"
    assert f'src="{name}"' in fields(tmp_path / "dist" / "topics.apkg")["beta-1"][1]
    with zipfile.ZipFile(tmp_path / "dist" / "topics.apkg") as zf:
        assert name in zf.read("media").decode()
    assert packages(tmp_path / "dist") == cold(cards, tmp_path / "cold")


def test_missing_image_is_reported_even_when_its_card_is_cached(cards, tmp_path, capsys):
    api.build(cards, tmp_path / "dist")
    (cards / "topics" / "dot.png").unlink()
    assert main(["check", str(cards)]) == 1
    assert f"{cards / 'topics' / 'beta.md'}:4:12: error: card 'beta-1': image 'dot.png' not found" in capsys.readouterr().err


@READ_PATHS
def test_tampered_entries_change_nothing_that_ships(cards, tmp_path, monkeypatch, scan_from):
    """An entry altered by anyone without this machine's key fails its check and is rendered anew."""
    monkeypatch.setattr(store, "SCAN_FROM", scan_from)
    api.build(cards, tmp_path / "dist")
    good = packages(tmp_path / "dist")
    (path,) = cache_files()
    with sqlite3.connect(path) as db:
        for key, fields_blob in db.execute("SELECT key, fields FROM card").fetchall():
            evil = fields_blob.replace(b"Thick ascending limb", b"<img src=x onerror=alert(1)>")
            db.execute("UPDATE card SET fields = ?, result = result || X'00' WHERE key = ?", (evil, key))
        db.execute("UPDATE blob SET value = X'00'")
    report = api.build(cards, tmp_path / "again")
    assert report.cached == 0
    assert packages(tmp_path / "again") == good
    assert b"onerror" not in b"".join(packages(tmp_path / "again").values())


def test_fields_altered_under_an_intact_result_never_ship(cards, tmp_path, capsys):
    """Fields are checked apart from their result, when they are packaged: an altered copy stops that build, is dropped, and the next build renders it again."""
    api.build(cards, tmp_path / "dist")
    good = packages(tmp_path / "dist")
    (path,) = cache_files()
    with sqlite3.connect(path) as db:
        for key, fields_blob in db.execute("SELECT key, fields FROM card WHERE fields IS NOT NULL").fetchall():
            db.execute("UPDATE card SET fields = ? WHERE key = ?", (fields_blob.replace(b"Thick ascending limb", b"<img src=x onerror=alert(1)>"), key))
        db.execute("DELETE FROM blob")  # (no package record: the build must package again)
    out = tmp_path / "again"
    assert main(["build", str(cards), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "alpha.md:" in err and "failed its integrity check" in err and "run the build again" in err
    assert not out.exists() or not list(out.glob("*.apkg"))
    assert main(["build", str(cards), "--out", str(out)]) == 0
    assert packages(out) == good


def test_entries_made_under_another_key_are_never_used(cards, tmp_path):
    """A cache folder copied from another machine (or planted) holds entries this machine cannot authenticate."""
    api.build(cards, tmp_path / "dist")
    (cachekey.cache_root() / "key").write_bytes(os.urandom(32))
    report = api.build(cards, tmp_path / "again")
    assert report.cached == 0
    assert packages(tmp_path / "again") == packages(tmp_path / "dist")


def test_no_cache_neither_reads_nor_writes_the_cache(cards, tmp_path, capsys):
    api.build(cards, tmp_path / "dist")
    assert main(["build", str(cards), "--out", str(tmp_path / "fresh"), "--no-cache", "--verbose"]) == 0
    assert "read 3 cards (0 known from the cache or the last build)" in capsys.readouterr().err
    with sqlite3.connect(cache_files()[0]) as db:
        db.execute("DELETE FROM card")
    api.build(cards, tmp_path / "again", use_cache=False)
    assert rows() == [], "--no-cache wrote entries"
    assert packages(tmp_path / "again") == packages(tmp_path / "dist")


def test_deleting_the_cache_changes_nothing(cards, tmp_path):
    api.build(cards, tmp_path / "first")
    for path in cache_files():
        path.unlink()
    report = api.build(cards, tmp_path / "second")
    assert report.cached == 0
    assert packages(tmp_path / "second") == packages(tmp_path / "first")


@READ_PATHS
@pytest.mark.parametrize("one_session", [False, True], ids=["a-process-a-build", "watch-session"])
def test_entries_no_build_uses_are_deleted(cards, tmp_path, monkeypatch, scan_from, one_session):
    """(One pass over the table notes its rows; a session then knows them without asking the table again.)"""
    monkeypatch.setattr(store, "SCAN_FROM", scan_from)
    s = Session() if one_session else None
    api.build(cards, tmp_path / "dist", session=s)
    assert len(rows()) == 3
    (cards / "topics" / "beta.md").unlink()
    (cards / "topics" / "dot.png").unlink()
    api.build(cards, tmp_path / "dist", session=s)
    assert len(rows()) == 2
    path = cards / "alpha.md"
    for before, after in [("About *70%*", "About *two thirds*"), ("About *two thirds*", "Most")]:
        path.write_text(path.read_text(encoding="utf-8").replace(before, after), encoding="utf-8")
        api.build(cards, tmp_path / "dist", session=s)
        assert len(rows()) == 2  # the edited card's old entry is gone
    if s is not None:
        s.close()
    record = "p" + hashlib.sha256(str((tmp_path / "dist" / "topics.apkg").resolve()).encode()).hexdigest()
    assert record not in {key for key, *_ in rows("blob")}  # (what the gone package's file was written for)


def test_check_reads_a_builds_cache_and_writes_nothing(cards, tmp_path):
    api.build(cards, tmp_path / "dist")
    before = rows(), rows("blob")
    path = cards / "alpha.md"
    path.write_text(path.read_text(encoding="utf-8").replace("About *70%*", "About *two thirds*"), encoding="utf-8")
    report = api.check(cards)
    assert (report.cards, report.cached) == (3, 2)
    assert (rows(), rows("blob")) == before


def test_check_without_any_cache_creates_none(cards):
    api.check(cards)
    assert cache_files() == []


def test_parallel_build_equals_serial_build(cards, tmp_path, monkeypatch):
    for i in range(6):
        (cards / "topics" / f"more-{i}.md").write_text(
            f"## Extra {i} {{#extra-{i}}}\nWhat is {i}?\n\n### Answer\n*{i}*\n\n### Explanation\nIt is `{i}`.\n", encoding="utf-8"
        )
    serial = cold(cards, tmp_path / "serial")
    from flashdeck import executor

    monkeypatch.setattr(executor, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(executor, "cpus", lambda: 2)
    with Session(executor.Processes(2)) as session:
        api.build(cards, tmp_path / "parallel", use_cache=False, session=session)
        assert session.workers().running, "the work did not go to the workers"
    assert packages(tmp_path / "parallel") == serial


def test_a_rebuild_whose_changed_card_a_worker_renders_equals_a_cold_build(cards, tmp_path, monkeypatch):
    from flashdeck import executor

    api.build(cards, tmp_path / "dist")
    path = cards / "alpha.md"
    path.write_text(path.read_text(encoding="utf-8").replace("About *70%*", "About *two thirds*"), encoding="utf-8")
    monkeypatch.setattr(executor, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(executor, "cpus", lambda: 2)
    monkeypatch.setattr(api, "WARM_WORKERS_FROM", 0)
    with Session(executor.Processes(2)) as session:
        report = api.build(cards, tmp_path / "dist", session=session)
        assert session.workers().running, "the rebuild did not start the workers"
    assert report.cached == 2 and report.change.changed
    monkeypatch.setattr(executor, "PARALLEL_MIN_BYTES", 10**9)  # (the cold build renders here)
    assert packages(tmp_path / "dist") == cold(cards, tmp_path / "cold")


def test_a_second_build_in_one_session_reads_nothing_from_disk(cards, tmp_path, monkeypatch):
    """What build --watch relies on: the results of unchanged cards stay in memory."""
    with Session() as session:
        api.build(cards, tmp_path / "dist", session=session)
        first = packages(tmp_path / "dist")
        # Reaching inside on purpose: only a failing loader shows that no entry was read again.
        monkeypatch.setattr(store, "_load_result", lambda data: pytest.fail("read an entry from disk"))
        report = api.build(cards, tmp_path / "dist", session=session)
    assert report.cached == 3
    assert packages(tmp_path / "dist") == first


def test_another_flashdeck_version_gets_other_keys(cards, tmp_path, monkeypatch):
    api.build(cards, tmp_path / "dist")
    monkeypatch.setattr(cachekey, "__version__", "99.0")
    cachekey.context.cache_clear()
    try:
        report = api.build(cards, tmp_path / "dist")
    finally:
        monkeypatch.undo()
        cachekey.context.cache_clear()
    assert report.cached == 0


def test_the_workers_start_before_the_sources_are_read_when_the_build_will_use_them(cards, tmp_path, monkeypatch):
    """Forked before the build holds the sources, or each worker carries them (100,000 cards in one file:
    773 MB over the processes, not 500): a cold build, the first after an upgrade (a cache full of an
    older flashdeck's entries) and a rebuild of a big deck, whose few changed cards a worker renders.
    A small deck starts none, and a smaller deck's rebuild renders here. Reaching inside on purpose:
    only the order of the two steps shows it."""
    from flashdeck import executor, sources

    monkeypatch.setattr(executor, "cpus", lambda: 2)
    read, started = sources.read, []

    def reading(*args, **kwargs):
        started.append(session.workers().running)
        return read(*args, **kwargs)

    monkeypatch.setattr(sources, "read", reading)
    # (version, smallest deck for workers, smallest deck whose rebuild starts them first)
    for version, smallest, rebuild_from in (("1.0", 0, 0), ("1.0", 0, 0), ("1.0", 0, 10**9), ("99.0", 0, 10**9), ("99.0", 10**9, 0)):
        monkeypatch.setattr(executor, "PARALLEL_MIN_BYTES", smallest)
        monkeypatch.setattr(api, "WARM_WORKERS_FROM", rebuild_from)
        monkeypatch.setattr(cachekey, "__version__", version)
        cachekey.context.cache_clear()
        try:
            with Session(executor.Processes(2)) as session:
                api.build(cards, tmp_path / "dist", session=session)
        finally:
            cachekey.context.cache_clear()
    assert started == [True, True, False, True, False]


def test_a_big_value_kept_beside_the_cache_that_was_altered_is_not_used(cards, tmp_path, monkeypatch):
    """Values from cachefiles.BIG_FILE bytes up live in files beside the cache; these fixtures are small,
    so the threshold is lowered to put every value there. An altered file fails its MAC like a row."""
    import marshal

    monkeypatch.setattr(cachefiles, "BIG_FILE", 1)
    api.build(cards, tmp_path / "dist")
    (facts,) = [p for p in cachekey.cache_root().glob("*.files/F*.value")]
    schema, col, models, deck = marshal.loads(facts.read_bytes())
    models = {kind: dict(model, css=model["css"] + "</style><script>alert(1)</script>") for kind, model in models.items()}
    facts.write_bytes(marshal.dumps((schema, col, models, deck), 2))
    path = cards / "alpha.md"
    path.write_text(path.read_text(encoding="utf-8").replace("About *70%*", "About *two thirds*"), encoding="utf-8")
    api.build(cards, tmp_path / "dist")
    built = packages(tmp_path / "dist")
    assert not any(b"alert(1)" in zipfile.ZipFile(tmp_path / "dist" / name).read("collection.anki2") for name in built)
    assert built == cold(cards, tmp_path / "cold")


def test_check_reads_the_lock_record_a_build_kept_in_a_file(cards, tmp_path, monkeypatch):
    """`check` opens the cache read-only, and must still read values kept beside it: else it parses
    the lock file again (100,000 cards: 424 MB instead of 312). The threshold is lowered so that this
    fixture's record goes to a file, and parsing a lock line is made to fail the test."""
    from flashdeck import lockread

    monkeypatch.setattr(cachefiles, "BIG_FILE", 1)
    api.build(cards, tmp_path / "dist")
    assert list(cachekey.cache_root().glob("*.files/L*.value"))
    monkeypatch.setattr(lockread, "_entry", lambda *args: pytest.fail("check parsed the lock file again"))
    assert api.check(cards).cards == 3


@pytest.mark.parametrize("dist, module", [
    ("markdown", "markdown"), ("pymdown-extensions", "pymdownx"), ("PyYAML", "yaml"), ("PyStemmer", "Stemmer"), ("genanki", "genanki"),
    ("flashdeck", "flashdeck"),  # (installed editable: no .dist-info beside the package, so importlib.metadata answers)
])
def test_a_librarys_version_for_the_cache_key_is_the_installed_one(dist, module):
    from importlib import metadata

    assert cachekey.library_version(dist, module) == metadata.version(dist)


def test_a_library_that_is_not_installed_has_no_version():
    assert cachekey.library_version("no-such-dist", "no_such_module") == "?"
