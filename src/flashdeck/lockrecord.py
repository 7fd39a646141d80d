"""The lock as the build cache keeps it: plain columns (marshal) under the digest of the file's bytes.

Reading and checking 10,000 lock lines takes 50 ms; taking them back from
these columns a fraction of that, so a build reads the file's lines only
when its bytes are new. The values know nothing of `Lock`: lockread.py turns
an entry into a row of its fields and back.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterable, Sequence

from .cachekey import context

SHAPE = 2
"""The shape of `encode`'s values; a record of another shape is not used."""
TIMES = {"added", "changed", "retired"}
FEW = {"deck", "package", "kind", "cloze"}
"""Columns of few distinct values, kept as the values and an index per row."""


def key(digest: bytes) -> str:
    """The cache's key for the record of a lock file whose bytes have this SHA-256."""
    return "L" + hashlib.sha256(context() + digest).hexdigest()


def encode(columns: Iterable[tuple[str, list]], count: int, notetypes: dict, latest: int, canonical: bool) -> tuple:
    """The lock's `count` entries, given as (field name, a value per entry), in plain values;
    `canonical`: the file's bytes are what flashdeck writes.

    Times as 8-byte arrays, the columns of FEW as values and indices: 100,000 entries are 300,000
    objects to marshal, not a million (the rebuild's high point). Columns are taken one at a time.
    """
    kept: list = []
    for name, column in columns:
        if name in TIMES:
            kept.append(array("q", [-1 if v is None else v for v in column]).tobytes())
        elif name in FEW:
            index: dict = {}
            at = array("l", [index.setdefault(v, len(index)) for v in column])
            kept.append((tuple(index), at.tobytes()))
        else:
            kept.append(tuple(column))
    return (SHAPE, sorted(notetypes.items()), tuple(kept), latest, canonical, count)


def decode(known, names: Sequence[str], limit: int) -> tuple[dict, list[list], bool] | None:
    """(note types, a column per name, canonical) of a record, or None when it does not fit (then read the file).

    The checks the record skips held when it was made; only "not in the future" depends on
    the clock, which may since have been set back, so the newest time (`limit`) is checked again.
    """
    try:
        shape, types, kept, latest, canonical, count = known
        if shape != SHAPE or type(latest) is not int or latest > limit or len(kept) != len(names):
            return None
        columns = []
        for name, column in zip(names, kept):
            if name in TIMES:
                times = array("q")
                times.frombytes(column)
                column = [None if v < 0 else v for v in times] if name == "retired" else times.tolist()
            elif name in FEW:
                values, at = column
                index = array("l")
                index.frombytes(at)
                column = [values[i] for i in index]
            if len(column) != count:
                return None
            columns.append(column)
        return {k: tuple(v) for k, v in types}, columns, bool(canonical)
    except (TypeError, ValueError, IndexError):
        return None
