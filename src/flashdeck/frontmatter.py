"""Front matter: the `---` block at the top of a card file (deck, tags, shuffle).

(Interim reader with the rules of the line parser; the YAML reader replaces it.)
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from .errors import ERROR, WARNING, clip

KEYS = ("deck", "tags", "shuffle")
_KEY_RE = re.compile(r"^([A-Za-z_][\w-]*)[ \t]*:(.*)$")
_TAG_RE = re.compile(r"^[^\s\"',]+$")
_BOOLEANS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}


@dataclass(frozen=True, slots=True)
class Problem:
    line: int
    column: int | None
    severity: str
    message: str


@dataclass(frozen=True, slots=True)
class FrontMatter:
    deck: str | None = None
    tags: tuple[str, ...] = ()
    shuffle: bool | None = None
    body_start: int = 0
    problems: tuple[Problem, ...] = ()


def read(lines: list[str]) -> FrontMatter:
    """The front matter at the top of `lines` (a file's first lines), if any."""
    if not lines or lines[0].strip() != "---":
        return FrontMatter()
    problems: list[Problem] = []

    def report(line: int, message: str, severity: str = ERROR, column: int | None = 1) -> None:
        problems.append(Problem(line, column, severity, message))

    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            break
    else:
        report(1, "front matter opened with '---' is never closed: add a '---' line after its last 'key: value' line")
        return FrontMatter(body_start=len(lines), problems=tuple(problems))
    meta: dict = {}
    i = 1
    while i < end:
        raw = lines[i]
        if not raw.strip() or raw.lstrip().startswith("#"):
            i += 1
            continue
        m = _KEY_RE.match(raw)
        if not m:
            report(i + 1, f"malformed front matter line '{clip(raw.strip())}': write 'key: value' (known keys: {', '.join(KEYS)})")
            i += 1
            continue
        key, value = m.group(1), m.group(2).strip()
        lineno = i + 1
        i += 1
        value_list = None
        if not value:
            items = []
            while i < end and re.match(r"^\s*-\s+", lines[i]):
                items.append(re.sub(r"^\s*-\s+", "", lines[i]).strip())
                i += 1
            value_list = items
        if key not in KEYS:
            close = difflib.get_close_matches(key.lower(), KEYS, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(KEYS)}"
            report(lineno, f"unknown front matter key '{key}' is ignored; {hint}", WARNING)
            continue
        if key in meta:
            report(lineno, f"front matter key '{key}' appears twice: keep one")
            continue
        if key == "shuffle":
            flag = _BOOLEANS.get(_unquote(value).lower()) if value_list is None else None
            if flag is None:
                report(lineno, f"front matter 'shuffle' must be true or false, not '{clip(value)}'")
                continue
            meta["shuffle"] = flag
        elif key == "deck":
            deck = _unquote(value) if value_list is None else ""
            if not deck:
                report(lineno, "front matter 'deck' must be a deck name such as 'Nephrology::Hypomagnesemia'")
                continue
            parts = [p.strip() for p in deck.split("::")]
            if any(not p for p in parts):
                report(lineno, f"deck name '{deck}' has an empty part between '::': write 'Parent::Child'")
                continue
            meta["deck"] = "::".join(parts)
        else:
            if value_list is None:
                if value.startswith("[") != value.endswith("]"):
                    report(lineno, "front matter 'tags' list is not closed: write tags: [a, b]")
                    continue
                value_list = [_unquote(t) for t in value.strip("[]").split(",")]
            tags = []
            for tag in (t.strip() for t in value_list):
                if not tag:
                    continue
                if not _TAG_RE.match(tag):
                    report(lineno, f"tag '{tag}' may not contain spaces, quotes or commas: use '_' or '::' instead of spaces")
                    continue
                if tag not in tags:
                    tags.append(tag)
            meta["tags"] = tuple(tags)
    return FrontMatter(meta.get("deck"), meta.get("tags", ()), meta.get("shuffle"), end + 1, tuple(problems))


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value
