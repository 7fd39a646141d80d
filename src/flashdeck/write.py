"""Write files atomically: a temp file beside the target, then os.replace.

genanki writes straight into the target; a failure or Ctrl-C half-way would
leave a broken .apkg where a good one was. Here the old file stays
byte-identical until the new one is complete, and no temp file survives.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO


def atomic_write(target: Path, produce: Callable[[BinaryIO], object]) -> None:
    """Call `produce(f)` on a temp file in `target`'s folder; on success move it to `target`."""
    atomic_write_all([(target, produce)])


_TEMP_FLAGS = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)


def _open_temp(target: Path, names: list[str]) -> int:
    """Create a new empty file beside `target` and return its descriptor; its name is in `names` before it exists.

    tempfile.mkstemp tells the name only once the file exists: a Ctrl-C
    landing in between (a real SIGINT under load does) left a temp file no
    cleanup knew of. Here the caller always knows what to delete.
    """
    while True:
        names.append(os.path.join(target.parent, f".{target.name}.{secrets.token_hex(8)}.tmp"))
        try:
            return os.open(names[-1], _TEMP_FLAGS, 0o600)
        except FileExistsError:  # another writer's file: never ours to delete
            names.pop()


def atomic_write_all(jobs: Iterable[tuple[Path, Callable[[BinaryIO], object]]], remove: Iterable[Path] = ()) -> None:
    """Write several files so that either all of them change or none does; then delete `remove`.

    Every file is first produced completely and flushed to disk as a temp file
    beside its target; only when all succeeded are they renamed into place,
    one quick rename each. A failure or Ctrl-C while producing leaves every old
    file byte-identical and removes every temp file.
    """
    names: list[str] = []
    staged: list[tuple[str, Path]] = []
    try:
        for target, produce in jobs:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd = _open_temp(target, names)
            staged.append((names[-1], target))
            with os.fdopen(fd, "wb") as f:
                produce(f)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(names[-1], 0o644)
        while staged:
            tmp, target = staged[0]
            os.replace(tmp, target)
            staged.pop(0)
            names.remove(tmp)
    except BaseException:
        _unlink_all(names)
        raise
    for path in remove:
        try:
            path.unlink()
        except FileNotFoundError:
            pass


def _unlink_all(names: list[str]) -> None:
    for name in names:
        try:
            os.unlink(name)
        except FileNotFoundError:
            pass


def atomic_write_text(target: Path, text: str) -> None:
    atomic_write(target, lambda f: f.write(text.encode("utf-8")))
