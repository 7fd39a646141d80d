"""Pathological lines: time to parse (or scan for images) a line, and 4x that line.

tests/test_parse_property.py counts the Python lines the parser runs on these
inputs; work done inside one C call (a regular expression backtracking, a
`str.find` repeated from every opener) is invisible to that count, so it is
timed here instead. Linear code gives a ratio near 4 (or 1 when the scan is
one C call); quadratic code gives 16 and up.

    python bench/pathological.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from flashdeck.media import image_refs  # noqa: E402
from flashdeck.model import Card, Section  # noqa: E402
from flashdeck.parse import parse  # noqa: E402

PATH = Path("cards/x.md")

LINES = {
    "closing-hashes": (lambda n: "## " + " #" * n + "x", 30_000),
    "open-ids": (lambda n: "## T " + "{#" * n, 30_000),
    "open-code-spans": (lambda n: "<!-- " + "` `` " * n, 30_000),
    "open-fences": (lambda n: "````x\n```\n" * n, 40_000),
    "long-option": (lambda n: "- [x]" * n, 100_000),
}
IMAGES = {
    "img-tags-never-closed": (lambda n: "<img " * n, 30_000),
    "image-brackets-never-closed": (lambda n: "![" * n, 300_000),
    "image-titles-never-closed": (lambda n: '![a](b.png "t' * n, 20_000),
}


def best_of_three(fn) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    print(f"{'case':<30} {'n/4':>10} {'n':>10} {'ratio':>7}")
    for name, (line, n) in {**LINES, **IMAGES}.items():
        times = []
        for size in (n // 4, n):
            if name in LINES:
                text = "## Card {#c}\n" + line(size) + "\n### Answer\nA\n### Explanation\nE\n"
                times.append(best_of_three(lambda: parse(text, PATH, "x")))  # noqa: B023
            else:
                card = Card("c", "t", PATH, 1, "x", Section(line(size), 2))
                times.append(best_of_three(lambda: image_refs(card)))  # noqa: B023
        ratio = times[1] / times[0] if times[0] else float("inf")
        print(f"{name:<30} {times[0] * 1000:>8.1f}ms {times[1] * 1000:>8.1f}ms {ratio:>7.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
