"""The lock file: when each card's content last changed.

Anki updates a learner's note on re-import only when the incoming note's
modification time is newer than the learner's copy; editing a note in Anki
stamps it with the time of the edit. Stamping notes with the build time would
overwrite learners' own edits on every card at every import; stamping them with
a fixed time would never deliver a fix. So `cards/flashdeck.lock` (committed
beside the sources) records, per card id, a hash of each content field and the
time that content last changed; a note's modification time is that time.

Cards removed from the sources stay in the lock as retired, so every later
build still ships them (tagged, see `api`) and their ids are never silently
reused.

Format: a comment line, a header object, then one JSON object per card sorted
by id, so a diff shows one line per changed card.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import dataclass, field, replace
from json.encoder import encode_basestring as _js
from pathlib import Path

from .errors import WARNING, CardError, Diagnostic
from .model import Note

__all__ = ["LOCK_NAME", "UNTRACKED_FIELDS", "Change", "Entry", "Lock", "field_hashes", "read_lock", "update"]

LOCK_NAME = "flashdeck.lock"
VERSION = 1
HEADER = "# flashdeck lock file: when each card last changed. Keep it in version control; `flashdeck build` updates it."
UNTRACKED_FIELDS = ("ID", "Source")
"""Fields that are not content: `ID` never changes for a card, and `Source` (the
file a card lives in) changes when an author moves a card between files. Moving
a card must not overwrite a learner's copy, so neither counts as a change."""
TAGS_KEY = "tags"


@dataclass(frozen=True, slots=True)
class Entry:
    """What the lock knows about one card id."""

    id: str
    added: int
    """When the id first appeared (Unix seconds); the note id derives from it."""
    changed: int
    """When the card's content last changed, or when it was retired: the note's modification time."""
    fields: dict[str, str]
    """Content field name -> short hash of its HTML; the tags under the key `tags`."""
    title: str = ""
    deck: str = ""
    retired: int | None = None
    """When the card left the sources, or None while it is in them."""
    package: str = ""
    """The package (top-level file or folder of the cards folder) the card was last built into."""


@dataclass(slots=True)
class Lock:
    notetype_hash: str = ""
    notetype_changed: int = 0
    """When the note type (templates, CSS) last changed: its modification time in the package."""
    entries: dict[str, Entry] = field(default_factory=dict)

    def dumps(self) -> str:
        header = {"flashdeck_lock": VERSION, "notetype": {"hash": self.notetype_hash, "changed": self.notetype_changed}}
        lines = [HEADER, json.dumps(header)]
        entries = self.entries
        lines += [_line(entries[key]) for key in sorted(entries)]
        return "\n".join(lines) + "\n"

    @property
    def latest(self) -> int:
        """The newest time in the lock (0 when empty)."""
        times = [self.notetype_changed] + [max(e.changed, e.retired or 0) for e in self.entries.values()]
        return max(times)


def _line(e: Entry) -> str:
    """`json.dumps` of the entry as an object, keys in lock order, fields sorted, non-ASCII kept.

    Spelled out (strings through json's own encoder): 2.5x faster than building
    a dict and calling json.dumps for each of 10,000 cards; tests/test_lock.py
    checks it against json.dumps.
    """
    f = e.fields
    fields = ", ".join([f"{_js(k)}: {_js(f[k])}" for k in sorted(f)])
    retired = f', "retired": {int(e.retired)}' if e.retired is not None else ""
    return (
        f'{{"id": {_js(e.id)}, "added": {int(e.added)}, "changed": {int(e.changed)}{retired}, '
        f'"deck": {_js(e.deck)}, "package": {_js(e.package)}, "title": {_js(e.title)}, "fields": {{{fields}}}}}'
    )


def read_lock(path: Path) -> Lock:
    """The lock at `path`, or an empty lock when there is none yet."""
    if not path.exists():
        return Lock()
    # Split at "\n" only: str.splitlines() also splits at U+2028, \x0c and others,
    # which json.dumps leaves unescaped inside a card's title.
    lines = path.read_text(encoding="utf-8").split("\n")
    return _read_all_at_once(lines) or _read_line_by_line(path, lines)


def _read_all_at_once(lines: list[str]) -> Lock | None:
    """The lock parsed with one json.loads over all its lines (twice as fast); None when anything is off.

    On None the caller reads line by line, which names the damaged line.
    """
    body = [line for line in lines if line.strip() and not line.startswith("#")]
    try:
        objs = json.loads("[" + ",".join(body) + "]")
    except ValueError:
        return None
    if len(objs) != len(body):
        return None
    lock = Lock()
    try:
        for obj in objs:
            if "flashdeck_lock" in obj:
                if obj["flashdeck_lock"] != VERSION:
                    return None
                lock.notetype_hash = str(obj["notetype"]["hash"])
                lock.notetype_changed = int(obj["notetype"]["changed"])
                continue
            # One json.loads call shares each key string between all objects: no interning needed.
            e = _entry(obj, intern=False)
            if e.id in lock.entries:
                return None
            lock.entries[e.id] = e
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return lock


