"""Rules that need to know what learners already have: an id must keep naming the same card.

The lock records what each id last shipped as (its content hashes, its kind,
what each cloze number hid). A card that changes into something else under
the same id would carry learners' review history over to another fact, or
(for a change of note type) stop updating their notes at all.
"""

from __future__ import annotations

import difflib
import time

from .errors import ERROR, WARNING, Diagnostic, clip
from .lockfile import Entry, Lock, fields_of
from .model import CLOZE, Placed


def against_lock(cards: list[Placed], old: Lock) -> list[Diagnostic]:
    """A located problem for each card that now names something else than what learners have under its id."""
    out = []
    for p in cards:
        r = p.result
        e = old.entries.get(r.id) if r.id else None
        if e is None or not r.rendered or (e.hashes == r.hashes and e.kind == r.kind and e.cloze == r.cloze and e.retired is None):
            continue  # (new, not rendered, or exactly what learners have: the common case)
        label = f"card '{r.id}'"
        if e.kind != r.kind:
            was, now = ("a cloze card", "a question/answer card") if e.kind == CLOZE else ("a question/answer card", "a cloze card")
            out.append(Diagnostic(p.path, p.line, (
                f"{label} was {was} and is now {now}: Anki cannot update learners' notes across note types, so they "
                "would keep the old card; give this card a new id (the old one retires)"
            ), ERROR, r.id_column))
            continue
        if r.kind == CLOZE:
            out += _renumbered(p, e)
            continue
        if not r.hashes:
            continue
        before, now = e.fields, fields_of(r.hashes)
        if all(before.get(k) is not None and before.get(k) != now.get(k) for k in ("Question", "Answer")):
            if e.retired is not None:
                when = time.strftime("%Y-%m-%d", time.gmtime(e.retired))
                was = f" ('{e.title}')" if e.title else ""
                message = (
                    f"{label}: this id belonged to a card retired on {when}{was}; learners who kept it will see it "
                    "replaced by this card, with the old card's review history. If this is a different card, give it a new id"
                )
            else:
                was = f" (was '{e.title}')" if e.title else ""
                message = (
                    f"{label}: question and answer both changed{was}; learners' review history of the old card "
                    "carries over to this one. If this is a different card, give it a new id"
                )
            out.append(Diagnostic(p.path, p.line, message, WARNING))
    return out


def _renumbered(p: Placed, e: Entry) -> list[Diagnostic]:
    """A warning for each deletion number that now hides something else than learners learned under it."""
    out = []
    before = dict(e.cloze)
    for number, text in p.result.cloze:
        old = before.get(number)
        if old is None or _same_fact(old, text):
            continue
        moved = [n for n, t in e.cloze if n != number and _same_fact(t, text)]
        hint = f" (c{moved[0]} hid that before: were the deletions renumbered?)" if moved else ""
        out.append(Diagnostic(p.path, p.line, (
            f"card '{p.result.id}': c{number} now hides '{clip(text, 30)}' but learners learned '{clip(old, 30)}' under "
            f"c{number}{hint}; their review history of c{number} would carry over to a different fact: keep each "
            "number on its fact (numbers need not be in reading order), or give the card a new id"
        ), WARNING))
    return out


def _same_fact(a: str, b: str) -> bool:
    """Whether deletion text `b` is an edit of `a` rather than another fact (threshold: see tests/test_cloze.py)."""
    a, b = " ".join(a.lower().split()), " ".join(b.lower().split())
    if a == b or (a and b and (a in b or b in a)):
        return True
    return difflib.SequenceMatcher(None, a, b).ratio() >= 0.6
