"""Retired cards: what a learner gets for a card its author removed, and which package carries it.

Anki never deletes anything on import, so a removed card keeps shipping: same
GUID and note type, its text replaced by a short notice, tagged
`flashdeck::retired`, with the retirement time as its modification time, so
it replaces the learner's copy once; the card and its review history stay.

A learner who has the card keeps it where it is (Anki never moves a card on
import). A learner who imports the deck for the first time gets retired
notes in a subdeck of their own, `<deck>::Retired`, placed last in the
new-card order, and can delete that subdeck whole.
"""

from __future__ import annotations

import html
import time
from pathlib import Path

from . import notetype
from .errors import WARNING, Diagnostic
from .lockfile import Entry, Lock
from .model import CLOZE, Note

RETIRED_TAG = "flashdeck::retired"
SUBDECK = "Retired"


def place(lock: Lock, decks_by_package: dict[str, set[str]], lock_path: Path) -> tuple[dict[str, list[Note]], list[Diagnostic]]:
    """Retired notes by package, and a warning for each that no package can carry.

    A retired card goes back into the package it was last built into, so the
    learner's copy gets the notice; when that package is gone, into the first
    package (by name) that still builds its deck.
    """
    home_of_deck: dict[str, str] = {}
    for name in sorted(decks_by_package):
        for deck in decks_by_package[name]:
            home_of_deck.setdefault(deck, name)
    placed: dict[str, list[Note]] = {}
    unshipped = []
    for entry in sorted(lock.entries.values(), key=lambda e: e.id):
        if entry.retired is None:
            continue
        home = entry.package if entry.package in decks_by_package else home_of_deck.get(entry.deck)
        if home is None:
            unshipped.append(Diagnostic(lock_path, 0, (
                f"retired card '{entry.id}' is not shipped: no package builds its package '{entry.package}' or its deck "
                f"'{entry.deck}' any more, so learners who have it will not see it marked retired; delete its line "
                "from the lock file to stop this warning"
            ), WARNING))
            continue
        placed.setdefault(home, []).append(notice(entry))
    return placed, unshipped


def notice(entry: Entry) -> Note:
    """The note a learner gets for a card its author removed."""
    title = html.escape(entry.title or entry.id)
    when = time.strftime("%Y-%m-%d", time.gmtime(entry.retired or entry.changed))
    explanation = (
        "It is kept so your review history stays intact. Find such cards with the tag "
        f"<code>{RETIRED_TAG}</code> and suspend or delete them when you wish."
    )
    deck = f"{entry.deck}::{SUBDECK}" if entry.deck else SUBDECK
    if entry.kind == CLOZE:
        numbers = [n for n, _ in entry.cloze] or [1]
        hidden = " ".join(f"{{{{c{n}::removed on {when}}}}}" for n in numbers)
        values = {"ID": html.escape(entry.id), "Text": f"{title} <em>(retired)</em>: {hidden}", "Explanation": explanation, "References": "", "Source": ""}
        ords = tuple(n - 1 for n in numbers)
    else:
        values = {
            "ID": html.escape(entry.id),
            "Question": f"{title} <em>(retired)</em>",
            "Options": "",
            "Answer": f"The author removed this card from the deck on {when}.",
            "Explanation": explanation,
            "References": "",
            "Source": "",
        }
        ords = (0,)
    kind = notetype.of(entry.kind)
    return Note(entry.id, entry.kind, deck, entry.title or entry.id, tuple(values[f] for f in kind.fields), (RETIRED_TAG,), ords)
