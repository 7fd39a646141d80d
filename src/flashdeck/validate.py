"""Checks that need more than one card: ids present and unique across the cards folder."""

from __future__ import annotations

from pathlib import Path

from .errors import ERROR, Diagnostic
from .model import Card


def validate(cards: list[Card], cards_dir: Path) -> list[Diagnostic]:
    """Every cross-card problem in `cards`; per-card rules live in the parser."""
    diags = []
    seen: dict[str, Card] = {}
    for card in cards:
        if card.id is None:
            if card.id_column is None:  # an invalid id was already reported by the parser
                diags.append(Diagnostic(card.path, card.line, f"{card.label} has no id: end the heading with '{{#some-id}}' or run 'flashdeck ids --write {cards_dir}'", ERROR))
            continue
        first = seen.get(card.id)
        if first is not None:
            diags.append(
                Diagnostic(
                    card.path,
                    card.line,
                    f"card id '{card.id}' is already used at {first.path}:{first.line}: ids must be unique across '{cards_dir}'; rename one",
                    ERROR,
                    card.id_column,
                )
            )
        else:
            seen[card.id] = card
    return diags
