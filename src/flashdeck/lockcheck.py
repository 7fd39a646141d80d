"""The lock file's checks that name what is wrong: the file as a whole (UTF-8, empty, a merge conflict),
then each value of a line that is not the shape flashdeck writes.

lockread.py reads the shape it writes in one fast expression; any other line
comes here, so a damaged lock stops the build at its line with a message that
says what to restore, never a traceback or a silent "no lock".
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import CardError
from .identity import ID_RE


def whole(data: bytes, path: Path) -> None:
    """The checks on the file as a whole: UTF-8, not empty, no merge conflict left in it."""
    blank = True
    for n, line in lines(data, path):
        if line.startswith(_CONFLICT):
            raise CardError(path, n, (
                "lock file has an unresolved merge conflict: keep every card's line from both sides "
                "(for a card on both sides, the one with the later \"changed\"), delete the conflict markers, "
                "then build; or check out one side (git checkout --ours/--theirs) and build again"
            ))
        blank = blank and not line.strip()
    if blank:
        raise CardError(path, 0, "lock file is empty: restore it from version control (git checkout -- the file), or delete it to start a new lock (every card then looks new to learners)")


_CONFLICT = ("<<<<<<<", "=======", ">>>>>>>", "|||||||")


def lines(data: bytes, path: Path) -> Iterator[tuple[int, str]]:
    """(number, line) of `data`, cut at "\n" only: str.splitlines() also cuts at U+2028, \\x0c and
    others, which json.dumps leaves unescaped inside a card's title. One line at a time, not the text."""
    start, n = 0, 1
    while start <= len(data):
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end
        try:
            yield n, data[start:end].decode("utf-8")
        except UnicodeDecodeError:
            raise CardError(path, 0, "lock file is not UTF-8: restore it from version control (git checkout -- the file)") from None
        start, n = end + 1, n + 1


def json_object(line: str, path: Path, n: int):
    """One line's JSON value, or an error naming the line."""
    try:
        return json.loads(line)
    except ValueError as exc:
        raise CardError(path, n, f"lock file line is damaged ({exc}); restore it from version control") from None


def header(obj: dict, version: int, path: Path, n: int, limit: int) -> dict[str, tuple[str, int]]:
    """The note types' (hash, changed) in the header line `obj`, checked."""
    if obj["flashdeck_lock"] != version or type(obj["flashdeck_lock"]) is not int:
        raise CardError(path, n, f"lock file version {obj['flashdeck_lock']!r} is not supported by this flashdeck: upgrade flashdeck")
    notetypes = {}
    for kind, key in (("basic", "notetype"), ("cloze", "cloze_notetype")):
        value = obj.get(key)
        if value is None:
            continue
        if not isinstance(value, dict) or not isinstance(value.get("hash"), str):
            raise CardError(path, n, f"lock file header: '{key}' must hold a hash and a time; restore it from version control")
        notetypes[kind] = (value["hash"], _time(value.get("changed"), f"{key} changed", path, n, limit))
    return notetypes


def entry(obj: dict, path: Path, n: int, limit: int) -> dict:
    """A card's line `obj` checked field by field: lockfile.Entry's arguments, or an error naming what is wrong."""
    card_id = obj.get("id")
    if not isinstance(card_id, str) or not ID_RE.fullmatch(card_id):
        raise CardError(path, n, f"lock file line has no valid card id ({_shown(card_id)}); restore it from version control")

    def text(key: str) -> str:
        value = obj.get(key, "")
        if not isinstance(value, str):
            raise CardError(path, n, f"lock file: card '{card_id}': '{key}' must be text, not {_shown(value)}; restore it from version control")
        return value

    fields = obj.get("fields")
    if not isinstance(fields, dict) or not all(isinstance(k, str) and isinstance(v, str) and ":" not in k and " " not in k + v for k, v in fields.items()):
        raise CardError(path, n, f"lock file: card '{card_id}': 'fields' must map field names to hashes; restore it from version control")
    retired = obj.get("retired")
    kind = text("kind") or "basic"
    if kind not in ("basic", "cloze"):
        raise CardError(path, n, f"lock file: card '{card_id}': kind {_shown(kind)} is not basic or cloze; restore it from version control")
    cloze = obj.get("cloze", {})
    if not isinstance(cloze, dict) or not all(k.isdigit() and isinstance(v, str) for k, v in cloze.items()):
        raise CardError(path, n, f"lock file: card '{card_id}': 'cloze' must map numbers to text; restore it from version control")
    return dict(
        id=sys.intern(card_id),
        added=_time(obj.get("added"), "added", path, n, limit, card_id),
        changed=_time(obj.get("changed"), "changed", path, n, limit, card_id),
        hashes=" ".join(f"{sys.intern(k)}:{v}" for k, v in sorted(fields.items())),
        title=text("title"),
        deck=sys.intern(text("deck")),
        retired=None if retired is None else _time(retired, "retired", path, n, limit, card_id),
        package=sys.intern(text("package")),
        kind=kind,
        cloze=tuple(sorted((int(k), v) for k, v in cloze.items())),
    )


def _time(value, key: str, path: Path, n: int, limit: int, card_id: str | None = None) -> int:
    """A time in whole seconds, not before 1970 and not beyond now (plus a day's margin)."""
    who = f"card '{card_id}': " if card_id else ""
    if type(value) is not int:  # bool is an int to Python, not to a lock
        raise CardError(path, n, f"lock file: {who}'{key}' must be a time in whole seconds, not {_shown(value)}; restore it from version control")
    if value < 0:
        raise CardError(path, n, f"lock file: {who}'{key}' is negative ({value}); restore it from version control")
    if value > limit:
        raise CardError(path, n, (
            f"lock file: {who}'{key}' is {_date(value)}, in the future: a card stamped so would overwrite learners' copies at "
            "every import; fix the clock or SOURCE_DATE_EPOCH that wrote it, then set the time to when the card really changed"
        ))
    return value


def _date(t: int) -> str:
    try:
        return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(t))
    except (OverflowError, OSError, ValueError):
        return f"{t} seconds after 1970"


def _shown(value) -> str:
    s = json.dumps(value, ensure_ascii=False)
    return s if len(s) <= 30 else s[:29] + "…"
