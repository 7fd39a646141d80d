"""Find the card files under a cards folder and group them into packages.

Each top-level Markdown file of `cards/` becomes one .apkg; each top-level
folder becomes one .apkg holding every Markdown file below it. Hidden files and
folders (a leading dot) are skipped, so editors' and VCS leftovers never become
decks. A card file or folder that is a link to somewhere outside the cards
folder is refused, as images are: a deck ships only what its folder holds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import ERROR, CardError, Diagnostic

SUFFIX = ".md"


@dataclass(frozen=True, slots=True)
class Bundle:
    """The source files of one package, in a stable order."""

    name: str
    files: tuple[Path, ...]
    folder: Path | None = None
    """The top-level folder the package is made of, or None for a single file."""


def discover(cards_dir: Path) -> tuple[list[Bundle], list[Diagnostic]]:
    """Every package under `cards_dir`, sorted by name (files sorted by path), and the files refused."""
    if not cards_dir.is_dir():
        raise CardError(cards_dir, 0, f"cards folder '{cards_dir}' does not exist or is not a folder")
    root = cards_dir.resolve()
    bundles: list[Bundle] = []
    refused: list[Diagnostic] = []

    def inside(path: Path) -> bool:
        try:
            path.resolve().relative_to(root)
        except (ValueError, OSError):
            refused.append(Diagnostic(path, 0, (
                f"'{path.name}' is a link to '{os.path.realpath(path)}', outside the cards folder '{cards_dir}': "
                "move what it points to into the cards folder, or remove the link"
            ), ERROR))
            return False
        return True

    for entry in sorted(cards_dir.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_file() and entry.suffix == SUFFIX:
            if not entry.is_symlink() or inside(entry):
                bundles.append(Bundle(entry.stem, (entry,)))
        elif entry.is_dir() and (not entry.is_symlink() or inside(entry)):
            files = sorted(_card_files(entry, inside, set()))
            if files:
                bundles.append(Bundle(entry.name, tuple(files), entry))
    return bundles, refused


def size(bundles: list[Bundle]) -> int:
    """Bytes of all the card files of `bundles` (a file gone since discovery counts 0)."""
    total = 0
    for b in bundles:
        for path in b.files:
            try:
                total += path.stat().st_size
            except OSError:
                pass
    return total


def _card_files(folder: Path, inside, seen: set[Path]):
    """The visible Markdown files below `folder`; links are followed only while they stay inside (and once)."""
    real = folder.resolve()
    if real in seen:
        return
    seen.add(real)
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return
    for e in entries:
        if e.name.startswith("."):
            continue
        path = Path(e.path)
        if e.is_dir():
            if not e.is_symlink() or inside(path):
                yield from _card_files(path, inside, seen)
        elif e.name.endswith(SUFFIX) and e.is_file() and (not e.is_symlink() or inside(path)):
            yield path  # (a plain file below a folder that is inside is inside)


def relpath(path: Path, cards_dir: Path) -> str:
    """`path` below `cards_dir` with forward slashes (stable across systems)."""
    return path.relative_to(cards_dir).as_posix()


def default_deck_name(rel: str) -> str:
    """Deck name from a file's place under cards/: folders -> `Parent::Child`."""
    parts = rel.split("/")
    parts[-1] = parts[-1][: -len(SUFFIX)] if parts[-1].endswith(SUFFIX) else parts[-1]
    return "::".join(parts)


def folders(bundles: list[Bundle]) -> dict[str, Path]:
    """Package name -> its top-level folder, for packages made of a folder."""
    return {b.name: b.folder for b in bundles if b.folder is not None}
