"""Find the card files under a cards folder and group them into packages.

Each top-level Markdown file of `cards/` becomes one .apkg; each top-level
folder becomes one .apkg holding every Markdown file below it. Hidden files and
folders (a leading dot) are skipped, so editors' and VCS leftovers never become
decks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import CardError

SUFFIX = ".md"


@dataclass(frozen=True, slots=True)
class Bundle:
    """The source files of one package, in a stable order."""

    name: str
    files: tuple[Path, ...]


def discover(cards_dir: Path) -> list[Bundle]:
    """Every package under `cards_dir`, sorted by name; files sorted by path."""
    if not cards_dir.is_dir():
        raise CardError(cards_dir, 0, f"cards folder '{cards_dir}' does not exist or is not a folder")
    bundles = []
    for entry in sorted(cards_dir.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_file() and entry.suffix == SUFFIX:
            bundles.append(Bundle(entry.stem, (entry,)))
        elif entry.is_dir():
            files = tuple(sorted(p for p in entry.rglob(f"*{SUFFIX}") if p.is_file() and not _hidden(p, cards_dir)))
            if files:
                bundles.append(Bundle(entry.name, files))
    return bundles


def relpath(path: Path, cards_dir: Path) -> str:
    """`path` below `cards_dir` with forward slashes (stable across systems)."""
    return path.relative_to(cards_dir).as_posix()


def default_deck_name(rel: str) -> str:
    """Deck name from a file's place under cards/: folders -> `Parent::Child`."""
    parts = rel.split("/")
    parts[-1] = parts[-1][: -len(SUFFIX)] if parts[-1].endswith(SUFFIX) else parts[-1]
    return "::".join(parts)


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)
