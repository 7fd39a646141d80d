"""Time the builds a `flashdeck build --watch` session runs after one-card edits (bench/run.py's watch column).

One session, as `--watch` keeps it: its first build (nothing changed since the
last), then EDITS times a one-card edit (corpus.edit_one_card) and a build,
each timed alone. Noticing the save (watchfiles, live.settle) is not included.
Prints JSON: each rebuild's seconds and their median.

    python bench/watch.py CARDS_DIR OUT_DIR [EDITS]
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus  # noqa: E402

from flashdeck import api  # noqa: E402
from flashdeck.session import Session  # noqa: E402


def main(cards: Path, out: Path, edits: int) -> None:
    runs = []
    with Session() as s:
        api.build(cards, out, session=s)
        for _ in range(edits):
            corpus.edit_one_card(cards)
            started = time.perf_counter()
            report = api.build(cards, out, session=s)
            runs.append(round(time.perf_counter() - started, 4))
            assert len(report.change.changed) == 1, report.change.summary(None)
    print(json.dumps({"runs": runs, "seconds": statistics.median(runs)}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 5)
