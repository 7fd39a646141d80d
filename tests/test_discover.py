"""Which files become packages (README, "Card format" → Files): hidden files and folders never do."""

from __future__ import annotations

from pathlib import Path

from apkgutil import read_apkg
from flashdeck.cli import main

CARD = "## {title} {{#{id}}}\nWhat is {id}?\n\n### Answer\nThis.\n\n### Explanation\nBecause.\n"


def write(path: Path, card_id: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(CARD.format(title=card_id.title(), id=card_id), encoding="utf-8")


def test_hidden_files_and_folders_under_cards_are_never_packaged(tmp_path, capsys):
    """Editors, VCS tools and sync clients leave dot-files beside the sources; none may reach a learner."""
    cards = tmp_path / "cards"
    write(cards / "alpha.md", "alpha")
    write(cards / "renal" / "tubule.md", "tubule")
    write(cards / "renal" / "deep" / "loop.md", "loop")
    hidden = {
        cards / ".draft.md": "draft",  # a hidden top-level file would be its own package
        cards / ".trash" / "old.md": "trash",  # a hidden top-level folder too
        cards / "renal" / ".#tubule.md": "tubule",  # an editor's lock file, same id as the live card
        cards / "renal" / ".backup.md": "backup",
        cards / "renal" / ".archive" / "gone.md": "archived",
        cards / "renal" / "deep" / ".sync" / "conflict.md": "conflict",
    }
    for path, card_id in hidden.items():
        write(path, card_id)
    out = tmp_path / "dist"
    assert main(["build", str(cards), "--out", str(out)]) == 0
    stdout, stderr = capsys.readouterr()
    assert stderr == ""
    assert stdout.splitlines()[:2] == [
        f"wrote {out / 'alpha.apkg'}: 1 cards in alpha",
        f"wrote {out / 'renal.apkg'}: 2 cards in renal::deep::loop, renal::tubule",
    ]
    assert sorted(p.name for p in out.iterdir()) == ["alpha.apkg", "renal.apkg"]
    assert sorted(read_apkg(out / "alpha.apkg").notes) == ["alpha"]
    assert sorted(read_apkg(out / "renal.apkg").notes) == ["loop", "tubule"]
    assert main(["check", str(cards)]) == 0
    assert capsys.readouterr().out == f"{cards}: 3 cards in 2 package(s), no errors\n"
