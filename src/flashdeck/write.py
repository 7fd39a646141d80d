"""Write a file atomically: a temp file beside the target, then os.replace.

genanki writes straight into the target; a failure or Ctrl-C half-way would
leave a broken .apkg where a good one was. Here the old file stays
byte-identical until the new one is complete, and no temp file survives.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
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


def atomic_write_text(target: Path, text: str) -> None:
    atomic_write(target, lambda f: f.write(text.encode("utf-8")))
