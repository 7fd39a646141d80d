"""Hostile and real-world input (issue 15): each case ends in a located message or the right behaviour,
never in silent damage or a traceback. Expected messages are written from the cases by hand."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from flashdeck.cli import main

T0 = 1_700_000_000
CARD = "## {title} {{#{id}}}\n{question}\n\n### Answer\nA\n\n### Explanation\nE\n"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def cards(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(T0))
    folder = tmp_path / "cards"
    folder.mkdir()
    monkeypatch.chdir(tmp_path)
    return folder


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def run(capsys, *argv: str) -> tuple[int, list[str], list[str]]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out.splitlines(), err.splitlines()


def fields(apkg: Path, tmp: Path) -> dict[str, list[str]]:
    db = tmp / "c.anki2"
    with zipfile.ZipFile(apkg) as zf:
        db.write_bytes(zf.read("collection.anki2"))
    with sqlite3.connect(db) as conn:
        return {f[0]: f for f in (r[0].split("\x1f") for r in conn.execute("SELECT flds FROM notes"))}


def packaged(data: bytes, suffix: str = ".png") -> str:
    return f"fd-{hashlib.sha256(data).hexdigest()[:16]}{suffix}"


# Images --------------------------------------------------------------------------------


def test_every_way_of_writing_an_image_path_is_packaged(cards, tmp_path, capsys):
    images = {name: PNG + name.encode() for name in ("sp ace.png", "a&b.png", "a.b.png", "plain.png")}
    for name, data in images.items():
        (cards / "img").mkdir(exist_ok=True)
        (cards / "img" / name).write_bytes(data)
    question = (
        "![a](<img/sp ace.png>) ![b](img/sp%20ace.png) <img src=img/plain.png> "
        '<img src="img/a&amp;b.png"> ![c](img/a%2Eb.png)'
    )
    write(cards / "i.md", CARD.format(title="Images", id="im-1", question=question))
    assert run(capsys, "build", "cards", "--out", "dist")[0] == 0
    html = fields(tmp_path / "dist" / "i.apkg", tmp_path)["im-1"][1]
    srcs = [s for s in html.split('src="')[1:]]
    assert [s.split('"')[0] for s in srcs] == [
        packaged(images["sp ace.png"]), packaged(images["sp ace.png"]), packaged(images["plain.png"]),
        packaged(images["a&b.png"]), packaged(images["a.b.png"]),
    ]
    with zipfile.ZipFile(tmp_path / "dist" / "i.apkg") as zf:
        assert sorted(json.loads(zf.read("media")).values()) == sorted(packaged(d) for d in images.values())


def test_an_unquoted_img_is_checked_like_any_other(cards, capsys):
    write(cards / "i.md", CARD.format(title="Images", id="im-1", question="<img src=img/gone.png> and <img src=../out.png>"))
    status, _, err = run(capsys, "check", "cards")
    assert status == 1
    assert err == [
        "cards/i.md:2:10: error: card 'im-1': image 'img/gone.png' not found at cards/img/gone.png: fix the path (it is relative to i.md) or add the image there",
        "cards/i.md:2:37: error: card 'im-1': image '../out.png' lies outside the cards folder 'cards': move the image into it and link it by a path that stays inside",
        "2 errors, 0 warnings",
    ]


def test_a_big_image_is_a_warning_and_a_huge_one_an_error(cards, capsys):
    (cards / "big.png").write_bytes(PNG + b"\0" * (3 * 2**20))
    with open(cards / "huge.png", "wb") as f:  # sparse: 101 MiB on paper, nothing on disk
        f.truncate(101 * 2**20)
    write(cards / "i.md", CARD.format(title="Images", id="im-1", question="![a](big.png)\n\n![b](huge.png)"))
    status, _, err = run(capsys, "check", "cards")
    assert status == 1
    assert err == [
        "cards/i.md:2:6: warning: card 'im-1': image 'big.png' is 3.0 MiB: every learner's phone downloads and stores it; "
        "make it smaller than 2.5 MiB (a screen-sized PNG or JPEG is far below that)",
        "cards/i.md:4:6: error: card 'im-1': image 'huge.png' is 101 MiB, more than Anki's media sync carries (100 MiB), "
        "so learners who sync would never get it: make it smaller",
        "1 error, 1 warning",
    ]


def test_an_image_shown_twice_in_one_field_is_reported_once(cards, capsys):
    write(cards / "i.md", CARD.format(title="Images", id="im-1", question="![a](gone.png) and ![b](gone.png)"))
    status, _, err = run(capsys, "check", "cards")
    assert status == 1
    assert len([line for line in err if "gone.png" in line]) == 1


# Card files ------------------------------------------------------------------------------


def test_card_files_and_folders_linked_from_outside_are_refused(cards, tmp_path, capsys):
    outside = tmp_path / "elsewhere"
    write(outside / "secret.md", CARD.format(title="Secret", id="secret", question="Q?"))
    write(outside / "more" / "x.md", CARD.format(title="X", id="x", question="Q?"))
    write(cards / "ok.md", CARD.format(title="Ok", id="ok", question="Q?"))
    (cards / "linked.md").symlink_to(outside / "secret.md")
    (cards / "topic").mkdir()
    (cards / "topic" / "sub").symlink_to(outside / "more")
    write(cards / "topic" / "t.md", CARD.format(title="T", id="t", question="Q?"))
    status, _, err = run(capsys, "check", "cards")
    assert status == 1
    assert err == [
        f"cards/linked.md: error: 'linked.md' is a link to '{outside / 'secret.md'}', outside the cards folder 'cards': "
        "move what it points to into the cards folder, or remove the link",
        f"cards/topic/sub: error: 'sub' is a link to '{outside / 'more'}', outside the cards folder 'cards': "
        "move what it points to into the cards folder, or remove the link",
        "2 errors, 0 warnings",
    ]


# Tracebacks that became messages ----------------------------------------------------------


def test_a_list_nested_500_deep_is_a_located_error(cards, capsys):
    write(cards / "d.md", CARD.format(title="Deep", id="deep", question="- " * 500 + "x"))
    status, _, err = run(capsys, "check", "cards")
    assert (status, err) == (1, [
        "cards/d.md:2: error: card 'deep': the Markdown here nests lists or quotes too deeply to render: flatten it",
        "1 error, 0 warnings",
    ])


def test_an_output_folder_that_cannot_be_made_is_a_message(cards, tmp_path, capsys):
    write(cards / "a.md", CARD.format(title="A", id="a", question="Q?"))
    (tmp_path / "blocked").write_text("a file where the folder should go", encoding="utf-8")
    status, _, err = run(capsys, "build", "cards", "--out", "blocked/dist")
    assert status == 1
    assert err[0].startswith("blocked/dist") and "error: cannot write (" in err[0] and "choose another with --out" in err[0]
    assert not (cards / "flashdeck.lock").exists(), "the lock was written though the packages were not"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("soon", "SOURCE_DATE_EPOCH must be a whole number of seconds, not 'soon'"),
        ("-5", "SOURCE_DATE_EPOCH must not be negative, not '-5'"),
        ("1700000000000", "SOURCE_DATE_EPOCH 1700000000000 lies in the future (is it in milliseconds?): it must be seconds "
         "since 1970, such as $(git log -1 --format=%ct); a future stamp would overwrite learners' copies at every import"),
        ("9" * 40, f"SOURCE_DATE_EPOCH {'9' * 30} lies in the future (is it in milliseconds?): it must be seconds "
         "since 1970, such as $(git log -1 --format=%ct); a future stamp would overwrite learners' copies at every import"),
    ],
)
def test_a_bad_source_date_epoch_is_a_message(cards, monkeypatch, capsys, value, message):
    write(cards / "a.md", CARD.format(title="A", id="a", question="Q?"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    assert run(capsys, "build", "cards", "--out", "dist") == (1, [], [f"SOURCE_DATE_EPOCH: error: {message}", "1 error, 0 warnings"])


def test_output_piped_into_head_ends_quietly(cards, tmp_path):
    write(cards / "many.md", "".join(CARD.format(title=f"T{i}", id=f"card-number-{i:05}", question="Q?") for i in range(4000)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    pipe = subprocess.run(  # 4,000 "new" lines: far more than a pipe holds, so the reader's exit breaks it
        ["bash", "-o", "pipefail", "-c", f"'{sys.executable}' -m flashdeck build cards --dry-run --verbose | head -n 1"],
        cwd=tmp_path, capture_output=True, text=True, env=env, check=False,
    )
    assert pipe.stdout.startswith("would write ")
    assert "Traceback" not in pipe.stderr and "BrokenPipe" not in pipe.stderr, pipe.stderr
    assert pipe.returncode == 141  # 128 + SIGPIPE, as a program killed by the broken pipe reports


# The lock ---------------------------------------------------------------------------------


@pytest.fixture
def built(cards, capsys) -> Path:
    write(cards / "a.md", CARD.format(title="A", id="a", question="Q?") + "\n" + CARD.format(title="B", id="b", question="R?"))
    assert run(capsys, "build", "cards", "--out", "dist")[0] == 0
    return cards / "flashdeck.lock"


def lock_lines(lock: Path) -> list[str]:
    return lock.read_text(encoding="utf-8").splitlines()


def test_an_empty_lock_is_an_error_not_a_fresh_start(built, capsys):
    built.write_bytes(b"")
    status, _, err = run(capsys, "build", "cards", "--out", "dist")
    assert (status, err) == (1, [
        "cards/flashdeck.lock: error: lock file is empty: restore it from version control (git checkout -- the file), "
        "or delete it to start a new lock (every card then looks new to learners)",
        "1 error, 0 warnings",
    ])


def test_a_deleted_lock_beside_a_released_package_is_a_warning(built, capsys):
    built.unlink()
    status, _, err = run(capsys, "build", "cards", "--out", "dist")
    assert status == 0
    assert err == [
        "cards/flashdeck.lock: warning: there is no lock file, but dist/a.apkg exists: if that package was ever given to "
        "learners, restore the lock from where you keep it, or every card looks new and the next release overwrites their own edits",
        "0 errors, 1 warning",
    ]


def test_a_deleted_lock_that_git_has_is_an_error(built, capsys):
    git = ["git", "-C", str(built.parent), "-c", "user.name=A", "-c", "user.email=a@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "flashdeck.lock"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "release"], check=True)
    built.unlink()
    status, _, err = run(capsys, "check", "cards")
    assert (status, err) == (1, [
        "cards/flashdeck.lock: error: the lock file is missing but git has it: restore it (git checkout -- the file); "
        "without it every card looks new to learners and the next release overwrites their own edits",
        "1 error, 0 warnings",
    ])


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("changed", "1900000000", "lock file: card 'a': 'changed' is 2030-03-17 17:46 UTC, in the future: a card stamped so would "
         "overwrite learners' copies at every import; fix the clock or SOURCE_DATE_EPOCH that wrote it, then set the time to "
         "when the card really changed"),
        ("retired", "false", "lock file: card 'a': 'retired' must be a time in whole seconds, not false; restore it from version control"),
        ("added", "9" * 50, "lock file: card 'a': 'added' is 99999999999999999999999999999999999999999999999999 seconds after 1970, "
         "in the future: a card stamped so would overwrite learners' copies at every import; fix the clock or SOURCE_DATE_EPOCH "
         "that wrote it, then set the time to when the card really changed"),
        ("changed", '"1700000000"', "lock file: card 'a': 'changed' must be a time in whole seconds, not \"1700000000\"; restore it from version control"),
    ],
)
def test_a_lock_time_that_cannot_be_true_is_an_error_at_its_line(built, capsys, field, value, message):
    lines = lock_lines(built)
    k = next(i for i, line in enumerate(lines) if line.startswith('{"id": "a"'))
    obj = json.loads(lines[k])
    lines[k] = json.dumps({**obj, field: "@"}).replace('"@"', value)
    built.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for command in (["check", "--strict", "cards"], ["build", "cards", "--out", "dist"]):
        status, _, err = run(capsys, *command)
        assert (status, err) == (1, [f"cards/flashdeck.lock:{k + 1}: error: {message}", "1 error, 0 warnings"])


def test_a_lock_the_cache_has_seen_meets_the_clock_again(cards, capsys, monkeypatch):
    # The build cache remembers what a lock file's bytes held, so the next build need not read
    # 10,000 lines again. A clock that ran days fast wrote this lock; once the clock is set right,
    # the remembered lock must fail the future check exactly as the file itself does.
    import time

    real = time.time()
    write(cards / "a.md", CARD.format(title="A", id="a", question="Q?"))
    with monkeypatch.context() as fast:
        fast.setattr(time, "time", lambda: real + 3 * 86_400)
        fast.setenv("SOURCE_DATE_EPOCH", str(int(real) + 2 * 86_400))
        assert run(capsys, "build", "cards", "--out", "dist")[0] == 0
    status, _, err = run(capsys, "check", "cards")
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(int(real) + 2 * 86_400))
    assert (status, err) == (1, [
        f"cards/flashdeck.lock:2: error: lock file: 'notetype changed' is {stamp}, in the future: a card stamped so would overwrite "
        "learners' copies at every import; fix the clock or SOURCE_DATE_EPOCH that wrote it, then set the time to when "
        "the card really changed",
        "1 error, 0 warnings",
    ])


def test_a_lock_rewritten_by_hand_is_written_back_as_flashdeck_writes_it(built, capsys):
    canonical = built.read_bytes()
    lines = lock_lines(built)
    squeezed = [json.dumps(json.loads(line), separators=(",", ":"), sort_keys=True) for line in lines[2:]]
    built.write_text("\n".join(lines[:2] + squeezed) + "\n", encoding="utf-8")
    assert built.read_bytes() != canonical
    for _ in range(2):  # (the second build reads the lock the first wrote, from the cache)
        assert run(capsys, "build", "cards", "--out", "dist")[0] == 0
        assert built.read_bytes() == canonical


def test_a_lock_with_merge_conflict_markers_fails_check_as_a_conflict(built, capsys):
    lines = lock_lines(built)
    lines[2:3] = ["<<<<<<< HEAD", lines[2], "=======", lines[2].replace(f"{T0}", f"{T0 + 5}"), ">>>>>>> theirs"]
    built.write_text("\n".join(lines) + "\n", encoding="utf-8")
    status, _, err = run(capsys, "check", "--strict", "cards")
    assert (status, err) == (1, [
        "cards/flashdeck.lock:3: error: lock file has an unresolved merge conflict: keep every card's line from both sides "
        "(for a card on both sides, the one with the later \"changed\"), delete the conflict markers, then build; or check "
        "out one side (git checkout --ours/--theirs) and build again",
        "1 error, 0 warnings",
    ])


def test_check_strict_reads_the_lock_like_build_strict(built, monkeypatch, capsys):
    """A retired id reused for another card: both commands say so at the card, and fail --strict."""
    path = built.parent / "a.md"
    write(path, CARD.format(title="A", id="a", question="Q?"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(T0 + 86_400))
    assert run(capsys, "build", "cards", "--out", "dist")[0] == 0  # b retires
    write(path, CARD.format(title="A", id="a", question="Q?") + "\n" + CARD.format(title="Other", id="b", question="Other?").replace("\nA\n", "\nOther.\n"))
    expected = (
        "cards/a.md:10: error: card 'b': this id belonged to a card retired on 2023-11-15 ('B'); learners who kept it will see "
        "it replaced by this card, with the old card's review history. If this is a different card, give it a new id"
    )
    assert run(capsys, "check", "--strict", "cards")[2] == [expected, "1 error, 0 warnings"]
    assert run(capsys, "build", "--strict", "cards", "--out", "dist")[2] == [expected, "1 error, 0 warnings"]


def test_a_renamed_card_file_leaves_no_stale_package(built, tmp_path, capsys):
    (built.parent / "a.md").rename(built.parent / "renamed.md")
    status, out, _ = run(capsys, "build", "cards", "--out", "dist")
    assert status == 0
    assert sorted(p.name for p in (tmp_path / "dist").iterdir()) == ["renamed.apkg"]
    assert "removed dist/a.apkg: its card file is gone (its cards retired or moved)" in out
