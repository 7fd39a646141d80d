"""Images referenced by cards: found in the Markdown, checked, packaged under content hashes.

Anki keeps every deck's media in one flat folder, so `image.png` from two decks
would overwrite each other. Each image is packaged as `fd-<sha256[:16]><suffix>`:
the same bytes always get the same name, different bytes never share one.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import ERROR, Diagnostic
from .model import Card, Section

# Bounded repeats, and <img> tags cut at the next '>' or '<': an unbounded
# pattern rescans the rest of the line from every '![' or '<img' that never
# closes, and one shared card could hang the build.
_MD_TARGET_RE = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'][^)]{0,1000}[\"'])?\s*\)")
_IMG_OPEN_RE = re.compile(r"<img\b", re.IGNORECASE)
_SRC_RE = re.compile(r"\bsrc\s*=\s*(?:\"([^\"]*)\"|'([^']*)')", re.IGNORECASE)
_REMOTE_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


@dataclass(frozen=True, slots=True)
class ImageRef:
    ref: str
    """The path as written in the card."""
    line: int
    column: int


def image_refs(card: Card) -> list[ImageRef]:
    refs = []
    sections: list[Section] = [s for s in (card.question, card.answer, card.explanation, card.references) if s]
    texts = [(s.text, s.line) for s in sections] + [(o.text, o.line) for o in card.options]
    for text, first_line in texts:
        for n, line in enumerate(text.split("\n")):
            for value, start in _markdown_images(line):
                refs.append(ImageRef(value, first_line + n, start + 1))
            for value, start in _html_images(line):
                refs.append(ImageRef(value, first_line + n, start + 1))
    return refs


def _markdown_images(line: str):
    """(target, its index) of each ![alt](target) in `line`, in linear time."""
    done = 0  # end of the last image found: '![' inside it starts nothing
    close = failed = -1
    start = line.find("![")
    while start >= 0:
        if start >= done:
            if close < start:
                close = line.find("]", start)
                if close < 0:
                    return
            if close != failed:
                m = _MD_TARGET_RE.match(line, close)
                if m:
                    yield m.group(1), m.start(1)
                    done = m.end()
                else:
                    failed = close
        start = line.find("![", start + 2)


def _html_images(line: str):
    """(src value, its index) of each <img> in `line`, in linear time."""
    gt = lt = -1
    for m in _IMG_OPEN_RE.finditer(line):
        if gt < m.end():
            gt = line.find(">", m.end())
            gt = len(line) if gt < 0 else gt
        if lt < m.end():
            lt = line.find("<", m.end())
            lt = len(line) if lt < 0 else lt
        src = _SRC_RE.search(line, m.end(), min(gt, lt))
        if src:
            group = 1 if src.group(1) is not None else 2
            yield src.group(group), src.start(group)


def packaged_name(path: Path) -> str:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return f"fd-{digest}{path.suffix.lower()}"


_SEEN: dict[tuple[str, str], tuple[Path, str | None]] = {}
"""(folder, ref) -> (resolved file, its packaged name or None when not a file), during one build."""
_ROOTS: dict[Path, Path] = {}


def forget() -> None:
    """Start a new build: images are read again (one image shown by 200 cards is read once per build, not 200 times)."""
    _SEEN.clear()
    _ROOTS.clear()


def _look(folder: Path, ref: str) -> tuple[Path, str | None]:
    k = (str(folder), ref)
    seen = _SEEN.get(k)
    if seen is None:
        target = (folder / ref).resolve()
        seen = _SEEN[k] = (target, packaged_name(target) if target.is_file() else None)
    return seen


def collect(card: Card, cards_dir: Path) -> tuple[dict[str, tuple[str, Path]], list[Diagnostic]]:
    """For one card: {ref as written: (packaged name, file)} and the problems found."""
    found: dict[str, tuple[str, Path]] = {}
    diags = []
    root = _ROOTS.get(cards_dir)
    if root is None:
        root = _ROOTS[cards_dir] = cards_dir.resolve()
    for ref in image_refs(card):
        if ref.ref.startswith("data:image/"):
            continue  # inline image: travels inside the field
        if _REMOTE_RE.match(ref.ref) or ref.ref.startswith("//"):
            diags.append(Diagnostic(card.path, ref.line, f"{card.label}: image '{ref.ref}' is not a local file and would not show offline: save it beside the card file and link it by relative path", ERROR, ref.column))
            continue
        target, name = _look(card.path.parent, ref.ref)
        try:
            target.relative_to(root)
        except ValueError:
            diags.append(Diagnostic(card.path, ref.line, f"{card.label}: image '{ref.ref}' lies outside the cards folder '{cards_dir}': move the image into it and link it by a path that stays inside", ERROR, ref.column))
            continue
        if name is None:
            diags.append(Diagnostic(card.path, ref.line, f"{card.label}: image '{ref.ref}' not found at {card.path.parent / ref.ref}: fix the path (it is relative to {card.path.name}) or add the image there", ERROR, ref.column))
            continue
        found[ref.ref] = (name, target)
    return found, diags
