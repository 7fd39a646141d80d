"""`build --no-cache` builds from the sources alone (README, "Big decks": the cache).

The way out when a learner reports a card the sources do not hold is
`--no-cache`; it must not read a single entry. The test plants a lie in the
cache (an entry whose rendered text differs from the source), shows that an
ordinary build believes it, and then that `--no-cache` does not.
"""

from __future__ import annotations

from pathlib import Path

from apkgutil import read_apkg
from flashdeck.cli import main

CARD = "## Normal magnesium {#mg-normal}\nWhat is the normal serum Mg?\n\n### Answer\n0.7 to 1.0 mmol/L\n\n### Explanation\nLab range.\n"
TRUE, PLANTED = b"Lab range.", b"Lab RANGE."  # same length: a pickled entry stays loadable


def plant(cache: Path) -> int:
    """Rewrite the source's text in every cache entry; return how many entries held it."""
    planted = 0
    for entry in (p for p in cache.rglob("*") if p.is_file()):
        data = entry.read_bytes()
        if TRUE in data:
            entry.write_bytes(data.replace(TRUE, PLANTED))
            planted += 1
    return planted


def explanation(apkg: Path) -> str:
    return read_apkg(apkg).notes["mg-normal"].fields["Explanation"]


def test_no_cache_build_ignores_a_planted_cache_entry(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "mg.md").write_text(CARD, encoding="utf-8")
    out = tmp_path / "dist"
    assert main(["build", str(cards), "--out", str(out)]) == 0
    assert explanation(out / "mg.apkg") == "Lab range."
    assert plant(cards / ".flashdeck-cache") >= 1, "the build left no cache entry holding the card's text"
    (out / "mg.apkg").unlink()

    # The planted entry is one the cache trusts: an ordinary build ships it.
    assert main(["build", str(cards), "--out", str(out)]) == 0
    assert explanation(out / "mg.apkg") == "Lab RANGE.", (
        "the planted entry no longer fools a cached build: plant it the way the new cache stores entries"
    )

    capsys.readouterr()
    assert main(["build", str(cards), "--out", str(out), "--no-cache", "--verbose"]) == 0
    assert explanation(out / "mg.apkg") == "Lab range."
    assert capsys.readouterr().err.splitlines()[0].startswith("read and rendered 1 card file (0 from the cache) in ")
