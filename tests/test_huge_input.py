"""Huge inputs stay proportional: four times the cards cost about four times the work and memory.

Work is counted (tests/growth.py), never timed, so a busy machine cannot fail
these. Modest sizes keep the suite fast; bench/huge_input.py runs the real
thing (a 50 MB file, a 1 MB card, 10,000 files) and prints time and peak memory.
"""

from __future__ import annotations

from pathlib import Path

from flashdeck import parse
from flashdeck.api import cards, check
from flashdeck.discover import discover
from flashdeck.model import FileContext
from growth import peak, steps

CTX = FileContext(Path("cards/big.md"), "big.md", "big")

CARD = """## Card {n} {{#card-{n}}}
Serum Mg^2+^ of 0.{d} mmol/L with *tetany*: which transporter fails in case {n}?

- [ ] NKCC2 in the thick ascending limb
- [x] TRPM6 in the distal convoluted tubule <!-- checked -->
- [ ] NCC, the thiazide-sensitive cotransporter

### Explanation
TRPM6 is the apical Mg^2+^ channel of the DCT. See [the review](https://pubmed.ncbi.nlm.nih.gov/21041532/).

```text
## not a card, just code
```

Tags: renal, magnesium
"""


def deck(n: int) -> str:
    return "".join(CARD.format(n=i, d=i % 10) for i in range(n))


def parse_cost(text: str) -> tuple[int, int]:
    """(Python lines executed, peak bytes Python allocated) for parsing `text`."""
    data = text.encode()
    run = lambda: parse.file(data, CTX)  # noqa: E731
    return steps(run), peak(run)


def test_parse_work_and_memory_grow_linearly_with_the_file():
    small, large = deck(200), deck(800)
    assert len(parse.file(large.encode(), CTX)) == 800
    s_small, m_small = parse_cost(small)
    s_large, m_large = parse_cost(large)
    # Linear gives 4; quadratic gives 16.
    assert m_large / m_small < 5, (m_small, m_large)
    assert s_large / s_small < 6, (s_small, s_large)
    # Memory stays a small multiple of the text (Python keeps each line as its own object).
    assert m_large < 12 * len(large), (m_large, len(large))


def test_one_megabyte_card_goes_through_the_whole_check(tmp_path):
    folder = tmp_path / "cards"
    folder.mkdir()
    paragraph = "Magnesium is reabsorbed mostly in the thick ascending limb and finely tuned in the DCT. " * 12
    body = "\n\n".join([paragraph] * 1000)
    (folder / "one.md").write_text(f"## One huge card {{#huge}}\nWhat?\n\n### Answer\nThis.\n\n### Explanation\n{body}\n", encoding="utf-8")
    assert (folder / "one.md").stat().st_size > 1_000_000
    assert check(folder).cards == 1
    (card,) = cards(folder)
    assert card.id == "huge"
    assert len(card.explanation.text) == len(body)


def test_a_thousand_files_in_one_folder_make_one_package(tmp_path):
    folder = tmp_path / "cards" / "many"
    folder.mkdir(parents=True)
    for i in range(1000):
        (folder / f"f{i:04}.md").write_text(CARD.format(n=i, d=i % 10), encoding="utf-8")
    report = check(tmp_path / "cards")
    assert [b.name for b in discover(tmp_path / "cards")[0]] == ["many"]
    assert report.cards == 1000
    assert report.warnings == []
