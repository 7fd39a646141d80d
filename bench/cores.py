"""How much two busy cores of this machine give: the floor alone, then two floors at once, one per core.

A cold build spreads rendering over every core, and the floor runs on one. So
"cold <= 0.5x the floor" asks, on two cores, that two processes rendering at
once each go as fast as one alone, and that flashdeck's own per-card work cost
no more than the floor's. On a virtual machine the two cores can share more
than they seem to (caches, memory bandwidth, a host core's other thread):
this script measures how much each process slows when both cores are busy,
so that a cold ratio can be read against what the machine allows.

    python bench/cores.py            # 2,000 cards, 3 rounds
    python bench/cores.py --cards 5000 --rounds 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402


def floor(cards: Path, out: Path, cpu: int | None) -> subprocess.Popen:
    """Start bench/floor.py on `cards`, pinned to `cpu` when given."""
    pin = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None
    return subprocess.Popen([sys.executable, str(HERE / "floor.py"), str(cards), str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=pin)


def timed(procs: list[subprocess.Popen]) -> list[float]:
    """Wall seconds of each process, all started together."""
    started = time.perf_counter()
    ended = {}
    while len(ended) < len(procs):
        pid, status = os.wait()
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"floor.py failed ({status})")
        ended[pid] = time.perf_counter() - started
    return [ended[p.pid] for p in procs]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cards", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        raise SystemExit("one core only: nothing to compare")
    with tempfile.TemporaryDirectory(prefix="flashdeck-cores-") as tmp:
        root = Path(tmp)
        cards = corpus.generate(args.cards, root)
        alone, paired = [], []
        for _ in range(args.rounds):  # (alternated, so a machine that slows down mid-run slows both)
            alone += timed([floor(cards, root / "a.apkg", cpus[0])])
            paired += timed([floor(cards, root / f"p{i}.apkg", cpus[i]) for i in range(2)])
    one, two = statistics.median(alone), statistics.median(paired)
    print(f"{args.cards:,} cards, {args.rounds} rounds: one floor alone {one:.2f} s; two at once, one per core, {two:.2f} s each")
    print(f"each process at {one / two:.2f} of its speed alone: two cores give {2 * one / two:.2f}x one core")
    print(f"so a cold build at 0.5x the floor needs per-card work at {one / two:.2f} of the floor's or less")


if __name__ == "__main__":
    main()
