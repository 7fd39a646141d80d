"""The lock: when each card's content last changed, so a stamp moves only when learners need the new version.

Anki updates a learner's note on re-import only when the incoming note's
modification time is newer than the learner's copy; editing a note in Anki
stamps it with the time of the edit. Stamping notes with the build time would
overwrite learners' own edits on every card at every import; stamping them with
a fixed time would never deliver a fix. So `cards/flashdeck.lock` (committed
beside the sources, format in lockfile.py, read by lockread.py) records, per card id, a hash of each
content field and the time that content last changed; a note's modification
time is that time.

Cards removed from the sources stay in the lock as retired, so every later
build still ships them (with a notice, see retire.py) and their ids are never
silently reused. A retired card that comes back with the content learners
last received keeps its old stamp when its retirement never left the author's
machine (a build between cut and paste, `--watch` catching a file half
saved), and gets a new one when the retirement was released, or learners
would keep the notice. Only a release can tell the two apart: the lock as last
committed to git (`git show HEAD:…`) is taken as the released one; outside a
git repository a retirement counts as unreleased.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from . import lockfile, lockread, notetype
from .errors import FlashdeckError
from .lockfile import Entry, Lock
from .model import Placed

UNTRACKED_FIELDS = ("ID", "Source")
"""Fields that are not content: `ID` never changes for a card, and `Source` (the
file a card lives in) changes when an author moves a card between files. Moving
a card must not overwrite a learner's copy, so neither counts as a change."""
TAGS_KEY = "tags"


def field_hashes(field_names: tuple[str, ...], fields: tuple[str, ...], tags: tuple[str, ...]) -> str:
    """Short hashes of a note's content fields and tags, as `Entry.hashes` holds them."""
    pairs = {name: _short(value) for name, value in zip(field_names, fields) if name not in UNTRACKED_FIELDS}
    pairs[TAGS_KEY] = _short(" ".join(tags))
    return " ".join(f"{k}:{pairs[k]}" for k in sorted(pairs))


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
    """Ids that were retired and are back, with content learners do not have."""
    restored: tuple[str, ...] = ()
    """Ids back with exactly the content learners have: they keep their stamp."""
    moved: tuple[tuple[str, str, str], ...] = ()
    """(id, old deck, new deck) for cards whose deck changed: Anki never moves a learner's card."""
    cloze_removed: tuple[tuple[str, tuple[int, ...]], ...] = ()
    """(id, deletion numbers no longer in the card)."""
    notetypes_changed: tuple[str, ...] = ()
    """Note type kinds whose templates or CSS changed since the last build."""

    def summary(self, limit: int | None = 10) -> str:
        """One line of counts, then the cards by what happens to them (`limit` of each, None: all)."""
        counts = f"{len(self.new)} new, {len(self.changed)} changed, {self.unchanged} unchanged, {len(self.retired)} retired"
        if self.revived:
            counts += f", {len(self.revived)} revived"
        if self.restored:
            counts += f", {len(self.restored)} back unchanged"
        lines = [counts]
        lines += _capped([f"  new      {cid}" for cid in self.new], limit, "new")
        lines += _capped([f"  changed  {cid}: {', '.join(fields)}" for cid, fields in self.changed], limit, "changed")
        lines += _capped([f"  retired  {cid}: kept for learners, tagged flashdeck::retired" for cid in self.retired], limit, "retired")
        lines += _capped([f"  revived  {cid}: a retired card is back; learners' copy is restored" for cid in self.revived], limit, "revived")
        lines += _capped([f"  back     {cid}: back with the content learners have; their copy is left as it is" for cid in self.restored], limit, "back")
        lines += _capped([f"  deck     {cid}: {old} -> {new}; learners who have it keep it in {old}" for cid, old, new in self.moved], limit, "deck")
        lines += _capped([
            f"  cloze    {cid}: {', '.join(f'c{n}' for n in numbers)} removed; learners keep an empty card until Tools > Empty Cards"
            for cid, numbers in self.cloze_removed
        ], limit, "cloze")
        for kind in self.notetypes_changed:
            name = "note type" if kind == "basic" else "cloze note type"
            lines.append(f"  {name} changed (templates or CSS): learners' note type updates; their notes do not")
        return "\n".join(lines)


def _capped(lines: list[str], limit: int | None, what: str) -> list[str]:
    if limit is None or len(lines) <= limit:
        return lines
    return lines[:limit] + [f"  … and {len(lines) - limit} more {what} (--verbose lists them all)"]


