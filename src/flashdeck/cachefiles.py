"""The folder beside a cards folder's cache: files too big to keep well in its SQLite file.

A package's working database (collection.py) and values of BIG_FILE bytes or
more (store.put_value: the lock's record of 100,000 cards is 23 MB, which
SQLite would copy twice more while inserting) live here as files, each under
its key, and their MACs in the cache's table. A file whose key the last
build did not use is deleted with the cache's other unused entries.
"""

from __future__ import annotations

import hmac
import os
import tempfile
import time
from pathlib import Path

BIG_FILE = 1 << 20
"""From this size a value is kept in a file (store.put_value)."""
VALUE = ".value"


class Files:
    def __init__(self, folder: Path, key: bytes) -> None:
        self.folder = folder
        self._key = key or b"scratch"

    def slot(self, key: str) -> Path | None:
        """Where a file under `key` goes (the folder made if need be), or None when it cannot be made."""
        try:
            self.folder.mkdir(exist_ok=True)
        except OSError:
            return None
        return self.folder / key

    def new_file(self, name: str) -> Path:
        """A new empty file beside `name`'s slot, this build's alone, to write its next version in (then `os.replace`).

        Never a fixed name: two builds of the same cards (a `--watch` beside a `build`) wrote one
        working database into the same file and ruined it for both.
        """
        fd, path = tempfile.mkstemp(dir=self.folder, prefix=name + ".", suffix=".new")
        os.close(fd)
        return Path(path)

    def mac(self, path: Path) -> bytes:
        """The MAC of a file's bytes, read in blocks (a 100,000-note collection is 150 MB)."""
        mac = self._file_mac()
        with open(path, "rb") as f:
            while block := f.read(1 << 20):
                mac.update(block)
        return mac.digest()

    def copy(self, src: Path, dst: Path) -> bytes:
        """Copy `src` to `dst`: the MAC of the bytes written (one pass, not a copy read back: 10,000 notes, -5 ms)."""
        mac = self._file_mac()
        with open(src, "rb") as f, open(dst, "wb") as out:
            while block := f.read(1 << 20):
                mac.update(block)
                out.write(block)
        return mac.digest()

    def _file_mac(self):
        """What `mac` and `copy` both feed: one definition, or a copy's MAC would never match a record's."""
        return hmac.new(self._key, b"file\0", "sha256")

    def write_value(self, key: str, data: bytes) -> bool:
        """Keep `data` under `key` (written aside, then moved into place); False when it could not be."""
        path = self.slot(key)
        if path is None or not key.isalnum():  # (keys of other entries may hold any character)
            return False
        path = path.with_name(key + VALUE)
        try:
            aside = self.new_file(path.name)
            with open(aside, "wb") as f:
                f.write(data)
            os.replace(aside, path)
        except OSError:
            return False
        return True

    def read_value(self, key: str) -> bytes | None:
        try:
            return (self.folder / (key + VALUE)).read_bytes() if key.isalnum() else None
        except OSError:
            return None

    def prune(self, used: set[str]) -> None:
        """Delete every file whose key is not in `used` (a package gone, or what a stopped build left).

        A file still being written (`.new`) is left for an hour: it may be another build's of the same cards.
        """
        for path in self.folder.iterdir() if self.folder.is_dir() else ():
            if path.name.removesuffix(VALUE) not in used and not (path.suffix == ".new" and time.time() - path.stat().st_mtime < 3600):
                path.unlink(missing_ok=True)
