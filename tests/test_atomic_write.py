"""Nothing lost: a failed or interrupted build keeps the old .apkg, and `ids --write` touches only ids."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

import flashdeck.package
from flashdeck.api import build, check
from flashdeck.api import cards as parsed_cards
from flashdeck.cli import main
from flashdeck.errors import FlashdeckError

CARD = "## Normal magnesium {#mg-normal}\nWhat is the normal serum Mg?\n\n### Answer\n0.7 to 1.0 mmol/L\n\n### Explanation\nEXPLANATION\n"


def built_once(tmp_path: Path) -> tuple[Path, Path, bytes, bytes]:
    """A cards folder built into dist/, then edited so the next build has something new to write."""
    cards = tmp_path / "cards"
    cards.mkdir()
    source = cards / "mg.md"
    source.write_text(CARD.replace("EXPLANATION", "Lab range."), encoding="utf-8")
    out = tmp_path / "dist"
    build(cards, out)
    apkg = out / "mg.apkg"
    old = apkg.read_bytes()
    lock = (cards / "flashdeck.lock").read_bytes()
    source.write_text(CARD.replace("EXPLANATION", "Reference range of most labs."), encoding="utf-8")
    return cards, out, old, lock


def test_failure_while_writing_keeps_old_package_and_leaves_no_temp_file(tmp_path, monkeypatch):
    cards, out, old, lock = built_once(tmp_path)

    def fail_half_way(f, *args):
        f.write(b"PK\x03\x04 half a zip")
        raise RuntimeError("disk went away")

    monkeypatch.setattr(flashdeck.package, "write", fail_half_way)
    with pytest.raises(RuntimeError, match="disk went away"):
        build(cards, out)
    assert sorted(os.listdir(out)) == ["mg.apkg"]
    assert (out / "mg.apkg").read_bytes() == old
    assert (cards / "flashdeck.lock").read_bytes() == lock


def test_failing_rename_keeps_old_package_and_leaves_no_temp_file(tmp_path, monkeypatch):
    cards, out, old, lock = built_once(tmp_path)
    real_replace = os.replace

    def replace(src, dst):
        if str(dst).endswith(".apkg"):
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(FlashdeckError, match="cannot write .No space left on device.: check that the folder is writable"):
        build(cards, out)
    assert sorted(os.listdir(out)) == ["mg.apkg"]
    assert (out / "mg.apkg").read_bytes() == old
    assert (cards / "flashdeck.lock").read_bytes() == lock


def test_ctrl_c_mid_write_leaves_old_package_and_no_partial_file(tmp_path, monkeypatch, capsys):
    cards, out, old, lock = built_once(tmp_path)

    def interrupted(f, *args):
        f.write(b"PK\x03\x04 partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(flashdeck.package, "write", interrupted)
    assert main(["build", str(cards), "--out", str(out)]) == 130
    assert capsys.readouterr().err == "flashdeck: interrupted; nothing was written\n"
    assert sorted(os.listdir(out)) == ["mg.apkg"]
    assert (out / "mg.apkg").read_bytes() == old
    assert (cards / "flashdeck.lock").read_bytes() == lock


def test_build_with_errors_leaves_old_package_untouched(tmp_path):
    cards, out, old, lock = built_once(tmp_path)
    (cards / "mg.md").write_text("## Normal magnesium {#mg-normal}\nWhat?\n", encoding="utf-8")
    assert main(["build", str(cards), "--out", str(out)]) == 1
    assert sorted(os.listdir(out)) == ["mg.apkg"]
    assert (out / "mg.apkg").read_bytes() == old
    assert (cards / "flashdeck.lock").read_bytes() == lock


# A BOM, CRLF line endings, a lone-LF line, trailing spaces, a comment and a
# heading inside a code fence: everything but the two missing ids must survive.
IDS_BEFORE = (
    b"\xef\xbb\xbf---\r\ndeck: Renal\r\n---\r\n"
    b"<!-- source: Smith 2020 -->\r\n"
    b"## Loop diuretics ##  \r\n"
    b"Which segment?\r\n\r\n"
    b"```\r\n## Not a card\r\n```\r\n"
    b"### Answer\r\nTAL\n"
    b"### Explanation\r\nNKCC2.\r\n\r\n"
    b"## Has one {#kept}\r\nQ?\r\n### Answer\r\nA\r\n### Explanation\r\nE\r\n\r\n"
    b"## Thiazides \xe2\x80\x93 site\r\nQ?\r\n### Answer\r\nDCT\r\n### Explanation\r\nNCC.\r\n"
)
IDS_AFTER = (
    b"\xef\xbb\xbf---\r\ndeck: Renal\r\n---\r\n"
    b"<!-- source: Smith 2020 -->\r\n"
    b"## Loop diuretics {#loop-diuretics} ##  \r\n"
    b"Which segment?\r\n\r\n"
    b"```\r\n## Not a card\r\n```\r\n"
    b"### Answer\r\nTAL\n"
    b"### Explanation\r\nNKCC2.\r\n\r\n"
    b"## Has one {#kept}\r\nQ?\r\n### Answer\r\nA\r\n### Explanation\r\nE\r\n\r\n"
    b"## Thiazides \xe2\x80\x93 site {#thiazides-site}\r\nQ?\r\n### Answer\r\nDCT\r\n### Explanation\r\nNCC.\r\n"
)


def test_ids_write_changes_only_the_ids_in_a_crlf_file_with_bom(tmp_path, capsys):
    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "renal.md").write_bytes(IDS_BEFORE)
    untouched = cards / "other.md"
    untouched.write_bytes(b"## Other {#other}\nQ?\n### Answer\nA\n### Explanation\nE\n")
    before_mtime = untouched.stat().st_mtime_ns
    assert main(["ids", str(cards), "--write"]) == 0
    assert (cards / "renal.md").read_bytes() == IDS_AFTER
    assert untouched.stat().st_mtime_ns == before_mtime
    assert sorted(p.name for p in cards.iterdir()) == ["other.md", "renal.md"]
    assert capsys.readouterr().out.splitlines() == [
        f"{cards / 'renal.md'}:5: added id 'loop-diuretics'",
        f"{cards / 'renal.md'}:23: added id 'thiazides-site'",
    ]
    check(cards)
    assert [(c.id, c.title) for c in parsed_cards(cards) if c.path.name == "renal.md"] == [
        ("loop-diuretics", "Loop diuretics"),
        ("kept", "Has one"),
        ("thiazides-site", "Thiazides \u2013 site"),
    ]


def test_ids_write_that_fails_to_rename_leaves_the_source_untouched(tmp_path, monkeypatch):
    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "renal.md").write_bytes(IDS_BEFORE)

    def replace(src, dst):
        raise OSError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError):
        main(["ids", str(cards), "--write"])
    assert (cards / "renal.md").read_bytes() == IDS_BEFORE
    assert sorted(p.name for p in cards.iterdir()) == ["renal.md"]


def test_ctrl_c_during_ids_write_leaves_the_source_untouched_and_no_temp_file(tmp_path, monkeypatch):
    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "renal.md").write_bytes(IDS_BEFORE)

    def replace(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", replace)
    assert main(["ids", str(cards), "--write"]) == 130
    assert (cards / "renal.md").read_bytes() == IDS_BEFORE
    assert sorted(p.name for p in cards.iterdir()) == ["renal.md"]


def test_failure_in_second_package_leaves_first_package_and_lock_unchanged(tmp_path, monkeypatch):
    """All packages and the lock change together: a failing second .apkg must not leave the first one new."""
    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "a.md").write_text(CARD.replace("mg-normal", "a-1").replace("EXPLANATION", "One."), encoding="utf-8")
    (cards / "b.md").write_text(CARD.replace("mg-normal", "b-1").replace("EXPLANATION", "One."), encoding="utf-8")
    out = tmp_path / "dist"
    build(cards, out)
    old_a, old_b = (out / "a.apkg").read_bytes(), (out / "b.apkg").read_bytes()
    lock = (cards / "flashdeck.lock").read_bytes()
    for name in ("a", "b"):
        (cards / f"{name}.md").write_text(CARD.replace("mg-normal", f"{name}-1").replace("EXPLANATION", "Two."), encoding="utf-8")
    real = flashdeck.package.write
    calls = []

    def second_fails(f, *args):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk went away")
        return real(f, *args)

    monkeypatch.setattr(flashdeck.package, "write", second_fails)
    with pytest.raises(RuntimeError, match="disk went away"):
        build(cards, out, use_cache=False)
    assert sorted(os.listdir(out)) == ["a.apkg", "b.apkg"]
    assert (out / "a.apkg").read_bytes() == old_a
    assert (out / "b.apkg").read_bytes() == old_b
    assert (cards / "flashdeck.lock").read_bytes() == lock


def test_build_and_preview_create_missing_output_folders(tmp_path, capsys):
    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "mg.md").write_text(CARD.replace("EXPLANATION", "Lab range."), encoding="utf-8")
    out = tmp_path / "release" / "2024" / "dist"
    assert main(["build", str(cards), "--out", str(out)]) == 0
    assert sorted(os.listdir(out)) == ["mg.apkg"]
    page = tmp_path / "site" / "decks" / "preview.html"
    assert main(["preview", str(cards), "--out", str(page)]) == 0
    assert page.is_file()
    assert capsys.readouterr().out.splitlines()[-1] == f"wrote {page}: 1 cards in mg"


def test_packages_lock_and_preview_are_readable_like_any_file(tmp_path):
    """Temp files start private (0600); what is renamed into place is rw-r--r--, whatever the umask."""
    cards, out, _, _ = built_once(tmp_path)
    build(cards, out)
    from flashdeck.preview import write as write_preview

    page = write_preview(cards, tmp_path / "preview.html").path
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (out / "mg.apkg", cards / "flashdeck.lock", page)}
    assert modes == {"mg.apkg": 0o644, "flashdeck.lock": 0o644, "preview.html": 0o644}


def test_failing_fsync_fails_the_build_and_keeps_the_old_package(tmp_path, monkeypatch):
    """A disk that cannot make the new package durable must not get it renamed over the old one."""
    cards, out, old, lock = built_once(tmp_path)

    def fsync(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(FlashdeckError, match="cannot write .Input/output error."):
        build(cards, out, use_cache=False)
    assert sorted(os.listdir(out)) == ["mg.apkg"]
    assert (out / "mg.apkg").read_bytes() == old
    assert (cards / "flashdeck.lock").read_bytes() == lock
