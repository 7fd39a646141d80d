"""Assign missing card ids in place (`flashdeck ids --write`).

Only the heading lines of cards without an id change; every other byte of the
file (BOM, line endings, comments) stays as it was, and each file is replaced
atomically.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from . import api
from .lockfile import LOCK_NAME
from .lockread import read as read_lock
from .slug import suggest
from .write import atomic_write

_LINE_SPLIT_RE = re.compile(r"(\r\n|\r|\n)")


@dataclass(frozen=True, slots=True)
class Assigned:
    path: Path
    line: int
    id: str


def assign_ids(cards_dir: Path, write: bool = False) -> list[Assigned]:
    """Ids for every card that lacks one; with `write`, add them to the files."""
    cards_dir = Path(cards_dir)
    lock = read_lock(cards_dir / LOCK_NAME)
    taken = set(lock.entries) if lock is not None else set()  # retired ids are never reused
    pending: list[tuple[Path, int, str]] = []
    for card in api.cards(cards_dir):
        if card.id:
            taken.add(card.id)
        elif card.id_column is None:
            pending.append((card.path, card.line, card.title))
    assigned = []
    for path, line, title in pending:
        candidate = suggest(title, taken)
        taken.add(candidate)
        assigned.append(Assigned(path, line, candidate))
    if write:
        by_file: dict[Path, list[Assigned]] = {}
        for a in assigned:
            by_file.setdefault(a.path, []).append(a)
        for path, items in by_file.items():
            _rewrite(path, {a.line: a.id for a in items})
    return assigned


def _rewrite(path: Path, ids_by_line: dict[int, str]) -> None:
    data = path.read_bytes()
    bom = b"\xef\xbb\xbf" if data.startswith(b"\xef\xbb\xbf") else b""
    parts = _LINE_SPLIT_RE.split(data[len(bom):].decode("utf-8"))
    # parts alternates line, separator, line, …; line n (1-based) is parts[2*(n-1)].
    for line, card_id in ids_by_line.items():
        i = 2 * (line - 1)
        stripped = parts[i].rstrip()
        trailing = parts[i][len(stripped):]
        unclosed = stripped.rstrip("#")
        if len(unclosed) < len(stripped) and unclosed.endswith((" ", "\t")):
            # '## Title ##': the id goes before the closing '#'s, or it would not end the heading.
            cut = len(unclosed.rstrip(" \t"))
            stripped, trailing = stripped[:cut], stripped[cut:] + trailing
        parts[i] = f"{stripped} {{#{card_id}}}{trailing}"
    new = bom + "".join(parts).encode("utf-8")
    atomic_write(path, lambda f: f.write(new))
