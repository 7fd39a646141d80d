"""Package notes into an Anki .apkg. The only module that imports genanki.

genanki gives us the collection schema and the note types' and a deck's JSON
(`Facts`, made once per session from the note types in code). We insert notes
and cards ourselves in one pass instead of calling `Deck.write_to_db`, because
that re-reads and re-writes the whole deck and model JSON once per deck (a
build with many subdecks would grow with the square of their number) and
stamps every note with the build time, which would make every re-import
overwrite what learners changed. Here each note carries its own modification
time (from the lock file) and every id is derived, so the same input gives the
same bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from . import collection, notetype
from .cachekey import context, library_version
from .deflate import ChunkedDeflate

ZIP_EPOCH = 315532800  # 1980-01-01, the earliest time a zip entry can carry
BIG_ENTRY = 8 * 2**20
CHUNKED_MIN = 1 << 19
"""Collections smaller than this (about 300 notes) are deflated as one stream: chunking pays only on a rebuild of a big one."""


@dataclass(frozen=True, slots=True)
class Facts:
    """What a package takes from genanki: the collection's schema and first row, the note types' and a deck's JSON."""

    schema: str
    col: str
    models: dict[str, dict]
    """Kind -> the note type's JSON, with mod/did 0, filled in per package."""
    deck: dict


def facts(store=None) -> Facts:
    """genanki's collection schema and our note types as genanki writes them.

    Once per session, and kept in `store` (a store.Store) when given: importing genanki
    and making the note types' JSON is 40 ms, a twentieth of a one-card rebuild.
    """
    key = facts_key() if store is not None else ""
    known = store.get(key) if key else None
    if isinstance(known, tuple) and len(known) == 4 and all(isinstance(v, t) for v, t in zip(known, (str, str, dict, dict))):
        return Facts(*known)
    import genanki
    from genanki.apkg_col import APKG_COL
    from genanki.apkg_schema import APKG_SCHEMA

    made = Facts(APKG_SCHEMA, APKG_COL, {nt.kind: genanki_model(nt).to_json(0, 0) for nt in notetype.all_types()}, genanki.Deck(0, "").to_json())
    if key:
        store.put_value(key, (made.schema, made.col, made.models, made.deck))
    return made


def facts_key() -> str:
    """What the facts depend on: genanki's version, and the note types (flashdeck's code is in `context`)."""
    types = [f"{nt.kind}:{nt.id}:{nt.sort_field}:{nt.fingerprint}" for nt in notetype.all_types()]
    return "F" + hashlib.sha256(context() + f"{library_version('genanki', 'genanki')}\0{types}".encode()).hexdigest()


def genanki_model(nt: notetype.NoteType):
    """A flashdeck note type as a `genanki.Model` (also what the size benchmark compares against)."""
    import genanki

    return genanki.Model(
        nt.id,
        nt.name,
        fields=[{"name": f} for f in nt.fields],
        templates=[{"name": nt.template, "qfmt": nt.front, "afmt": nt.back}],
        css=nt.css,
        sort_field_index=nt.sort_field,
        model_type=genanki.Model.CLOZE if nt.kind == "cloze" else genanki.Model.FRONT_BACK,
    )


@dataclass(slots=True)
class Written:
    """What writing one package did: how its collection was deflated."""

    deflate: str = ""
    """`chunked` (chunks reused from the cache where unchanged) or `stream`."""
    chunks_deflated: int = 0
    chunks_reused: int = 0
    notes_written: int = 0
    """Notes inserted into the collection: all of them, or on a patched rebuild only those that changed (collection.py)."""
    kept: tuple[str, ...] = ()
    """The cache keys of what the next rebuild patches and reuses: the working database, the deflated chunks."""


@dataclass(frozen=True, slots=True)
class Job:
    """A small package as plain values, for `make` in a worker process (collection.Notes, without a store)."""

    rows: collection.Rows
    listed: tuple[collection.PackNote, ...]
    decks: dict[str, int]
    model_mods: dict[str, int]
    media: dict[str, Path]
    timestamp: int
    facts: Facts
    context: bytes

    def notes(self, positions: Sequence[int] | None = None) -> Iterator[collection.PackNote]:
        return iter(self.listed) if positions is None else (self.listed[i] for i in positions)


