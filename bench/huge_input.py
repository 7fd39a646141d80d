"""Huge inputs (issue 6): a 50 MB file, a 1 MB card, 10,000 files. Time and peak memory.

Each scenario runs in a fresh child process, so its peak resident memory
(ru_maxrss) is its own. "parse" is read + parse of every file (what the
property and linear-time tests cover); "check" is `flashdeck check` (parse,
validate, render, sanitize) and is much slower on 50 MB; ask for it with --check.

    python bench/huge_input.py bench/out/huge                 # parse only
    python bench/huge_input.py bench/out/huge --check         # parse, then the full check
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

CARD = """## Card number {n} {{#card-{n}}}
A patient with serum Mg^2+^ of 0.{d} mmol/L and *tetany*: which transporter is at fault in case {n}?

- [ ] NKCC2 in the thick ascending limb
- [x] TRPM6 in the distal convoluted tubule
- [ ] NCC, the thiazide-sensitive cotransporter

### Explanation
TRPM6 is the apical Mg^2+^ channel of the DCT; loss of function gives **hypomagnesaemia with
secondary hypocalcaemia**. See [the review](https://pubmed.ncbi.nlm.nih.gov/21041532/). <!-- checked -->

### References
- <https://pubmed.ncbi.nlm.nih.gov/21041532/>

Tags: renal, magnesium
"""


def make(root: Path) -> dict[str, Path]:
    """Write the three inputs under `root` (skipped when already there)."""
    big = root / "big" / "cards"
    if not big.exists():
        big.mkdir(parents=True)
        with open(big / "big.md", "w", encoding="utf-8") as f:
            size, n = 0, 0
            while size < 50 * 1024 * 1024:
                n += 1
                size += f.write(CARD.format(n=n, d=n % 10))
    one = root / "one_card" / "cards"
    if not one.exists():
        one.mkdir(parents=True)
        line = "Magnesium is reabsorbed mostly in the thick ascending limb, some in the DCT. " * 13
        body = "\n\n".join([line] * 1000)  # ~1 MB explanation in 1,000 paragraphs
        (one / "one.md").write_text(f"## One huge card {{#huge}}\nWhat?\n\n### Answer\nThis.\n\n### Explanation\n{body}\n", encoding="utf-8")
    many = root / "many" / "cards"
    if not many.exists():
        (many / "deck").mkdir(parents=True)
        for n in range(10_000):
            (many / "deck" / f"f{n:05}.md").write_text(CARD.format(n=n, d=n % 10), encoding="utf-8")
    return {"50 MB file": big, "1 MB card": one, "10,000 files": many}


def run_one(cards: Path, mode: str) -> dict:
    from flashdeck.discover import default_deck_name, discover, relpath
    from flashdeck.parse import parse, read_source

    start = time.perf_counter()
    n_cards = 0
    if mode == "parse":
        for bundle in discover(cards):
            for path in bundle.files:
                source, _ = parse(read_source(path), path, default_deck_name(relpath(path, cards)))
                n_cards += len(source.cards)
    else:
        import shutil

        from flashdeck.api import check

        shutil.rmtree(cards / ".flashdeck-cache", ignore_errors=True)  # measure a cold check
        loaded = check(cards)
        n_cards = sum(len(c) for c in loaded.cards.values())
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    worker_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # largest render worker, if any
    return {"cards": n_cards, "seconds": round(seconds, 2), "peak_rss_mib": round(peak_kib / 1024, 1), "worker_rss_mib": round(worker_kib / 1024, 1)}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("root", type=Path)
    p.add_argument("--check", action="store_true", help="also time the full `flashdeck check`")
    p.add_argument("--child", nargs=2, metavar=("CARDS", "MODE"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(run_one(Path(args.child[0]), args.child[1])))
        return 0
    inputs = make(args.root)
    baseline = json.loads(subprocess.run([sys.executable, "-c", "import json, resource, flashdeck.parse;"
                                          "print(json.dumps(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))"],
                                         capture_output=True, text=True, check=True).stdout)
    print(f"baseline (python + flashdeck imported): {baseline / 1024:.1f} MiB")
    for name, cards in inputs.items():
        size = sum(p.stat().st_size for p in cards.rglob("*.md"))
        for mode in ["parse", "check"] if args.check else ["parse"]:
            out = subprocess.run([sys.executable, __file__, str(args.root), "--child", str(cards), mode], capture_output=True, text=True)
            if out.returncode:
                print(f"{name}: {mode} failed\n{out.stderr}")
                continue
            r = json.loads(out.stdout)
            workers = f", largest worker {r['worker_rss_mib']} MiB" if r["worker_rss_mib"] else ""
            print(f"{name} ({size / 2**20:.1f} MiB, {r['cards']} cards): {mode} {r['seconds']} s, peak RSS {r['peak_rss_mib']} MiB{workers}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
