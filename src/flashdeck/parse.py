"""Split one Markdown card file into cards.

The format (documented in README.md, a public contract):

    ---
    deck: Nephrology::Hypomagnesemia
    tags: [nephrology, magnesium]
    ---
    ## Heading {#stable-id}
    Question text …
    - [ ] wrong option
    - [x] right option
    ### Explanation
    …
    ### References
    - <https://pubmed.ncbi.nlm.nih.gov/123/>
    Tags: a, b

The parser is line based so that every piece keeps its line number. It never
raises for a mistake in a card: it records a `Diagnostic` and goes on, so one
run reports every problem. Only undecodable bytes stop a file (`read_source`).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ERROR, WARNING, CardError, Diagnostic
from .model import Card, Option, Section, SourceFile

FRONT_MATTER_KEYS = ("deck", "tags")
SECTIONS = ("answer", "explanation", "references")

ID_RE = re.compile(r"[A-Za-z0-9_-]+")
_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_H2_RE = re.compile(r"^ {0,3}##(?!#)(?:[ \t]+(.*?))?[ \t]*#*[ \t]*$")
_H3_RE = re.compile(r"^ {0,3}###(?!#)(?:[ \t]+(.*?))?[ \t]*#*[ \t]*$")
_ID_SUFFIX_RE = re.compile(r"\{#([^}]*)\}\s*$")
_OPTION_RE = re.compile(r"^ {0,3}[-*+][ \t]+\[([ xX])\](?:[ \t]+(.*))?$")
_BULLET_RE = re.compile(r"^ {0,3}[-*+][ \t]+")
_TAGS_RE = re.compile(r"^tags:[ \t]*(.*)$", re.IGNORECASE)
_TAG_RE = re.compile(r"^[^\s\"',]+$")


def read_source(path: Path) -> str:
    """The text of a card file: UTF-8 (a BOM is accepted), CRLF/CR turned into LF."""
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise CardError(
            path, line, f"file is not UTF-8 (byte 0x{data[exc.start]:02x}); save it as UTF-8", col
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


@dataclass(slots=True)
class _Parsed:
    deck: str
    tags: tuple[str, ...]
    cards: list[Card] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def parse(text: str, path: Path, default_deck: str) -> tuple[SourceFile, list[Diagnostic]]:
    """Parse the text of one card file.

    Returns the file's cards and every problem found (errors and warnings).
    `default_deck` is used when the front matter names no deck.
    """
    lines = text.split("\n")
    diags: list[Diagnostic] = []

    def report(line: int, message: str, severity: str = ERROR, column: int | None = None) -> None:
        diags.append(Diagnostic(path, line, message, severity, column))

    meta, body_start = _front_matter(lines, report)
    deck = meta.get("deck") or default_deck
    file_tags = meta.get("tags") or ()
    visible = _strip_comments(lines, body_start)

    cards: list[Card] = []
    starts = [i for i, kind in _structure(visible, body_start) if kind == "h2"]
    preamble_end = starts[0] if starts else len(lines)
    for i in range(body_start, preamble_end):
        stripped = visible[i].strip()
        if stripped and not stripped.startswith("# "):
            report(i + 1, "text before the first card heading ('## Title {#id}') belongs to no card and would be lost", WARNING)
            break
    if not starts:
        if any(v.strip() for v in visible[body_start:]) or body_start == 0:
            report(max(1, body_start), "file has no cards: start each card with '## Title {#id}'", WARNING)
        else:
            report(max(1, body_start), "file has no cards after its front matter", WARNING)
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        card = _card(visible, start, end, path, deck, file_tags, report)
        if card is not None:
            cards.append(card)
    return SourceFile(path, "", deck, tuple(cards)), diags


def _front_matter(lines: list[str], report) -> tuple[dict, int]:
    if not lines or lines[0].strip() != "---":
        return {}, 0
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            break
    else:
        report(1, "front matter opened with '---' is never closed: add a '---' line after it")
        return {}, 0
    meta: dict = {}
    i = 1
    while i < end:
        raw = lines[i]
        if not raw.strip() or raw.lstrip().startswith("#"):
            i += 1
            continue
        m = re.match(r"^([A-Za-z_][\w-]*)[ \t]*:(.*)$", raw)
        if not m:
            report(i + 1, f"malformed front matter line '{raw.strip()}': write 'key: value'", column=1)
            i += 1
            continue
        key, value = m.group(1), m.group(2).strip()
        lineno = i + 1
        i += 1
        if not value:  # a block list follows: "- item" lines
            items = []
            while i < end and re.match(r"^\s+-\s+|^-\s+", lines[i]):
                items.append(re.sub(r"^\s*-\s+", "", lines[i]).strip())
                i += 1
            value_list: list[str] | None = items
        else:
            value_list = None
        if key not in FRONT_MATTER_KEYS:
            close = difflib.get_close_matches(key, FRONT_MATTER_KEYS, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f"; known keys: {', '.join(FRONT_MATTER_KEYS)}"
            report(lineno, f"unknown front matter key '{key}' is ignored{hint}", WARNING, 1)
            continue
        if key in meta:
            report(lineno, f"front matter key '{key}' appears twice: keep one", column=1)
            continue
        if key == "deck":
            deck = _unquote(value) if value_list is None else ""
            if not deck or value_list is not None:
                report(lineno, "front matter 'deck' must be a deck name such as 'Nephrology::Hypomagnesemia'", column=1)
                continue
            parts = [p.strip() for p in deck.split("::")]
            if any(not p for p in parts):
                report(lineno, f"deck name '{deck}' has an empty part between '::'", column=1)
                continue
            meta["deck"] = "::".join(parts)
        else:
            if value_list is None:
                if value.startswith("[") != value.endswith("]"):
                    report(lineno, "front matter 'tags' list is not closed: write tags: [a, b]", column=1)
                    continue
                value_list = [_unquote(t) for t in value.strip("[]").split(",")]
            tags = []
            for tag in (t.strip() for t in value_list):
                if not tag:
                    continue
                if not _TAG_RE.match(tag):
                    report(lineno, f"tag '{tag}' may not contain spaces, quotes or commas", column=1)
                    continue
                if tag not in tags:
                    tags.append(tag)
            meta["tags"] = tuple(tags)
    return meta, end + 1


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _strip_comments(lines: list[str], start: int) -> list[str]:
    """A copy of `lines` with HTML comments outside code blocks blanked out.

    Comments are where authors note sources and corrections; they never reach
    a card. Blanking (not deleting) keeps every line number right.
    """
    out = list(lines)
    in_comment = False
    fence = None
    for i in range(start, len(lines)):
        line = lines[i]
        if fence is None and not in_comment:
            m = _FENCE_RE.match(line)
            if m:
                fence = m.group(1)
                continue
        elif fence is not None:
            if line.strip().startswith(fence[0] * len(fence)) and not line.strip().strip(fence[0]):
                fence = None
            continue
        result = []
        pos = 0
        while pos < len(line):
            if in_comment:
                close = line.find("-->", pos)
                if close < 0:
                    pos = len(line)
                    break
                in_comment = False
                pos = close + 3
            else:
                open_ = line.find("<!--", pos)
                if open_ < 0:
                    result.append(line[pos:])
                    break
                result.append(line[pos:open_])
                in_comment = True
                pos = open_ + 4
        joined = "".join(result)
        out[i] = joined if joined.strip() else ""
    return out


def _structure(lines: list[str], start: int, end: int | None = None):
    """Yield (index, kind) for headings outside code fences: kind is h2 or h3."""
    fence = None
    for i in range(start, len(lines) if end is None else end):
        line = lines[i]
        if fence is None:
            m = _FENCE_RE.match(line)
            if m:
                fence = m.group(1)
                continue
            if _H2_RE.match(line):
                yield i, "h2"
            elif _H3_RE.match(line):
                yield i, "h3"
        elif line.strip().startswith(fence[0] * len(fence)) and not line.strip().strip(fence[0]):
            fence = None


def _in_fence_mask(lines: list[str], start: int, end: int) -> list[bool]:
    mask = []
    fence = None
    for i in range(start, end):
        line = lines[i]
        if fence is None:
            m = _FENCE_RE.match(line)
            if m:
                fence = m.group(1)
                mask.append(True)
                continue
            mask.append(False)
        else:
            mask.append(True)
            if line.strip().startswith(fence[0] * len(fence)) and not line.strip().strip(fence[0]):
                fence = None
    return mask


def _card(lines, start, end, path, deck, file_tags, report) -> Card | None:
    heading = lines[start]
    m = _H2_RE.match(heading)
    title = (m.group(1) or "").strip() if m else ""
    card_id = None
    id_column = None
    idm = _ID_SUFFIX_RE.search(title)
    if idm:
        id_column = heading.find("{#") + 1
        candidate = idm.group(1).strip()
        title = title[: idm.start()].rstrip()
        if ID_RE.fullmatch(candidate):
            card_id = candidate
        else:
            report(start + 1, f"card id '{candidate}' may only use letters, digits, '-' and '_'", column=id_column)
    label = f"card '{card_id}'" if card_id else f"card '{title or '(untitled)'}'"
    if not title:
        report(start + 1, f"{label} has an empty heading: write the card's title after '##'", column=1)

    mask = _in_fence_mask(lines, start + 1, end)
    # Per-card tags line, anywhere in the card outside code.
    tags = list(file_tags)
    body = list(lines[start + 1 : end])
    for k, line in enumerate(body):
        if mask[k]:
            continue
        tm = _TAGS_RE.match(line.strip())
        if tm and not _BULLET_RE.match(line):
            for tag in re.split(r"[,\s]+", tm.group(1).strip()):
                if not tag:
                    continue
                if not _TAG_RE.match(tag):
                    report(start + 2 + k, f"{label}: tag '{tag}' may not contain quotes", column=1)
                elif tag not in tags:
                    tags.append(tag)
            body[k] = ""

    if not any(line.strip() for line in body):
        report(start + 1, f"{label} has a heading but no body: add a question, an answer and an explanation, or remove the heading")
        return None

    h3 = [i for i, kind in _structure(lines, start + 1, end) if kind == "h3"]
    intro_end = h3[0] if h3 else end
    sections: dict[str, Section] = {}
    for n, h in enumerate(h3):
        s_end = h3[n + 1] if n + 1 < len(h3) else end
        name = (_H3_RE.match(lines[h]).group(1) or "").strip()
        key = name.lower()
        content = _section(body, start + 1, h + 1, s_end)
        if key not in SECTIONS:
            report(
                h + 1,
                f"{label}: section '### {name}' is not part of the format and would be lost; "
                "use ### Answer, ### Explanation or ### References",
                WARNING,
                1,
            )
            continue
        if key in sections:
            report(h + 1, f"{label} has a second '### {name}' section: merge it into the first", column=1)
            continue
        sections[key] = content

    question, options, extra = _intro(body, start + 1, intro_end, mask, report, label)
    if extra is not None:
        report(
            extra,
            f"{label}: text after the option list is not part of the format and would be lost; "
            "move it into the question (above the options) or into ### Explanation",
            WARNING,
            1,
        )
    if not question.text:
        question = Section(title, start + 1)

    answer = sections.get("answer")
    explanation = sections.get("explanation")
    if options:
        correct = [o for o in options if o.correct]
        if answer is not None:
            report(answer.line - 1, f"{label} has both options and an '### Answer' section: keep one", column=1)
        if not correct:
            report(options[0].line, f"{label} has no correct option: mark the right one with '- [x]'", column=1)
        elif len(correct) > 1:
            where = ", ".join(f"{c.letter} (line {c.line})" for c in correct)
            report(correct[1].line, f"{label} has {len(correct)} correct options ({where}): mark exactly one with '- [x]'", column=1)
        if len(options) < 2:
            report(options[0].line, f"{label} has only one option: a multiple-choice card needs at least two", column=1)
    elif answer is None or not answer.text:
        line = answer.line - 1 if answer is not None else start + 1
        report(line, f"{label} has no answer: add an '### Answer' section or a '- [x]' option list")
    if explanation is None or not explanation.text:
        line = explanation.line - 1 if explanation is not None else start + 1
        report(line, f"{label} has no explanation: add an '### Explanation' section with text")

    return Card(
        id=card_id,
        title=title,
        path=path,
        line=start + 1,
        deck=deck,
        question=question,
        options=tuple(options),
        answer=answer,
        explanation=explanation,
        references=sections.get("references"),
        tags=tuple(tags),
        id_column=id_column,
    )


def _section(body: list[str], body_line0: int, first: int, end: int) -> Section:
    """The text of lines [first, end) (file indices), trimmed of blank lines."""
    chunk = body[first - body_line0 : end - body_line0]
    lead = 0
    while lead < len(chunk) and not chunk[lead].strip():
        lead += 1
    tail = len(chunk)
    while tail > lead and not chunk[tail - 1].strip():
        tail -= 1
    return Section("\n".join(chunk[lead:tail]), first + lead + 1)


def _intro(body, body_line0, intro_end, mask, report, label):
    """Question text and options from the lines between the heading and the first ###."""
    idx = range(0, intro_end - body_line0)
    first_opt = next((k for k in idx if not mask[k] and _OPTION_RE.match(body[k])), None)
    if first_opt is None:
        return _section(body, body_line0, body_line0, intro_end), [], None
    question = _section(body, body_line0, body_line0, body_line0 + first_opt)
    options: list[Option] = []
    extra = None
    k = first_opt
    last = intro_end - body_line0
    current: list[str] | None = None
    cur_line = 0
    cur_correct = False

    def flush():
        if current is not None:
            text = "\n".join(current).strip()
            letter = chr(ord("A") + len(options)) if len(options) < 26 else f"#{len(options) + 1}"
            options.append(Option(letter, text, cur_correct, cur_line))

    while k < last:
        line = body[k]
        om = _OPTION_RE.match(line) if not mask[k] else None
        if om:
            flush()
            current = [om.group(2) or ""]
            cur_line = body_line0 + k + 1
            cur_correct = om.group(1) in "xX"
            if not current[0].strip():
                report(cur_line, f"{label}: option {chr(ord('A') + len(options))} is empty: write its text after the box", column=1)
        elif not line.strip():
            pass
        elif line.startswith(("  ", "\t")) and current is not None:
            current.append(line.strip())
        elif _BULLET_RE.match(line):
            report(
                body_line0 + k + 1,
                f"{label}: list item without '[ ]' or '[x]' inside the option list: mark it as an option or move it",
                WARNING,
                1,
            )
        else:
            extra = body_line0 + k + 1
            break
        k += 1
    flush()
    return question, options, extra
