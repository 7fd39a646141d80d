"""Card ids to suggest: readable ASCII slugs from headings in any script.

An id may only use ASCII letters, digits, `-` and `_` (README "Card format"), so
a heading in Cyrillic, Greek, Arabic, Chinese or Japanese is transliterated
(anyascii: `Гипомагниемия` → `gipomagniemiya`, `低镁血症` → `di-mei-xue-zheng`);
a heading nothing can be read from (`## ???`) gets `card-` and a short hash of
its text, so two such cards never share a suggestion. A suggestion is never an
id in `taken` (used by a card, or retired in the lock).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Container

MAX_SLUG = 48
_NOT_SLUG_RE = re.compile(r"[^a-z0-9]+")
_NOT_ID_RE = re.compile(r"[^A-Za-z0-9_-]+")


def slugify(title: str) -> str:
    """A readable id from a heading: lower-case ASCII letters, digits and '-', at most 48 characters; "" if none."""
    slug = _NOT_SLUG_RE.sub("-", _ascii(title).lower()).strip("-")
    if len(slug) > MAX_SLUG:
        slug = slug[:MAX_SLUG].rsplit("-", 1)[0] or slug[:MAX_SLUG]
    return slug


def suggest(title: str, taken: Container[str]) -> str:
    """A new id for a card with this heading: its slug (or `card-<hash>`), then `-2`, `-3` … until free."""
    return _free(slugify(title) or hashed(title), taken)


def fix(written: str, title: str, taken: Container[str]) -> str:
    """What an invalid id as written should become: the same id in ASCII (case and '_' kept), else `suggest`."""
    fixed = _NOT_ID_RE.sub("-", _ascii(written)).strip("-")[:MAX_SLUG].strip("-")
    return _free(fixed, taken) if fixed else suggest(title, taken)


def hashed(title: str) -> str:
    """`card-` and 8 hex digits of the heading's SHA-256: stable across runs and machines."""
    text = unicodedata.normalize("NFC", " ".join(title.split()))
    return "card-" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def _free(base: str, taken: Container[str]) -> str:
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def _ascii(text: str) -> str:
    """`text` transliterated to ASCII; each Chinese character becomes its own word (pinyin syllables)."""
    if text.isascii():
        return text
    from anyascii import anyascii

    out = []
    for ch in unicodedata.normalize("NFC", text):
        if ch.isascii():
            out.append(ch)
            continue
        latin = anyascii(ch)
        if unicodedata.category(ch) == "Lo":
            latin = latin.lower()  # a script without case: 'Di', 'Mei' are capitalised only to mark syllables
        if unicodedata.name(ch, "").startswith(("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH")):
            latin = f" {latin} "  # 'dimeixuezheng' would read as one word
        elif unicodedata.category(ch).startswith("L"):
            latin = latin.replace("'", "")  # a soft sign 'ь' is no word break
        out.append(latin)
    return "".join(out)