def _read_line_by_line(path: Path, lines: list[str]) -> Lock:
    lock = Lock()
    for n, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        try:
            obj = json.loads(line)
            if "flashdeck_lock" in obj:
                if obj["flashdeck_lock"] != VERSION:
                    raise CardError(path, n, f"lock file version {obj['flashdeck_lock']} is not supported by this flashdeck: upgrade flashdeck")
                lock.notetype_hash = str(obj["notetype"]["hash"])
                lock.notetype_changed = int(obj["notetype"]["changed"])
                continue
            e = _entry(obj, intern=True)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CardError(path, n, f"lock file line is damaged ({exc.__class__.__name__}: {exc}); restore it from version control") from None
        if e.id in lock.entries:
            raise CardError(path, n, f"lock file lists card '{e.id}' twice; restore it from version control")
        lock.entries[e.id] = e
    return lock


def _all_str(values) -> bool:
    try:
        "".join(values)  # raises on anything but strings; 4x faster than all(type(v) is str ...)
    except TypeError:
        return False
    return True


def _entry(obj: dict, intern: bool) -> Entry:
    fields = obj["fields"]
    if intern or type(fields) is not dict or not _all_str(fields.values()):
        fields = {sys.intern(str(k)): str(v) for k, v in fields.items()}  # one copy of each key, not one per card
    return Entry(
        id=str(obj["id"]),
        added=int(obj["added"]),
        changed=int(obj["changed"]),
        fields=fields,
        title=str(obj.get("title", "")),
        deck=str(obj.get("deck", "")),
        retired=int(obj["retired"]) if obj.get("retired") is not None else None,
        package=str(obj.get("package", "")),
    )


def field_hashes(note: Note, field_names: tuple[str, ...]) -> dict[str, str]:
    """Short hashes of a note's content fields and tags: what decides 'changed'."""
    out = {name: _short(value) for name, value in zip(field_names, note.fields) if name not in UNTRACKED_FIELDS}
    out[TAGS_KEY] = _short(" ".join(note.tags))
    return out


def _short(s: str) -> str:
    return hashlib.sha256(s.encode("utf-8")).hexdigest()[:12]


_EMPTY = _short("")


@dataclass(frozen=True, slots=True)
class Change:
    """What a learner's re-import of this build will do, against the lock."""

    new: tuple[str, ...] = ()
    changed: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(id, names of the fields that changed; `Tags` for the tags), sorted by id."""
    unchanged: int = 0
    retired: tuple[str, ...] = ()
    """Ids retired by this build (they left the sources since the last build)."""
    revived: tuple[str, ...] = ()
    """Ids that were retired and are back in the sources."""
    moved: tuple[tuple[str, str, str], ...] = ()
    """(id, old deck, new deck) for cards whose deck changed: Anki never moves a learner's card."""
    notetype_changed: bool = False
    """The note type's templates or CSS changed since the last build."""
    warnings: tuple[Diagnostic, ...] = ()
    """Ids that now seem to name a different card, at the card's path and line."""

    def summary(self) -> str:
        """One line of counts, then one line per new, changed, retired or revived card."""
        counts = f"{len(self.new)} new, {len(self.changed)} changed, {self.unchanged} unchanged, {len(self.retired)} retired"
        if self.revived:
            counts += f", {len(self.revived)} revived"
        lines = [counts]
        lines += [f"  new      {cid}" for cid in self.new]
        lines += [f"  changed  {cid}: {', '.join(fields)}" for cid, fields in self.changed]
        lines += [f"  retired  {cid}: kept for learners, tagged flashdeck::retired" for cid in self.retired]
        lines += [f"  revived  {cid}: a retired card is back; learners' copy is restored" for cid in self.revived]
        lines += [f"  deck     {cid}: {old} -> {new}; learners who have it keep it in {old}" for cid, old, new in self.moved]
        if self.notetype_changed:
            lines.append("  note type changed (templates or CSS): learners' note type updates; their notes do not")
        return "\n".join(lines)


