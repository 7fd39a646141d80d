"""Write a file atomically: a temp file beside the target, then os.replace.

genanki writes straight into the target; a failure or Ctrl-C half-way would
leave a broken .apkg where a good one was. Here the old file stays
byte-identical until the new one is complete, and no temp file survives.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TypeVar

T = TypeVar("T")


def atomic_write(target: Path, produce: Callable[[BinaryIO], T]) -> T:
    """Call `produce(f)` on a temp file in `target`'s folder; on success move it to `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    names: list[str] = []
    try:
        fd = _open_temp(target, names)
        tmp = names[-1]
        with os.fdopen(fd, "wb") as f:
            result = produce(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        # BaseException: a Ctrl-C (KeyboardInterrupt) must not leave the temp file either.
        for name in names:
            try:
                os.unlink(name)
            except FileNotFoundError:
                pass
        raise
    return result


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


def atomic_write_all(jobs: list[tuple[Path, Callable[[BinaryIO], object]]]) -> None:
    """Write several files so that either all of them change or none does.

    Every file is first produced completely as a temp file beside its target;
    only when all succeeded are they renamed into place, one quick rename each.
    A failure or Ctrl-C while producing leaves every old file byte-identical
    and removes every temp file.
    """
    import threading

    staged: list[tuple[list[str], Path]] = []
    syncing: list[tuple[threading.Thread, list]] = []
    try:
        for target, produce in jobs:
            target.parent.mkdir(parents=True, exist_ok=True)
            names: list[str] = []
            staged.append((names, target))
            fd = _open_temp(target, names)
            tmp = names[-1]
            with os.fdopen(fd, "wb") as f:
                produce(f)
                f.flush()
            # fsync on a thread (it lets go of the GIL) while the next file is
            # produced; every file is on disk before the first rename.
            failed: list = []
            thread = threading.Thread(target=_sync, args=(tmp, failed), daemon=True)
            thread.start()
            syncing.append((thread, failed))
            os.chmod(tmp, 0o644)
        for thread, failed in syncing:
            thread.join()
            if failed:
                raise failed[0]
        while staged:
            names, target = staged[0]
            os.replace(names[-1], target)
            staged.pop(0)
    except BaseException:
        for thread, _ in syncing:
            thread.join()
        for names, _ in staged:
            for tmp in names:
                try:
                    os.unlink(tmp)
                except FileNotFoundError:
                    pass
        raise


def _sync(path: str, failed: list) -> None:
    try:
        fd = os.open(path, os.O_RDWR)  # (Windows syncs only a file open for writing)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        failed.append(exc)


def atomic_write_text(target: Path, text: str) -> None:
    atomic_write(target, lambda f: f.write(text.encode("utf-8")))
