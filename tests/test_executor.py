"""The executor's own promises: work runs in worker processes, in order, and a warm-up does not hold the caller."""

from __future__ import annotations

import os
import time
from pathlib import Path

from flashdeck import executor

GO = "go"


def _warm_up(folder: str) -> None:
    # Waits for the caller to say go: only a caller that went on without waiting can say it.
    go = Path(folder) / GO
    deadline = time.monotonic() + 20
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    (Path(folder) / f"warm-{os.getpid()}").write_text("went on" if go.exists() else "waited", encoding="utf-8")


def _square(n: int) -> int:
    return n * n


def test_start_runs_the_warm_up_in_the_workers_without_waiting_for_it(tmp_path):
    pool = executor.Processes(2)
    try:
        from functools import partial

        pool.start(partial(_warm_up, str(tmp_path)))
        (tmp_path / GO).write_text("", encoding="utf-8")
        assert list(pool.map(_square, range(8))) == [n * n for n in range(8)]
    finally:
        pool.close()
    warmed = sorted(tmp_path.glob("warm-*"))
    assert warmed, "the warm-up never ran"
    assert {p.read_text(encoding="utf-8") for p in warmed} == {"went on"}
    assert os.getpid() not in {int(p.name.split("-")[1]) for p in warmed}, "the warm-up ran in the caller"


def _pid(_: int) -> int:
    time.sleep(0.05)  # (long enough that one worker cannot take every item while another starts)
    return os.getpid()


def test_a_pool_started_with_one_worker_widens_to_all_it_was_asked_for():
    pool = executor.Processes(2)
    try:
        pool.start(int, workers=1)
        assert len(set(pool.map(_pid, range(6)))) == 1
        pool.widen()
        assert len(set(pool.map(_pid, range(6)))) == 2
    finally:
        pool.close()
