"""What a build makes of one file's text before rendering: its cards, and every problem the rules find."""

from __future__ import annotations

from pathlib import Path

from flashdeck import parse, scan, validate
from flashdeck.model import FileContext

PATH = Path("cards/x.md")


def read_and_judge(text: str, path: Path = PATH):
    """(cards, diagnostics) of `text` as the file `path`: cut into cards, each parsed and judged, the file judged."""
    data = text.encode("utf-8")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    split = scan.split(data)
    ctx = FileContext(path, path.name, path.stem)
    cards = [parse.card(c.text.decode("utf-8"), c.line, ctx) for c in split.chunks]
    diagnostics = validate.file(path, split, [c.label for c in cards])
    for card in cards:
        diagnostics += validate.card(card)
    return cards, diagnostics
