"""The lock file: when each card's content last changed.

Anki updates a learner's note on re-import only when the incoming note is newer.
Stamping notes with the build time would overwrite learners' own edits on every
card at every import; stamping them with a fixed time would never deliver a fix.
So `cards/flashdeck.lock` (committed beside the sources) records, per card id, a
hash of each field and the time that content last changed; a note's modification
time is that time. Cards removed from the sources stay in the lock as retired,
so the next build still ships them (tagged) and their ids are never silently
reused.

Format: one JSON object per line, sorted by id, so diffs show one line per card.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace

__all__ = ["Lock", "Entry", "Change", "read_lock", "update", "replace", "LOCK_NAME"]
from pathlib import Path

from .errors import CardError
from .model import Note

LOCK_NAME = "flashdeck.lock"
VERSION = 1
HEADER = "# flashdeck lock file: when each card last changed. Keep it in version control; `flashdeck build` updates it."


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    added: int
    changed: int
    fields: dict[str, str]
    """Field name -> short hash of its HTML (tags under the key `tags`)."""
    title: str = ""
    deck: str = ""
    retired: int | None = None
    """Time the card left the sources, or None while it is live."""
    package: str = ""
    """The .apkg (top-level file or folder of cards/) the card was last built into."""


@dataclass(slots=True)
class Lock:
    notetype_hash: str = ""
    notetype_changed: int = 0
    entries: dict[str, Entry] = field(default_factory=dict)

    def dumps(self) -> str:
        lines = [HEADER, json.dumps({"flashdeck_lock": VERSION, "notetype": {"hash": self.notetype_hash, "changed": self.notetype_changed}})]
        for key in sorted(self.entries):
            e = self.entries[key]
            obj = {"id": e.id, "added": e.added, "changed": e.changed}
            if e.retired is not None:
                obj["retired"] = e.retired
            obj["deck"] = e.deck
            obj["package"] = e.package
            obj["title"] = e.title
            obj["fields"] = dict(sorted(e.fields.items()))
            lines.append(json.dumps(obj, ensure_ascii=False))
        return "\n".join(lines) + "\n"


def read_lock(path: Path) -> Lock:
    """The lock at `path`, or an empty lock when there is none yet."""
    if not path.exists():
        return Lock()
    lock = Lock()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        try:
            obj = json.loads(line)
            if "flashdeck_lock" in obj:
                if obj["flashdeck_lock"] != VERSION:
                    raise CardError(path, n, f"lock file version {obj['flashdeck_lock']} is not supported by this flashdeck")
                lock.notetype_hash = obj["notetype"]["hash"]
                lock.notetype_changed = int(obj["notetype"]["changed"])
                continue
            e = Entry(
                id=obj["id"],
                added=int(obj["added"]),
                changed=int(obj["changed"]),
                fields=dict(obj.get("fields", {})),
                title=obj.get("title", ""),
                deck=obj.get("deck", ""),
                retired=int(obj["retired"]) if obj.get("retired") is not None else None,
                package=obj.get("package", ""),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise CardError(path, n, f"lock file line is damaged ({exc}); restore it from version control") from None
        lock.entries[e.id] = e
    return lock


def field_hashes(note: Note, field_names: tuple[str, ...]) -> dict[str, str]:
    out = {name: _short(value) for name, value in zip(field_names, note.fields)}
    out["tags"] = _short(" ".join(note.tags))
    return out


def _short(s: str) -> str:
    return hashlib.sha256(s.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class Change:
    """What a re-import of this build will do, against the lock."""

    new: tuple[str, ...] = ()
    changed: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(id, names of fields that changed)."""
    unchanged: int = 0
    retired: tuple[str, ...] = ()
    """Ids retired by this build (left the sources since the last build)."""
    revived: tuple[str, ...] = ()
    """Ids that were retired and are back in the sources."""
    notetype_changed: bool = False

    def summary(self) -> str:
        parts = [f"{len(self.new)} new", f"{len(self.changed)} changed", f"{self.unchanged} unchanged", f"{len(self.retired)} retired"]
        text = ", ".join(parts)
        lines = [text]
        for cid, fields in self.changed:
            lines.append(f"  changed {cid}: {', '.join(fields)}")
        for cid in self.retired:
            lines.append(f"  retired {cid}: removed from the sources; learners keep it, tagged flashdeck::retired")
        for cid in self.revived:
            lines.append(f"  revived {cid}: a retired id is back in the sources")
        if self.notetype_changed:
            lines.append("  note type (templates/CSS) changed: every learner's note type will update")
        return "\n".join(lines)


def update(lock: Lock, notes: list[Note], field_names: tuple[str, ...], notetype_hash: str, now: int) -> tuple[Lock, Change]:
    """A new lock for `notes` built at `now`, and the change against `lock`.

    `now` is made later than any time already in the lock, so a changed card is
    always newer than the learner's copy (even with a SOURCE_DATE_EPOCH in the past).
    """
    latest = max([lock.notetype_changed] + [max(e.changed, e.retired or 0) for e in lock.entries.values()] + [0])
    stamp = max(now, latest + 1) if _dirty(lock, notes, field_names, notetype_hash) else latest
    new_entries: dict[str, Entry] = {}
    new, changed, revived = [], [], []
    unchanged = 0
    for note in notes:
        hashes = field_hashes(note, field_names)
        old = lock.entries.get(note.id)
        title = note.title
        if old is None:
            new.append(note.id)
            new_entries[note.id] = Entry(note.id, stamp, stamp, hashes, title, note.deck)
        elif old.retired is not None:
            revived.append(note.id)
            new_entries[note.id] = Entry(note.id, old.added, stamp, hashes, title, note.deck)
        elif old.fields != hashes:
            diff = tuple(k for k in (*field_names, "tags") if old.fields.get(k) != hashes.get(k))
            changed.append((note.id, diff))
            new_entries[note.id] = replace(old, changed=stamp, fields=hashes, title=title, deck=note.deck)
        else:
            unchanged += 1
            new_entries[note.id] = replace(old, title=title, deck=note.deck)
    retired = []
    for cid, old in lock.entries.items():
        if cid in new_entries:
            continue
        if old.retired is None:
            retired.append(cid)
            new_entries[cid] = replace(old, retired=stamp, changed=stamp)
        else:
            new_entries[cid] = old
    nt_changed = lock.notetype_hash != notetype_hash
    result = Lock(notetype_hash, stamp if nt_changed else lock.notetype_changed, new_entries)
    change = Change(tuple(new), tuple(changed), unchanged, tuple(sorted(retired)), tuple(revived), nt_changed and bool(lock.notetype_hash))
    return result, change


def _dirty(lock: Lock, notes: list[Note], field_names, notetype_hash: str) -> bool:
    if lock.notetype_hash != notetype_hash:
        return True
    ids = set()
    for note in notes:
        ids.add(note.id)
        old = lock.entries.get(note.id)
        if old is None or old.retired is not None or old.fields != field_hashes(note, field_names):
            return True
    return any(e.retired is None and cid not in ids for cid, e in lock.entries.items())