def make(job: Job) -> tuple[bytes, Written]:
    """The .apkg of `job` as bytes: what `write` writes into a file, made where the caller's store is not.

    Without a store nothing is kept for the next build: no deflated chunks, no working database
    (a package below collection.VACUUM_FROM notes has none), so the bytes are those `write` gives.
    """
    out = io.BytesIO()
    written = write(out, job, job.decks, job.model_mods, job.media, job.timestamp, job.facts, None, job.context)
    return out.getvalue(), written


def write(
    out: BinaryIO,
    notes: collection.Notes,
    decks: dict[str, int],
    model_mods: dict[str, int],
    media: dict[str, Path],
    timestamp: int,
    facts: Facts,
    store=None,
    context: bytes = b"",
    key: str = "",
    pool=None,
) -> Written:
    """Write an .apkg holding `notes` to the open binary file `out`.

    `decks` maps deck names to ids, `model_mods` the note types the notes use
    (by kind) to when they last changed, `media` packaged names to files; `timestamp` dates the zip
    entries and the collection, so the same input gives the same bytes.
    `store` (store.Store) keeps the collection's deflated chunks for the next build, and under
    `key` its working database (collection.py). `pool` (executor.Processes): where a big
    collection's new chunks are deflated (deflate.py).
    """
    written = Written()
    with tempfile.TemporaryDirectory(prefix="flashdeck-") as tmp:
        db_path = Path(tmp) / "collection.anki2"
        written.notes_written = collection.write(db_path, notes, decks, model_mods, timestamp, facts, store, key)
        if store is not None and key and not collection.fresh_only(len(notes.rows.nids)):
            written.kept = (key,)
        when = max(timestamp, ZIP_EPOCH)
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            _add(zf, "collection.anki2", db_path, when, store, context, written, pool)
            names = sorted(media)
            _add(zf, "media", json.dumps({str(i): n for i, n in enumerate(names)}).encode(), when)
            for i, name in enumerate(names):
                _add(zf, str(i), media[name], when)
    return written


def _add(zf: zipfile.ZipFile, name: str, data: bytes | Path, when: int, store=None, context: bytes = b"", written: Written | None = None, pool=None) -> None:
    """Add an entry from bytes, or streamed from a file (the collection of 100,000 notes is 150 MB)."""
    info = zipfile.ZipInfo(name, date_time=time.gmtime(when)[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # ZipInfo says 0 on Windows: pin it so every OS writes the same bytes
    info.external_attr = 0o644 << 16
    if isinstance(data, bytes):
        zf.writestr(info, data, compresslevel=6 if len(data) <= BIG_ENTRY else 5)
        return
    # What writestr() does before zf.open(info, "w"): the size, and the level
    # (a private attribute of ZipInfo, public as `compress_level` from Python 3.13).
    info.file_size = data.stat().st_size
    info._compresslevel = 6
    if hasattr(info, "compress_level"):
        info.compress_level = 6
    with open(data, "rb") as src:
        dest = zf.open(info, "w")
        try:
            # zipfile's writer feeds every block through `_compressor` (CPython 3.8-3.14): a big
            # collection goes through ChunkedDeflate, whose chunks a rebuild takes from the cache.
            chunked = info.file_size >= CHUNKED_MIN and getattr(dest, "_compressor", None) is not None
            if chunked:
                dest._compressor = deflater = ChunkedDeflate(store, context, pool=pool)
            shutil.copyfileobj(src, dest, 1 << 20)
        finally:
            _close_entry(dest)
    if written is not None:
        written.deflate = "chunked" if chunked else "stream"
        if chunked:
            written.chunks_deflated, written.chunks_reused = deflater.deflated, deflater.reused
            written.kept += tuple(deflater.keys)


def _close_entry(dest) -> None:
    """Close a zip entry being written, even when a Ctrl-C lands inside its close().

    Left half closed, the entry keeps its ZipFile "writing": closing the
    ZipFile then raised a ValueError in place of the KeyboardInterrupt, and
    a finalizer closed the entry again at exit, writing to a closed file.
    """
    try:
        dest.close()
    except KeyboardInterrupt:
        dest.close()  # (a no-op when the first close got past its own cleanup)
        raise
