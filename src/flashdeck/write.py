"""Write a file atomically: a temp file beside the target, then os.replace.

genanki writes straight into the target; a failure or Ctrl-C half-way would
leave a broken .apkg where a good one was. Here the old file stays
byte-identical until the new one is complete, and no temp file survives.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO, TypeVar

T = TypeVar("T")


def atomic_write(target: Path, produce: Callable[[BinaryIO], T]) -> T:
    """Call `produce(f)` on a temp file in `target`'s folder; on success move it to `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            result = produce(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        # BaseException: a Ctrl-C (KeyboardInterrupt) must not leave the temp file either.
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return result


def atomic_write_all(jobs: Iterable[tuple[Path, Callable[[BinaryIO], object]]], remove: Iterable[Path] = ()) -> None:
    """Write several files so that either all of them change or none does; then delete `remove`.

    Every file is first produced completely and flushed to disk as a temp file
    beside its target; only when all succeeded are they renamed into place,
    one quick rename each. A failure or Ctrl-C while producing leaves every old
    file byte-identical and removes every temp file.
    """
    staged: list[tuple[str, Path]] = []
    try:
        for target, produce in jobs:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            staged.append((tmp, target))
            with os.fdopen(fd, "wb") as f:
                produce(f)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o644)
        while staged:
            tmp, target = staged[0]
            os.replace(tmp, target)
            staged.pop(0)
    except BaseException:
        for tmp, _ in staged:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
        raise
    for path in remove:
        try:
            path.unlink()
        except FileNotFoundError:
            pass


def atomic_write_text(target: Path, text: str) -> None:
    atomic_write(target, lambda f: f.write(text.encode("utf-8")))
