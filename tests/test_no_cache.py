"""`build --no-cache` builds from the sources alone (README, "Big decks": the cache).

The way out when a learner reports a card the sources do not hold is
`--no-cache`; it must not read a single entry. The test plants a lie in the
cache the only way one can be planted now (as this machine, with its key:
tests/test_cache.py shows that any other planted entry is refused), shows that
an ordinary build believes it, and then that `--no-cache` does not.
"""

from __future__ import annotations

import marshal
import sqlite3
from pathlib import Path

from apkgutil import read_apkg
from flashdeck import cachekey, store
from flashdeck.cli import main

CARD = "## Normal magnesium {#mg-normal}\nWhat is the normal serum Mg?\n\n### Answer\n0.7 to 1.0 mmol/L\n\n### Explanation\nLab range.\n"
TRUE, PLANTED = "Lab range.", "Lab RANGE."


def plant(cards: Path) -> int:
    """Rewrite the source's text in every cached card's fields, signed as this machine would; return how many held it."""
    (db_path,) = cachekey.cache_root().glob("*.sqlite")
    signer = store.Store(cards, persist=False)  # reaching inside on purpose: only the machine's own MAC is trusted
    signer._key = cachekey.machine_key(cachekey.cache_root(), create=False)
    planted = 0
    with sqlite3.connect(db_path) as db:
        for key, data in db.execute("SELECT key, fields FROM card").fetchall():
            fields = marshal.loads(data)
            if any(TRUE in f for f in fields):
                new = marshal.dumps(tuple(f.replace(TRUE, PLANTED) for f in fields))
                db.execute("UPDATE card SET fields = ?, fmac = ? WHERE key = ?", (new, signer._mac(b"f", key, new), key))
                planted += 1
    signer.close()
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
    assert plant(cards) >= 1, "the build left no cache entry holding the card's text"
    (out / "mg.apkg").unlink()

    # The planted entry is one the cache trusts: an ordinary build ships it.
    assert main(["build", str(cards), "--out", str(out)]) == 0
    assert explanation(out / "mg.apkg") == "Lab RANGE.", (
        "the planted entry no longer fools a cached build: plant it the way the cache stores entries now"
    )

    capsys.readouterr()
    assert main(["build", str(cards), "--out", str(out), "--no-cache", "--verbose"]) == 0
    assert explanation(out / "mg.apkg") == "Lab range."
    assert capsys.readouterr().err.splitlines()[0].startswith("read 1 card (0 known from the cache or the last build) in ")
