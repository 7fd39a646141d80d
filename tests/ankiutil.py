"""Helpers to check built decks with the real Anki (the `anki` package from PyPI)."""

from __future__ import annotations

from pathlib import Path

from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest


def new_collection(folder: Path) -> Collection:
    """An empty Anki collection in `folder` (close it when done)."""
    folder.mkdir(parents=True, exist_ok=True)
    return Collection(str(folder / "collection.anki2"))


def import_apkg(col: Collection, apkg: Path, merge_notetypes: bool = False):
    """Import like a learner with Anki's default options (optionally 'merge note types'); return the log."""
    options = ImportAnkiPackageOptions(merge_notetypes=merge_notetypes, with_scheduling=False)
    request = ImportAnkiPackageRequest(package_path=str(Path(apkg).resolve()), options=options)
    return col.import_anki_package(request).log


def notes_by_id(col: Collection) -> dict:
    """flashdeck card id (the ID field) -> Anki note."""
    out = {}
    for nid in col.find_notes(""):
        note = col.get_note(nid)
        out[note["ID"]] = note
    return out
