"""ATX headings and card ids, as CommonMark and the README ("Card format") define them."""

from __future__ import annotations


def atx(line: str, level: int) -> tuple[str, int] | None:
    """(content, column index of content) when `line` is an ATX heading of `level`, else None.

    CommonMark's rule, without a regular expression that could backtrack: up to
    three spaces, exactly `level` '#', then a space, a tab or the end of the
    line; an optional closing run of '#' after a space is not content.
    """
    if not line.startswith(("#", " ")):
        return None  # most lines: keep this cheap
    indent = len(line) - len(line.lstrip(" "))
    if indent > 3:
        return None
    marks = indent + level
    if line[indent:marks] != "#" * level or line[marks : marks + 1] == "#":
        return None
    rest = line[marks:]
    if rest and rest[0] not in " \t":
        return None
    lead = len(rest) - len(rest.lstrip(" \t"))
    content = rest.strip(" \t")
    unclosed = content.rstrip("#")
    if unclosed != content and (not unclosed or unclosed[-1] in " \t"):
        content = unclosed.rstrip(" \t")
    return content, marks + lead


def split_id(title: str) -> tuple[str, str | None, int | None]:
    """(title without id, id as written or None, index of '{#' in `title`)."""
    t = title.rstrip()
    if not t.endswith("}"):
        return title, None, None
    k = t.rfind("{#")
    if k < 0 or "}" in t[k + 2 : -1]:
        return title, None, None
    return t[:k].rstrip(), t[k + 2 : -1].strip(), k
