"""What the command line shows while it works: a progress bar, stage timings, and `build --watch`.

The bar (rich) appears only on an interactive terminal and only once a run
has taken about a second, so quick builds print exactly what they always did.
`--verbose` prints one plain line per stage instead; `--quiet` prints nothing
but problems. The watch loop rebuilds on every save and keeps going after an
error.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

from .discover import SUFFIX

BAR_DELAY = 1.0
"""Seconds a run must take before the progress bar shows."""

_STAGES = {"cards": "reading and rendering cards", "write": "writing packages"}


class Reporter:
    """The `progress(stage, done, total)` callback of api.build/check, drawing whatever suits the terminal."""

    def __init__(self, stream: TextIO | None = None, bar: bool = False, verbose: bool = False, delay: float = BAR_DELAY) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.bar = bar and not verbose
        self.verbose = verbose
        self.delay = delay
        self.started = time.perf_counter()
        self._stage: str | None = None
        self._stage_started = self.started
        self._stage_total = 0
        self._cached: tuple[int, int] | None = None
        self._progress = None
        self._task = None
        self._last_draw = 0.0

    @classmethod
    def for_cli(cls, quiet: bool, verbose: bool, stream: TextIO | None = None) -> Reporter | None:
        """A bar on a terminal, plain lines with --verbose, nothing with --quiet or when piped."""
        stream = stream if stream is not None else sys.stderr
        if quiet:
            return None
        if verbose:
            return cls(stream, verbose=True)
        return cls(stream, bar=True) if _is_terminal(stream) else None

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if stage == "cards" and self._stage != "cards":
            self._cached = (done, total)  # the first call counts the cards known before any rendering
        if stage != self._stage:
            self._end_stage(now)
            self._stage, self._stage_started, self._stage_total = stage, now, total
        if self.bar:
            self._draw(stage, done, total, now)

    def close(self) -> None:
        """End the last stage: print its line (verbose) and remove the bar."""
        self._end_stage(time.perf_counter())
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def _end_stage(self, now: float) -> None:
        if self._stage is None or not self.verbose:
            return
        seconds = now - self._stage_started
        if self._stage == "cards":
            cached = ""
            if self._cached is not None:
                cached = f" ({self._cached[0]} known from the cache or the last build)"
            line = f"read {self._stage_total} card{'s' * (self._stage_total != 1)}{cached} in {seconds:.2f} s"
        else:
            line = f"wrote {self._stage_total} package{'s' * (self._stage_total != 1)} in {seconds:.2f} s"
        print(line, file=self.stream)

    def _draw(self, stage: str, done: int, total: int, now: float) -> None:
        if self._progress is None:
            if now - self.started < self.delay:
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            # auto_refresh=False: no refresh thread, so worker processes can still be forked safely.
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(file=self.stream),
                auto_refresh=False,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(_STAGES.get(stage, stage), total=total)
        if now - self._last_draw < 0.05 and done < total:
            return
        self._last_draw = now
        self._progress.update(self._task, description=_STAGES.get(stage, stage), completed=done, total=total)
        self._progress.refresh()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


# --- build --watch -----------------------------------------------------------

IGNORED_SUFFIXES = ("~", ".swp", ".swx", ".tmp", ".part")


def watched(cards_dir: Path, lock_name: str) -> Callable[[object, str], bool]:
    """Which changed paths matter: card files and images, not our own lock file or cache, nor editors' temp files."""
    root = Path(cards_dir).resolve()

    def accept(_change: object, path: str) -> bool:
        p = Path(path)
        try:
            rel = p.resolve().relative_to(root)
        except ValueError:
            return False
        if any(part.startswith(".") for part in rel.parts):  # .flashdeck-cache/, editors' .#swap files
            return False
        return p.name != lock_name and not p.name.endswith(IGNORED_SUFFIXES)

    return accept


def watch(
    rebuild: Callable[[list[Path]], None],
    cards_dir: Path,
    lock_name: str,
    changes: Iterable[set[tuple[object, str]]] | None = None,
    stream: TextIO | None = None,
) -> int:
    """Call `rebuild(changed_paths)` after every batch of saves until Ctrl-C; return 0.

    `changes` defaults to watchfiles watching `cards_dir`; tests pass their own.
    """
    stream = stream if stream is not None else sys.stdout
    if changes is None:
        import watchfiles

        # No watch_filter: the one filter is `accept` below, which every batch (also a test's) passes.
        changes = watchfiles.watch(cards_dir, watch_filter=None, debounce=300, step=50, raise_interrupt=False)
    print(f"watching {cards_dir} for changes (Ctrl-C to stop)", file=stream, flush=True)
    accept = watched(cards_dir, lock_name)
    try:
        for batch in changes:
            paths = sorted({Path(p) for change, p in batch if accept(change, p)})
            if paths:
                settle(paths, SETTLE_STEP, SETTLE_MAX)  # (read now: tests shorten the step)
                rebuild(paths)
                stream.flush()
    except KeyboardInterrupt:
        pass
    return 0


SETTLE_STEP = 0.1
SETTLE_MAX = 2.0


def settle(paths: list[Path], step: float = SETTLE_STEP, most: float = SETTLE_MAX) -> None:
    """Wait until the saved files hold still, so a build never reads one half written.

    Many editors save by truncating the file and writing it again; a build that
    catches it empty would retire all its cards. So: wait (up to `most`
    seconds) until no file's size and time change between two looks `step`
    apart, and while a card file that was saved is empty.
    """
    def look():
        out = []
        for p in paths:
            try:
                st = p.stat()
                out.append((st.st_size, st.st_mtime_ns))
            except OSError:
                out.append(None)
        return out

    waited = 0.0
    before = look()
    while waited < most:
        time.sleep(step)
        waited += step
        now = look()
        empty = any(s is not None and s[0] == 0 and p.suffix == SUFFIX for p, s in zip(paths, now))
        if now == before and not empty:
            return
        before = now
