"""The same sources and lock file give a byte-identical .apkg (SOURCE_DATE_EPOCH, reproducible-builds.org)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest

from flashdeck import api
from flashdeck.cli import main

T0 = 1_700_000_000  # 2023-11-14 22:13:20 UTC
T1 = T0 + 86_400


def png(rgb: tuple[int, int, int]) -> bytes:
    """A 1x1 PNG of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes([0, *rgb]))) + chunk(b"IEND", b"")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def cards(fixture_cards) -> Path:
    """The re-import fixture plus a card with two images."""
    cards = fixture_cards("reimport/renal")
    renal = cards / "renal"
    (renal / "zeta.png").write_bytes(png((200, 0, 0)))
    (renal / "alpha.png").write_bytes(png((0, 0, 200)))
    (renal / "images.md").write_text(
        "---\ndeck: Renal\n---\n## Two pictures {#pictures}\nWhich is the loop? ![loop](zeta.png)\n\n"
        "### Answer\nThis one: ![other](alpha.png)\n\n### Explanation\nBy shape.\n",
        encoding="utf-8",
    )
    return cards


def build(cards: Path, out: Path, monkeypatch, when: int | None) -> Path:
    if when is None:
        monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    else:
        monkeypatch.setenv("SOURCE_DATE_EPOCH", str(when))
    api.build(cards, out)
    return out / "renal.apkg"


def author_released_and_edited(cards: Path, tmp_path: Path, monkeypatch) -> None:
    """A first release (lock committed), then an edit not yet built: the next build stamps it."""
    build(cards, tmp_path / "first", monkeypatch, T0)
    tubule = cards / "renal" / "tubule.md"
    tubule.write_text(tubule.read_text(encoding="utf-8").replace("They increase it.", "They increase it markedly."), encoding="utf-8")


def test_two_builds_of_the_same_sources_and_lock_with_one_source_date_epoch_are_identical(cards, tmp_path, monkeypatch):
    author_released_and_edited(cards, tmp_path, monkeypatch)
    copy_a, copy_b = tmp_path / "a" / "cards", tmp_path / "b" / "cards"
    shutil.copytree(cards, copy_a)
    shutil.copytree(cards, copy_b)
    first = build(copy_a, tmp_path / "a" / "dist", monkeypatch, T1)
    second = build(copy_b, tmp_path / "b" / "dist", monkeypatch, T1)
    assert sha256(first) == sha256(second)
    assert (copy_a / "flashdeck.lock").read_bytes() == (copy_b / "flashdeck.lock").read_bytes()


def test_a_build_in_another_process_gives_the_same_bytes(cards, tmp_path, monkeypatch):
    """Another process has another hash seed: no set or dict order may leak into the package."""
    author_released_and_edited(cards, tmp_path, monkeypatch)
    copy = tmp_path / "other" / "cards"
    shutil.copytree(cards, copy)
    here = build(cards, tmp_path / "dist", monkeypatch, T1)
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(T1), "PYTHONHASHSEED": "12345"}
    out = tmp_path / "other" / "dist"
    subprocess.run([sys.executable, "-m", "flashdeck", "build", str(copy), "--out", str(out), "-q"], env=env, check=True)
    assert sha256(out / "renal.apkg") == sha256(here)


def test_zip_entries_are_dated_by_source_date_epoch_in_a_fixed_order(cards, tmp_path, monkeypatch):
    apkg = build(cards, tmp_path / "dist", monkeypatch, T1)
    with zipfile.ZipFile(apkg) as zf:
        infos = zf.infolist()
        media = json.loads(zf.read("media"))
    assert [i.filename for i in infos] == ["collection.anki2", "media", "0", "1"]
    assert {i.date_time for i in infos} == {(2023, 11, 15, 22, 13, 20)}
    assert {i.create_system for i in infos} == {3}
    names = sorted("fd-" + hashlib.sha256(png(rgb)).hexdigest()[:16] + ".png" for rgb in ((200, 0, 0), (0, 0, 200)))
    assert media == {"0": names[0], "1": names[1]}


def test_rebuild_without_source_date_epoch_of_unchanged_sources_is_identical(cards, tmp_path, monkeypatch):
    """Without SOURCE_DATE_EPOCH the times come from the lock, so nothing new means nothing different."""
    first = build(cards, tmp_path / "dist", monkeypatch, None)
    digest, lock = sha256(first), (cards / "flashdeck.lock").read_bytes()
    second = build(cards, tmp_path / "dist", monkeypatch, None)
    assert (sha256(second), (cards / "flashdeck.lock").read_bytes()) == (digest, lock)


def test_source_date_epoch_that_is_not_a_number_is_reported(cards, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    assert main(["build", str(cards), "--out", str(tmp_path / "dist")]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "SOURCE_DATE_EPOCH: error: SOURCE_DATE_EPOCH must be a whole number of seconds, not 'yesterday'",
        "1 error, 0 warnings",
    ]
