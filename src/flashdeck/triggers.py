"""Which Markdown a field can need: the trigger strings of each extension and inline pattern.

Speed (issues 7 and 10): Python-Markdown tries every inline pattern on every
text node. A field without any of an extension's or pattern's triggers renders
the same with it left out, so render.py keeps an instance per set of triggers
found, and an explanation renders in half the time. tests/test_render_speed.py
checks every fast path against the full instance.
"""

from __future__ import annotations

import re

# Triggers are checked on the lower-cased field. `\t` and `\r` are triggers where
# Python-Markdown's whitespace normalisation could turn them into syntax. A backslash
# keeps every extension: several add the characters they make escapable (`\^`, `\|`,
# `\ `…) to Markdown's escape pattern.
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "pymdownx.arithmatex": ("$", "\\"),
    "pymdownx.caret": ("^", "\\"),
    "pymdownx.tilde": ("~", "\\"),
    "fenced_code": ("```", "~~~", "\\"),  # a fence is three backticks or tildes; one is inline code
    "codehilite": ("```", "~~~", "    ", "\t", "\\"),  # code blocks: fenced, or indented
    "tables": ("|", "\\"),
    "pymdownx.magiclink": ("://", "@", "www.", "\\"),  # (ht|f)tps?://, www., mail; its <…> needs "://"
}
UNGATED = {"sane_lists"}
PATTERNS: dict[str, tuple[str, ...]] = {
    "backtick": ("`", "\\"),
    "escape": ("\\",),
    "reference": ("]:",),  # reference links resolve only against a `[id]: url` definition
    "link": ("[",),
    "image_link": ("![",),
    "image_reference": ("]:",),
    "short_reference": ("]:",),
    "short_image_ref": ("]:",),
    "autolink": ("<",),
    "automail": ("<",),
    "linebreak": ("  \n", "\t", "\r"),
    "html": ("<",),
    "entity": ("&",),
    "em_strong": ("*", "_"),
    "magic-link": ("://", "www."),
    "magic-mail": ("@",),
}
DROPPABLE = {"magic-link": ("pymdownx.magiclink",), "magic-mail": ("pymdownx.magiclink",)}
"""Patterns of an extension that are dropped like core ones (by their triggers above), with their module."""
TEXT_URL_RE = re.compile(r"(?:://|www\.)(?![^<]*>)", re.IGNORECASE)
"""A URL's start in the text of Markdown's HTML, not inside a tag (text and attributes escape "<" and ">")."""
ALL = frozenset(t for trig in (*EXTENSIONS.values(), *PATTERNS.values()) for t in trig)
# Python-Markdown lifts raw HTML (a block tag, a comment, <?…?>) out of its line, and the text on its
# two sides joins: "!<?x?>[a](b)" is an image, "  <hr>  x" four spaces of code. So a field holding
# "<" may hold any trigger longer than one character.
JOINED = frozenset(t for t in ALL if len(t) > 1)
# Without raw HTML ("<"), a link ("[") or a URL scheme (":"), a field's HTML is
# Markdown's own: only allowed tags, attributes and http(s)/mailto links.
AUDIT = ("<", "[", ":")
ALL |= frozenset(AUDIT)
# One line of words and harmless punctuation, starting with a letter: no
# Markdown block (list, heading, quote, code) can start, no inline syntax
# applies, and nothing needs escaping, so its HTML is the text itself.
# ('_' is kept out by a substring test, so that each character is one class test, not an alternation.)
PLAIN_RE = re.compile(r"[^\W\d_][\w ,.;?!'\"()%+=-]*(?<! )")
PLAIN = tuple(t for t in ALL if all(c.isalnum() or c in " ,.;?!'\"()%+=-" for c in t))
"""The triggers PLAIN_RE's words may hold ('www.', four spaces): its characters only."""


def present(text: str) -> tuple[frozenset, bool]:
    """(The triggers `text` holds, whether it is one line of plain words)."""
    lowered = text.lower()
    words = "_" not in text and PLAIN_RE.fullmatch(text) is not None
    # (plain words can hold only the triggers made of their own characters)
    found = frozenset(t for t in (PLAIN if words else ALL) if t in lowered)
    if "<" in found:
        found |= JOINED
    return found, words


def all_gated(extensions: list[str]) -> bool:
    """The fast paths know every extension in use; an unknown one turns them off (and fails a test)."""
    return all(e in EXTENSIONS or e in UNGATED for e in extensions)
