"""The command line: what it writes, what it prints, how it fails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from flashdeck.cli import main

ROOT = Path(__file__).resolve().parent.parent


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


GOOD = "## Q {#good-1}\nWhat?\n### Answer\nThat.\n### Explanation\nBecause.\n"


def test_build_writes_one_package_per_file_and_reports_decks_and_counts(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "cards" / "alpha.md", "---\ndeck: Alpha Deck\n---\n" + GOOD)
    write(tmp_path / "cards" / "beta" / "one.md", GOOD.replace("good-1", "b-1"))
    write(tmp_path / "cards" / "beta" / "two.md", GOOD.replace("good-1", "b-2"))
    assert main(["build"]) == 0
    out = capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "dist").iterdir()) == ["alpha.apkg", "beta.apkg"]
    assert "wrote dist/alpha.apkg: 1 cards in Alpha Deck" in out
    assert "wrote dist/beta.apkg: 2 cards in beta::one, beta::two" in out


def test_check_validates_without_writing(tmp_path, capsys):
    cards = write(tmp_path / "cards" / "a.md", GOOD).parent
    assert main(["check", str(cards)]) == 0
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.md", "cards"]
    assert "1 cards" in capsys.readouterr().out


def test_card_without_explanation_reports_path_line_and_writes_nothing(tmp_path, capsys):
    cards = tmp_path / "cards"
    write(cards / "ok.md", GOOD)
    write(cards / "bad.md", "## Missing {#m-1}\nWhat?\n### Answer\nThat.\n")
    assert main(["build", str(cards), "--out", str(tmp_path / "dist")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"{cards / 'bad.md'}:1: error: card 'm-1' has no explanation: add an '### Explanation' section with text",
        "1 error, 0 warnings",
    ]
    assert not (tmp_path / "dist").exists()
    assert not (cards / "flashdeck.lock").exists()


def test_ids_write_assigns_readable_unique_ids(tmp_path, capsys):
    cards = tmp_path / "cards"
    src = write(cards / "a.md", "## Loop diuretics\nQ?\n### Answer\nA\n### Explanation\nE\n\n## Loop diuretics\nQ2?\n### Answer\nA\n### Explanation\nE\n")
    assert main(["ids", str(cards), "--write"]) == 0
    text = src.read_text(encoding="utf-8")
    assert "## Loop diuretics {#loop-diuretics}\n" in text
    assert "## Loop diuretics {#loop-diuretics-2}\n" in text
    assert main(["check", str(cards)]) == 0


def test_python_m_flashdeck_and_build_py_run_the_same_cli(tmp_path):
    write(tmp_path / "cards" / "a.md", GOOD)
    r = subprocess.run([sys.executable, "-m", "flashdeck", "check", "cards"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, str(ROOT / "build.py")], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "dist" / "a.apkg").is_file()


def test_unknown_command_is_a_usage_error(capsys):
    try:
        main(["frobnicate"])
    except SystemExit as exc:
        assert exc.code == 2
    else:
        raise AssertionError("no usage error")
