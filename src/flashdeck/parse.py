"""One card's Markdown -> a `Card`: its structure, and what looked odd (`Facts`). No judging here.

The format (README, "Card format", a public contract):

    ## Heading {#stable-id}
    Question text …            (or a sentence with {{c1::cloze}} deletions)
    - [ ] wrong option
    - [x] right option
    ### Explanation
    …
    ### References
    - <https://pubmed.ncbi.nlm.nih.gov/123/>
    Tags: a, b

The parser is line based so that every piece keeps its line number, and it
never raises for a mistake: it records what it saw, and validate.py says
what is wrong with it. Every pass is linear in the size of the card.
"""

from __future__ import annotations

import re

from . import cloze, heading, scan
from .identity import ID_RE
from .model import Card, Deletion, Facts, FileContext, Option, Section

SECTIONS = ("answer", "explanation", "references")

_OPTION_RE = re.compile(r"^ {0,3}[-*+][ \t]+\[([ xX])\](?:[ \t]+(.*))?$")
_OPTION_LIKE_RE = re.compile(r"^ {0,3}(?:[-*+]|\d{1,9}[.)])[ \t]*[\[(][ \txX*vV.\u2713\u2714\u2717_-]{0,3}[\])](?![(\[:])")
_BULLET_RE = re.compile(r"^ {0,3}[-*+][ \t]+")
_TAGS_RE = re.compile(r"^tags:[ \t]*(.*)$", re.IGNORECASE)
TAG_RE = re.compile(r"^[^\s\"',]+$")
# `<!-- flashdeck: allow NAME -->`, `<!-- flashdeck: shuffle -->`: the only comments that mean
# something. Bounded so that an unclosed one cannot make the search rescan the card.
_DIRECTIVE_RE = re.compile(r"<!--[ \t\n]*flashdeck:([^>]{0,500}?)-->")


def card(text: str, first_line: int, ctx: FileContext) -> Card:
    """The card whose lines (heading first) are `text`, the heading on line `first_line` of `ctx.path`."""
    raw = text.split("\n")
    if raw and raw[-1] == "":
        raw.pop()
    lines, code = scan.blank(raw)
    content, offset = heading.atx(lines[0], 2) or ("", 0)
    title, candidate, id_at = heading.split_id(content)
    card_id = candidate if candidate is not None and ID_RE.fullmatch(candidate) else None
    id_column = offset + id_at + 1 if candidate is not None else None
    facts: dict = {"bad_id": candidate if candidate is not None and card_id is None else None}

    tags = list(ctx.tags)
    bad_tags = []
    body = lines[1:]
    mask = code[1:]
    for k, line in enumerate(body):
        if mask[k] or ":" not in line:  # (the colon: a cheap test before the pattern)
            continue
        tm = _TAGS_RE.match(line.strip())
        if tm and not _BULLET_RE.match(line):
            for tag in re.split(r"[,\s]+", tm.group(1).strip()):
                if not tag:
                    continue
                if not TAG_RE.match(tag):
                    bad_tags.append((first_line + 1 + k, tag))
                elif tag not in tags:
                    tags.append(tag)
            body[k] = ""
    facts["bad_tags"] = tuple(bad_tags)
    shuffle, allow, unknown = _directives(raw, code, first_line) if "flashdeck:" in text else (None, frozenset(), ())
    facts["unknown_directives"] = unknown
    common = dict(
        id=card_id, title=title, path=ctx.path, line=first_line, deck=ctx.deck, tags=tuple(tags),
        id_column=id_column, shuffle=ctx.shuffle if shuffle is None else shuffle, allow=allow,
    )
    if not any(line.strip() for line in body):
        return Card(question=Section(title, first_line), empty=True, facts=Facts(**facts), **common)

    body0 = first_line + 1  # file line of body[0]
    h3 = [k for k, line in enumerate(body) if not mask[k] and line.startswith(("#", " ")) and heading.atx(line, 3) is not None]
    intro_end = h3[0] if h3 else len(body)
    sections: dict[str, Section] = {}
    seen: dict[str, int] = {}
    unknown_sections, repeated = [], []
    for n, k in enumerate(h3):
        end = h3[n + 1] if n + 1 < len(h3) else len(body)
        name = heading.atx(body[k], 3)[0]
        key = name.lower()
        if key not in SECTIONS:
            unknown_sections.append((body0 + k, name))
        elif key in sections:
            repeated.append((body0 + k, name, seen[key]))
        else:
            sections[key] = _section(body, body0, k + 1, end)
            seen[key] = body0 + k
    facts.update(unknown_sections=tuple(unknown_sections), repeated_sections=tuple(repeated), section_lines=tuple(seen.items()))

    question, options, intro_facts = _intro(body, mask, body0, intro_end)
    facts.update(intro_facts)
    if not question.text:
        question = Section(title, first_line)
    deletions: tuple[Deletion, ...] = ()
    if "{{" in question.text:
        code_lines = frozenset(k - (question.line - body0) for k in range(len(mask)) if mask[k])
        found, problems = cloze.find(question.text, question.line, code_lines)
        deletions = tuple(found)
        facts["cloze_problems"] = tuple(problems)
    return Card(
        question=question,
        options=tuple(options),
        answer=sections.get("answer"),
        explanation=sections.get("explanation"),
        references=sections.get("references"),
        deletions=deletions,
        facts=Facts(**facts),
        **common,
    )


