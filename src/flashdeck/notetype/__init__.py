"""The flashdeck note type: a public contract with every learner's collection.

Anki matches an incoming note type to the one in a learner's collection by its
id; if the field list differs, the real Anki treats it as a conflict and stops
updating that learner's notes (unless they choose "merge note types"). So the
name, id and FIELDS below never change within a major version. A test pins them.
If the field list must ever change, the new note type gets a new MODEL_ID (see
README, "Note type upgrades").
"""

from __future__ import annotations

import hashlib
from importlib import resources

MODEL_ID = 1986451723
"""Chosen once at random in genanki's recommended range; never change it."""
NAME = "flashdeck"
FIELDS = ("ID", "Question", "Options", "Answer", "Explanation", "References", "Source")
SORT_FIELD = FIELDS.index("Question")
TEMPLATE_NAME = "Card"


def _read(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


FRONT = _read("front.html")
BACK = _read("back.html")
CSS = _read("card.css")


def fingerprint() -> str:
    """Hash of everything in the note type a learner's Anki would update."""
    h = hashlib.sha256()
    for part in (NAME, *FIELDS, TEMPLATE_NAME, FRONT, BACK, CSS):
        h.update(part.encode("utf-8") + b"\0")
    return h.hexdigest()
