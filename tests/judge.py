"""What a build makes of one file's text before rendering: its cards, and every problem the rules find."""

from __future__ import annotations

from pathlib import Path

from flashdeck import filerules, frontmatter, parse, scan, validate
from flashdeck.errors import Diagnostic
from flashdeck.model import CardResult, FileContext, Placed

PATH = Path("cards/x.md")


def read_and_judge(text: str, path: Path = PATH):
    """(cards, diagnostics) of `text` as the file `path`: cut into cards, each parsed and judged, the file judged."""
    data = text.encode("utf-8")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    split = scan.split(data)
    fm = frontmatter.read([line.decode("utf-8") for line in data.split(b"\n", split.body_start)[: split.body_start]] if split.front else [])
    ctx = FileContext(path, path.name, fm.deck or path.stem, fm.tags, bool(fm.shuffle))
    cards = [parse.card(c.text.decode("utf-8"), c.line, ctx) for c in split.chunks]
    diagnostics = [Diagnostic(path, p.line, p.message, p.severity, p.column) for p in fm.problems]
    diagnostics += filerules.file(path, split)
    for card in cards:
        diagnostics += validate.card(card)
    placed = [
        Placed(str(k), CardResult(c.id, c.title, c.kind, c.tags, (), False, id_column=c.id_column, bad_id=c.facts.bad_id or None), path, c.line, c.deck, "x", path.name)
        for k, c in enumerate(cards) if not c.empty
    ]
    diagnostics += validate.across(placed, path.parent)
    return cards, diagnostics
