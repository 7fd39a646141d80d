"""What one run of flashdeck keeps between its builds: renderer, worker processes, stores, genanki's facts.

`build()` and `check()` make a session for one call; `build --watch` keeps one
for as long as it watches, so a rebuild after a save neither starts Python-
Markdown, genanki or the workers again nor reloads the results of unchanged
cards. Nothing here is module state: two sessions share nothing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from . import executor, media, package
from .store import Store

if TYPE_CHECKING:
    from .render import Renderer


class Session:
    def __init__(self, workers: executor.Processes | None = None) -> None:
        """`workers`: the executor for rendering many cards (default: one process per core, started when needed)."""
        self._renderer: Renderer | None = None
        self._workers = workers
        self._stores: dict[tuple[str, bool, bool], Store] = {}
        self._facts: package.Facts | None = None
        self._images: dict[tuple, str] = {}

    def renderer(self) -> Renderer:
        if self._renderer is None:
            # (imported when the cards are rendered here: a build with workers never needs it in this process)
            from .render import Renderer

            self._renderer = Renderer()
        return self._renderer

    def workers(self) -> executor.Processes:
        if self._workers is None:
            self._workers = executor.Processes()
        return self._workers

    def store(self, cards_dir: Path, persist: bool, writable: bool) -> Store:
        """The store of `cards_dir` for this kind of run, opened on first use and kept."""
        k = (str(Path(cards_dir).resolve()), persist, writable)
        if k not in self._stores:
            self._stores[k] = Store(cards_dir, persist, writable)
        return self._stores[k]

    def facts(self, store: Store | None = None) -> package.Facts:
        if self._facts is None:
            self._facts = package.facts(store)
        elif store is not None:
            store.touch(package.facts_key())  # (kept for the next process: this build used it too)
        return self._facts

    def image_name(self, store: Store, path: Path, st: os.stat_result) -> str:
        """The packaged name of the image at `path`, hashed once per content (size, time, inode)."""
        k = (str(path), st.st_size, st.st_mtime_ns, st.st_ino)
        cache_key = "m" + "\0".join(map(str, k))
        name = self._images.get(k)
        if name is None:
            name = store.get(cache_key)
            if not isinstance(name, str):
                name = media.packaged_name(path)
                store.put_value(cache_key, name)
            self._images[k] = name
        else:
            store.touch(cache_key)
        return name

    def close(self) -> None:
        if self._workers is not None:
            self._workers.close()
        for s in self._stores.values():
            s.close()
        self._stores.clear()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