def update(
    lock: Lock,
    notes: list[Note],
    field_names: tuple[str, ...],
    notetype_hash: str,
    now: int,
    packages: dict[str, str] | None = None,
    known: dict[str, dict[str, str]] | None = None,
) -> tuple[Lock, Change]:
    """A new lock for the live `notes` built at `now`, and the change against `lock`.

    `packages` maps card ids to the package each is built into. Every change of
    this build is stamped with one time, later than any time already in the
    lock, so a changed card is always newer than the copy a learner imported
    before (even with a SOURCE_DATE_EPOCH older than the last build). Unchanged
    cards keep their time, so they never overwrite what a learner edited.
    `known` maps card ids to their `field_hashes` when already computed (a warm
    build keeps them in its cache).
    """
    packages = packages or {}
    stamp = max(now, lock.latest + 1)
    entries: dict[str, Entry] = {}
    new: list[str] = []
    changed: list[tuple[str, tuple[str, ...]]] = []
    revived: list[str] = []
    moved: list[tuple[str, str, str]] = []
    warnings: list[Diagnostic] = []
    unchanged = 0
    known = known or {}
    for note in notes:
        hashes = known.get(note.id)
        if hashes is None:
            hashes = field_hashes(note, field_names)
        old = lock.entries.get(note.id)
        package = packages.get(note.id, old.package if old else "")
        if (
            old is not None
            and old.retired is None
            and old.fields == hashes
            and old.title == note.title
            and old.deck == note.deck
            and old.package == package
        ):  # the common case, unchanged in every respect: share the old entry
            unchanged += 1
            entries[note.id] = old
            continue
        keep = {"title": note.title, "deck": note.deck, "package": package}
        if old is None:
            new.append(note.id)
            entries[note.id] = Entry(note.id, stamp, stamp, hashes, **keep)
            continue
        if old.deck and old.deck != note.deck and old.retired is None:
            moved.append((note.id, old.deck, note.deck))
        if _looks_like_another_card(old.fields, hashes):
            warnings.append(_reuse_warning(note, old))
        if old.retired is not None:
            revived.append(note.id)
            entries[note.id] = replace(old, changed=stamp, fields=hashes, retired=None, **keep)
        elif old.fields != hashes and (names := _changed_fields(old.fields, hashes, field_names)):
            changed.append((note.id, names))
            entries[note.id] = replace(old, changed=stamp, fields=hashes, **keep)
        else:
            unchanged += 1
            # Same content: keep the time; the hashes are rewritten only to drop
            # keys an older lock tracked (ID, Source). An entry that is the same
            # in every respect is shared with the old lock, not copied: 100,000
            # cards' entries are ~80 MB.
            if old.fields == hashes and (old.title, old.deck, old.package) == (keep["title"], keep["deck"], keep["package"]):
                entries[note.id] = old
            else:
                entries[note.id] = replace(old, fields=hashes, **keep)
    retired = []
    for cid, old in lock.entries.items():
        if cid in entries:
            continue
        if old.retired is None:
            retired.append(cid)
            entries[cid] = replace(old, retired=stamp, changed=stamp)
        else:
            entries[cid] = old
    notetype_changed = lock.notetype_hash != notetype_hash
    change = Change(
        new=tuple(sorted(new)),
        changed=tuple(sorted(changed)),
        unchanged=unchanged,
        retired=tuple(sorted(retired)),
        revived=tuple(sorted(revived)),
        moved=tuple(sorted(moved)),
        notetype_changed=notetype_changed and bool(lock.notetype_hash),
        warnings=tuple(warnings),
    )
    new_lock = Lock(notetype_hash, stamp if notetype_changed else lock.notetype_changed, entries)
    return new_lock, change


def _changed_fields(old: dict[str, str], new: dict[str, str], field_names: tuple[str, ...]) -> tuple[str, ...]:
    """Names of the content fields (and `Tags`) whose hash differs, in note-type order.

    A field the lock does not know yet (a note type that gained a field) counts
    as having been empty, so an upgrade only touches the cards that fill it.
    """
    return tuple(
        "Tags" if k == TAGS_KEY else k
        for k in (*field_names, TAGS_KEY)
        if k in new and old.get(k, _EMPTY) != new[k]
    )


def _looks_like_another_card(old: dict[str, str], new: dict[str, str]) -> bool:
    # Rewording a question or fixing an answer is an edit; changing both at once
    # is what reusing an id for another card looks like.
    return all(old.get(k) is not None and old.get(k) != new.get(k) for k in ("Question", "Answer"))


def _reuse_warning(note: Note, old: Entry) -> Diagnostic:
    if old.retired is not None:
        when = time.strftime("%Y-%m-%d", time.gmtime(old.retired))
        was = f" ('{old.title}')" if old.title else ""
        message = (
            f"card '{note.id}': this id belonged to a card retired on {when}{was}; learners who kept it will see it "
            "replaced by this card, with the old card's review history. If this is a different card, give it a new id"
        )
    else:
        was = f" (was '{old.title}')" if old.title else ""
        message = (
            f"card '{note.id}': question and answer both changed{was}; learners' review history of the old card "
            "carries over to this one. If this is a different card, give it a new id"
        )
    return Diagnostic(note.path, note.line, message, WARNING)