def update(
    lock: Lock,
    cards: list[Placed],
    notetypes: dict[str, str],
    now: int,
    released: Callable[[], Lock | None] = lambda: None,
) -> tuple[Lock, Change]:
    """A new lock for the live `cards` built at `now`, and the change against `lock`.

    Every change of this build is stamped with one time, later than any time
    already in the lock, so a changed card is always newer than the copy a
    learner imported before (even with a SOURCE_DATE_EPOCH older than the last
    build). Unchanged cards keep their time, so they never overwrite what a
    learner edited. `notetypes` maps kinds to their fingerprints; `released()`
    gives the lock as last released (see the module docstring), asked only
    when a retired card comes back.
    """
    stamp = max(now, lock.latest + 1)
    entries: dict[str, Entry] = {}
    new, changed, revived, restored, moved, removed = [], [], [], [], [], []
    unchanged = 0
    asked: list[Lock | None] = []
    for p in cards:
        r = p.result
        old = lock.entries.get(r.id)
        if old is not None and old.retired is None and old.hashes == r.hashes and old.kind == r.kind and old.cloze == r.cloze \
                and old.title == r.title and old.deck == p.deck and old.package == p.package:
            unchanged += 1  # the common case, unchanged in every respect: share the old entry
            entries[r.id] = old
            continue
        keep = {"title": r.title, "deck": p.deck, "package": p.package, "kind": r.kind, "cloze": r.cloze, "hashes": r.hashes}
        if old is None:
            new.append(r.id)
            entries[r.id] = Entry(r.id, stamp, stamp, **keep)
            continue
        if old.deck and old.deck != p.deck and old.retired is None:
            moved.append((r.id, old.deck, p.deck))
        gone = sorted({n for n, _ in old.cloze} - {n for n, _ in r.cloze}) if old.retired is None else []
        if gone:
            removed.append((r.id, tuple(gone)))
        if old.retired is not None:
            if not asked:
                asked.append(released())
            when = _revival(old, r.hashes, asked[0])
            (revived if when is None else restored).append(r.id)
            entries[r.id] = replace(old, changed=stamp if when is None else when, retired=None, **keep)
        elif old.hashes != r.hashes and (names := changed_fields(old.fields, lockfile.fields_of(r.hashes), notetype.of(r.kind).fields)):
            changed.append((r.id, names))
            entries[r.id] = replace(old, changed=stamp, **keep)
        else:
            # Same content: keep the time (the hashes are rewritten only to drop keys an older lock tracked).
            unchanged += 1
            entries[r.id] = replace(old, **keep)
    retired = []
    for cid, old in lock.entries.items():
        if cid in entries:
            continue
        if old.retired is None:
            retired.append(cid)
            entries[cid] = replace(old, retired=stamp)  # `changed` stays the content's time (see _revival)
        else:
            entries[cid] = old
    types = {}
    changed_types = []
    for kind, fingerprint in notetypes.items():
        before = lock.notetypes.get(kind)
        if before is not None and before[0] == fingerprint:
            types[kind] = before
        else:
            types[kind] = (fingerprint, stamp)
            if before is not None:
                changed_types.append(kind)
    change = Change(
        new=tuple(sorted(new)),
        changed=tuple(sorted(changed)),
        unchanged=unchanged,
        retired=tuple(sorted(retired)),
        revived=tuple(sorted(revived)),
        restored=tuple(sorted(restored)),
        moved=tuple(sorted(moved)),
        cloze_removed=tuple(sorted(removed)),
        notetypes_changed=tuple(changed_types),
    )
    return Lock(types, entries, lock.lines), change  # (lines: see Lock.dumps)


def _revival(old: Entry, hashes: str, released: Lock | None) -> int | None:
    """The stamp a retired card keeps when it comes back, or None when it needs a new one.

    It keeps its stamp only when it is back with the content it had and its
    retirement was not released: learners then still hold that content (and
    perhaps their own edits of it). The released lock's stamp is the one they
    hold; a lock written before flashdeck kept content times of retired cards
    has only the retirement time, which would overwrite their edits.
    """
    if old.hashes != hashes:
        return None
    shipped = released.entries.get(old.id) if released is not None else None
    if shipped is not None and shipped.retired is not None:
        return None  # learners got the notice: only a newer stamp brings the card back
    if shipped is not None and shipped.hashes == hashes:
        return shipped.changed
    return old.changed


def released_lock(lock_path: Path) -> Lock | None:
    """The lock as last committed to git (HEAD), or None outside git or when it was never committed."""
    import subprocess  # (here: most builds never ask git, and subprocess with what it loads is 4-6 ms of every start)

    folder = lock_path.parent
    try:
        out = subprocess.run(
            ["git", "-C", str(folder), "show", f"HEAD:./{lock_path.name}"],
            capture_output=True, timeout=30, check=False, env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0 or not out.stdout.strip():
        return None
    try:
        return lockread.loads(out.stdout, lock_path)
    except Exception:  # noqa: BLE001 - a released lock we cannot read tells nothing: treat as none
        return None


def changed_fields(old: dict[str, str], new: dict[str, str], order: tuple[str, ...]) -> tuple[str, ...]:
    """Names of the content fields (and `Tags`) whose hash differs, in the note type's `order`.

    A field the lock does not know yet (a note type that gained a field) counts
    as having been empty, so an upgrade only touches the cards that fill it.
    """
    names = [k for k in order if k in new] + sorted(k for k in new if k not in order and k != TAGS_KEY)
    names += [TAGS_KEY] if TAGS_KEY in new else []
    return tuple("Tags" if k == TAGS_KEY else k for k in names if old.get(k, _EMPTY) != new[k])


def source_date_epoch() -> int | None:
    """SOURCE_DATE_EPOCH (the reproducible-builds convention) as an int, or None when unset."""
    sde = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not sde:
        return None
    try:
        value = int(sde)
    except ValueError:
        raise FlashdeckError("SOURCE_DATE_EPOCH", 0, f"SOURCE_DATE_EPOCH must be a whole number of seconds, not '{sde[:30]}'") from None
    if value < 0:
        raise FlashdeckError("SOURCE_DATE_EPOCH", 0, f"SOURCE_DATE_EPOCH must not be negative, not '{sde}'")
    if value > time.time() + lockfile.FUTURE_MARGIN:
        raise FlashdeckError("SOURCE_DATE_EPOCH", 0, (
            f"SOURCE_DATE_EPOCH {sde[:30]} lies in the future (is it in milliseconds?): it must be seconds since 1970, "
            "such as $(git log -1 --format=%ct); a future stamp would overwrite learners' copies at every import"
        ))
    return value


def build_time() -> int:
    """SOURCE_DATE_EPOCH when set (reproducible builds), else now."""
    sde = source_date_epoch()
    return sde if sde is not None else int(time.time())