def _directives(raw: list[str], code: list[bool], first_line: int):
    """The card's `<!-- flashdeck: … -->` comments: (its shuffle setting or None, checks it allows, unknown ones)."""
    shuffle = None
    allow: set[str] = set()
    unknown = []
    text = "\n".join("" if code[i] else raw[i] for i in range(len(raw)))
    if "flashdeck:" not in text:
        return shuffle, frozenset(), ()
    for m in _DIRECTIVE_RE.finditer(text):
        line = first_line + text.count("\n", 0, m.start())
        words = m.group(1).replace(",", " ").split()
        name, args = (words[0].lower(), words[1:]) if words else ("", [])
        if name == "allow" and args:
            allow.update(a.lower() for a in args)
        elif name in ("shuffle", "no-shuffle") and not args:
            shuffle = name == "shuffle"
        else:
            unknown.append((line, m.group(1)))
    return shuffle, frozenset(allow), tuple(unknown)


def _section(body: list[str], body0: int, first: int, end: int) -> Section:
    """The text of body[first:end], trimmed of blank lines; an empty section sits on the line after its heading."""
    chunk = body[first:end]
    lead = 0
    while lead < len(chunk) and not chunk[lead].strip():
        lead += 1
    if lead == len(chunk):
        return Section("", body0 + first)
    tail = len(chunk)
    while tail > lead and not chunk[tail - 1].strip():
        tail -= 1
    return Section("\n".join(chunk[lead:tail]), body0 + first + lead)


def _intro(body: list[str], mask: list[bool], body0: int, intro_end: int) -> tuple[Section, list[Option], dict]:
    """Question text and options from the lines between the heading and the first ###, and what looked odd."""
    facts: dict = {}
    first_opt = next((k for k in range(intro_end) if not mask[k] and _OPTION_RE.match(body[k])), None)
    question_end = intro_end if first_opt is None else first_opt
    for k in range(question_end):
        if not mask[k] and _OPTION_LIKE_RE.match(body[k]):
            facts["option_like"] = (body0 + k, body[k].strip())
            break
    if first_opt is None:
        return _section(body, body0, 0, intro_end), [], facts
    question = _section(body, body0, 0, first_opt)
    options: list[Option] = []
    stray = []
    current: list[str] | None = None
    cur_line = 0
    cur_correct = False

    def flush() -> None:
        if current is not None:
            letter = chr(ord("A") + len(options)) if len(options) < 26 else f"#{len(options) + 1}"
            options.append(Option(letter, "\n".join(current).strip(), cur_correct, cur_line))

    for k in range(first_opt, intro_end):
        line = body[k]
        om = _OPTION_RE.match(line) if not mask[k] else None
        if om:
            flush()
            current = [om.group(2) or ""]
            cur_line = body0 + k
            cur_correct = om.group(1) in "xX"
        elif not line.strip():
            pass
        elif line.startswith(("  ", "\t")) and current is not None:
            current.append(line.strip())
        elif not mask[k] and _BULLET_RE.match(line):
            stray.append(body0 + k)
        else:
            facts["text_after_options"] = body0 + k
            break
    flush()
    facts["stray_items"] = tuple(stray)
    return question, options, facts


def file(data: bytes, ctx: FileContext) -> list[Card]:
    """Every card of one file's bytes (as scan.load gives them), at its lines: for tools and tests; a build goes card by card."""
    return [card(c.text.decode("utf-8", "replace"), c.line, ctx) for c in scan.split(data).chunks]
