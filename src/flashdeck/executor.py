"""The one way flashdeck spreads work: `map` a function over items, in order, in worker processes.

Rendering is pure Python (Python-Markdown), so threads would not help; a
process per core does. A build asks for workers only when there is enough to
render to pay for starting them (`worth_workers`); `build --watch` keeps them
between builds. Results come back in the items' order, so the output never
depends on how the work was spread.
"""

from __future__ import annotations

import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future

T = TypeVar("T")
R = TypeVar("R")

PARALLEL_MIN_BYTES = 256 * 1024
"""Below this much Markdown to render (about 300 cards), one process is faster than starting more."""


def cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class Processes:
    """`workers` processes, started on first use and kept until `close`.

    At most two batches per worker are in flight, so a 100,000-card file is
    not pickled into the pipe all at once.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.most = max(1, workers or cpus())
        """How many workers the caller asked for."""
        self.workers = self.most
        """How many there are (or will be) now: `start` may begin with fewer."""
        self._pool = None

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        pending: deque = deque()
        for item in items:
            pending.append(self.submit(fn, item))
            if len(pending) >= 2 * self.workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

    def submit(self, fn: Callable[..., R], *args) -> Future:
        """`fn(*args)` in a worker: its future. (The caller keeps few in flight, as `map` does.)"""
        return self._start().submit(fn, *args)

    @property
    def running(self) -> bool:
        """Whether the workers are started (so using them costs nothing more)."""
        return self._pool is not None

    def start(self, warm: Callable[[], object], workers: int | None = None) -> None:
        """Start the workers now: a forked worker maps every page its parent holds, so fork while the parent is small.

        `warm` is run once in each worker (as far as the pool shares it out) and not waited for:
        the workers load what their first work needs while the caller goes on. `workers`: start
        only that many (`widen` adds the others when there is more to do).
        """
        if self._pool is None and workers:
            self.workers = max(1, min(workers, self.most))
        pool = self._start()
        for _ in range(self.workers):
            pool.submit(warm)

    def _start(self):
        if self._pool is None:
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=_context(), initializer=_ignore_sigint)
        return self._pool

    def widen(self) -> None:
        """Have every worker asked for when `start` began with fewer: they are started again, on first use."""
        if self.workers < self.most:
            self.close()
            self.workers = self.most

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


def worth_workers(size: int, items: int, workers: int) -> bool:
    """Whether rendering `size` bytes of Markdown in `items` batches pays for `workers` processes."""
    return workers > 1 and items > 1 and size >= PARALLEL_MIN_BYTES


def _ignore_sigint() -> None:
    """Workers leave Ctrl-C to the parent, which stops them: a terminal sends SIGINT to every process of
    the build, and an idle worker printed a KeyboardInterrupt traceback under "interrupted"."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _context():
    """fork where it is safe (no other threads): workers start in milliseconds with everything imported."""
    import multiprocessing
    import threading

    if "fork" in multiprocessing.get_all_start_methods() and sys.platform != "darwin" and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")
