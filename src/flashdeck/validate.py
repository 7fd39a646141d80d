"""Checks that need more than one card: ids present and unique across the cards folder,
and no package without cards."""

from __future__ import annotations

from pathlib import Path

from .errors import ERROR, WARNING, Diagnostic
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
                    f"card id '{card.id}' of '{card.title}' is already used by '{first.title}' at {first.path}:{first.line}: "
                    f"ids must be unique across '{cards_dir}'; give one of them a new id",
                    ERROR,
                    card.id_column,
                )
            )
        else:
            seen[card.id] = card
    return diags


def empty_packages(cards_by_package: dict[str, list[Card]], folders: dict[str, Path]) -> list[Diagnostic]:
    """A warning for each top-level folder whose files hold no card: its .apkg would be empty.

    `folders` maps package names to their folder; packages made from a single
    file are left out (the parser already warns about a file without cards).
    """
    return [
        Diagnostic(folder, 0, f"folder has no cards, so {name}.apkg would be empty: add cards ('## Title {{#id}}') to its files or remove the folder", WARNING)
        for name, folder in sorted(folders.items())
        if not cards_by_package.get(name)
    ]
