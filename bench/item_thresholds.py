"""Measure the item-writing checks' thresholds on the sound and flawed item sets.

    python bench/item_thresholds.py [--deck cards/hypomagnesemia.md]

Not a timing: this prints, for each rule with a threshold, how many items of
tests/fixtures/items/sound it would flag (false alarms) and how many of
tests/fixtures/items/flawed/<rule>.md it would catch, for a range of candidate
thresholds, and for every rule the counts at the thresholds in use; then what the rules
flag in tests/fixtures/items/held-out, items written after the thresholds were fixed. The numbers
quoted in the comments at each threshold in src/flashdeck/itemlimits.py come from
this script. `--deck` adds another file's items as a separate column (the shipped
deck, whose flaws are known).
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from flashdeck import itemcheck as ic  # noqa: E402
from flashdeck import itemlang as lang  # noqa: E402
from flashdeck import itemtext as tx  # noqa: E402
from flashdeck import parse, scan  # noqa: E402
from flashdeck.model import Card, FileContext  # noqa: E402

ITEMS = ROOT / "tests" / "fixtures" / "items"


def cards_in(*paths: Path) -> list[Card]:
    out = []
    for path in paths:
        files = sorted(path.rglob("*.md")) if path.is_dir() else [path]
        for f in files:
            out.extend(parse.file(scan.load(f), FileContext(f, f.name, f.stem)))
    return out


def key_of(card: Card) -> int | None:
    correct = [i for i, o in enumerate(card.options) if o.correct]
    return correct[0] if len(correct) == 1 else None


def longest(cards: list[Card]) -> list[tuple[str, int, int]]:
    """(id, key length, longest distractor) for each item whose key is the longest."""
    rows = []
    for c in cards:
        k = key_of(c)
        if k is None:
            continue
        lengths = [len(tx.option_text(o).plain) for o in c.options]
        others = max(n for i, n in enumerate(lengths) if i != k)
        if lengths[k] > others:
            rows.append((c.id, lengths[k], others))
    return rows


def pairs(cards: list[Card]) -> list[tuple[str, str, str, float, bool, bool]]:
    """(id, option, option, ratio, exact, guarded) for every pair of options of each item."""
    rows = []
    for c in cards:
        texts = [tx.option_text(o) for o in c.options]
        words = [lang.option_words(t) for t in texts]
        for j in range(len(texts)):
            for i in range(j):
                exact = lang.squashed(texts[i]) == lang.squashed(texts[j]) or (
                    bool(words[i]) and sorted(w.key for w in words[i]) == sorted(w.key for w in words[j])
                )
                ratio = difflib.SequenceMatcher(
                    None, " ".join(w.key for w in words[i]), " ".join(w.key for w in words[j]), autojunk=False
                ).ratio()
                rows.append((c.id, texts[i].plain, texts[j].plain, ratio, exact, lang.differ(words[i], words[j])))
    return rows


def coverage(card: Card) -> float | None:
    if card.options or card.answer is None or not card.answer.text:
        return None
    return lang.answer_coverage(tx.without_code(tx.question_text(card)), tx.section_text(card.answer))[0]


def repeated(card: Card) -> int:
    k = key_of(card)
    if k is None:
        return 0
    texts = [tx.option_text(o) for o in card.options]
    stem = {w.key for w in tx.content(tx.words(tx.question_text(card)))}
    elsewhere = {w.key for i, t in enumerate(texts) if i != k for w in tx.words(t)}
    return len({w.key for w in tx.content(tx.words(texts[k])) if w.key in stem and w.key not in elsewhere})


def flagged(cards: list[Card], rule: str) -> list[str]:
    return [c.id for c in cards if any(f.rule == rule for f in ic.check(c))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--deck", type=Path, help="another card file to report on (e.g. the shipped deck)")
    args = ap.parse_args()
    sound = cards_in(ITEMS / "sound")
    flawed = {p.stem: cards_in(p) for p in sorted((ITEMS / "flawed").glob("*.md"))}
    deck = cards_in(args.deck) if args.deck else []
    mc = [c for c in sound if c.options]
    qa = [c for c in sound if not c.options]
    print(f"sound set: {len(mc)} multiple-choice items, {len(qa)} question/answer cards")
    print(f"flawed set: {', '.join(f'{k} {len(v)}' for k, v in flawed.items())}")

    print("\n== longest-option: key vs longest distractor, items whose key is the longest")
    rows = longest(mc)
    for cid, k, o in sorted(rows, key=lambda r: -r[1] / r[2]):
        print(f"  sound  {cid:40} {k:3} vs {o:3}  +{(k / o - 1) * 100:4.0f}%  +{k - o}")
    frows = longest(flawed["longest-option"])
    for cid, k, o in frows:
        print(f"  flawed {cid:40} {k:3} vs {o:3}  +{(k / o - 1) * 100:4.0f}%  +{k - o}")
    drows = longest(deck)
    for cid, k, o in drows:
        print(f"  deck   {cid:40} {k:3} vs {o:3}  +{(k / o - 1) * 100:4.0f}%  +{k - o}")
    print("  ratio  min chars: false alarms (sound) / caught (flawed)" + (" / deck flagged" if deck else ""))
    for ratio in (1.2, 1.25, 1.3, 1.4, 1.5, 1.6, 1.75, 2.0):
        cells = []
        for chars in (0, 5, 10, 12, 15, 20):
            def hit(rs, ratio=ratio, chars=chars):
                return sum(k >= o * ratio and k - o >= chars for _, k, o in rs)
            cell = f"{hit(rows)}/{len(mc)} {hit(frows)}/{len(flawed['longest-option'])}"
            if deck:
                cell += f" d{hit(drows)}"
            cells.append(f"≥{chars:2}: {cell}")
        print(f"  {ratio:4}  " + "   ".join(cells))

    print("\n== duplicate-options: option pairs")
    srows = pairs(mc)
    frows2 = pairs(flawed["duplicate-options"])
    drows2 = pairs(deck)
    open_sound = sorted((r for r in srows if not r[4] and not r[5]), key=lambda r: -r[3])
    print("  most similar unguarded sound pairs:")
    for r in open_sound[:6]:
        print(f"    {r[3]:.3f}  {r[0]}: {r[1]!r} / {r[2]!r}")
    guarded = sorted((r for r in srows if r[5]), key=lambda r: -r[3])
    print("  most similar guarded sound pairs (numbers, codes, contrasts, negations):")
    for r in guarded[:8]:
        print(f"    {r[3]:.3f}  {r[0]}: {r[1]!r} / {r[2]!r}")
    print("  flawed pairs (best pair per item):")
    best: dict[str, tuple] = {}
    for r in frows2:
        if r[0] not in best or (r[4], r[3]) > (best[r[0]][4], best[r[0]][3]):
            best[r[0]] = r
    for r in best.values():
        print(f"    {r[3]:.3f} exact={r[4]!s:5} guarded={r[5]!s:5} {r[0]}: {r[1]!r} / {r[2]!r}")
    if deck:
        print("  deck: most similar pairs:")
        for r in sorted(drows2, key=lambda r: -r[3])[:4]:
            print(f"    {r[3]:.3f} guarded={r[5]!s:5} {r[0]}: {r[1]!r} / {r[2]!r}")
    for t in (0.8, 0.85, 0.88, 0.9, 0.92, 0.95):
        def items(rs, t=t):
            return {r[0] for r in rs if r[4] or (r[3] >= t and not r[5])}
        print(f"  ratio ≥ {t}: false alarms {len(items(srows))}/{len(mc)}, caught {len(items(frows2))}/{len(flawed['duplicate-options'])}"
              + (f", deck {len(items(drows2))}" if deck else ""))

    print("\n== answer-in-question: share of the answer's content words found in the question")
    cov = sorted(((coverage(c), c.id) for c in qa if coverage(c) is not None), reverse=True)
    print("  sound, highest: " + ", ".join(f"{v:.2f} {cid}" for v, cid in cov[:5]))
    dcov = sorted(((coverage(c), c.id) for c in deck if coverage(c) is not None), reverse=True)
    if deck:
        print(f"  deck ({len(dcov)} cards), highest: " + ", ".join(f"{v:.2f} {cid}" for v, cid in dcov[:5]))
    fcov = [(coverage(c), c.id) for c in flawed["answer-in-question"]]
    print("  flawed: " + ", ".join(f"{v:.2f} {cid}" for v, cid in fcov))
    for t in (0.4, 0.5, 0.6, 0.75, 0.9, 1.0):
        print(f"  coverage ≥ {t}: false alarms {sum(v >= t for v, _ in cov)}/{len(cov)}"
              + (f" + deck {sum(v >= t for v, _ in dcov)}/{len(dcov)}" if deck else "")
              + f", caught {sum(v >= t for v, _ in fcov)}/{len(fcov)}")

    print("\n== stem-repeated-in-key: distinct stem words found in the key and in no distractor")
    for n in (1, 2, 3):
        fa = [c.id for c in mc if repeated(c) >= n]
        hit = [c.id for c in flawed["stem-repeated-in-key"] if repeated(c) >= n]
        dk = [c.id for c in deck if c.options and repeated(c) >= n]
        print(f"  ≥ {n} word(s): false alarms {len(fa)}/{len(mc)} {fa}, caught {len(hit)}/{len(flawed['stem-repeated-in-key'])}"
              + (f", deck {dk}" if deck else ""))

    held = cards_in(ITEMS / "held-out")
    print(f"\n== held-out set ({len(held)} cards written after the thresholds were fixed): flagged")
    for c in held:
        for f in ic.check(c):
            print(f"  {c.id}: {f.rule}")

    print("\n== every rule at the thresholds in use (items flagged)")
    for rule in ic.RULE_NAMES:
        pool = qa if rule == "answer-in-question" else mc
        fa = flagged(pool, rule)
        hit = flagged(flawed[rule], rule)
        line = f"  {rule:24} false alarms {len(fa)}/{len(pool)}  caught {len(hit)}/{len(flawed[rule])}"
        if deck:
            line += f"  deck {flagged(deck, rule)}"
        print(line + (f"  (false alarms: {fa})" if fa else ""))


if __name__ == "__main__":
    main()
