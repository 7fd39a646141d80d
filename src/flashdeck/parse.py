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

Every pass is linear in the size of the file and no regular expression here
can backtrack over a whole line more than once: a shared deck may hold
anything, and `flashdeck check` must neither hang nor crash on it.
"""

from __future__ import annotations

import bisect
import difflib
import re
from pathlib import Path

from .errors import ERROR, WARNING, CardError, Diagnostic
from .letters import shuffle_warning
from .model import Card, Option, Section, SourceFile

FRONT_MATTER_KEYS = ("deck", "tags", "shuffle")
SECTIONS = ("answer", "explanation", "references")

ID_RE = re.compile(r"[A-Za-z0-9_-]+")
_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_FENCE_CLOSE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})[ \t]*$")
_OPTION_RE = re.compile(r"^ {0,3}[-*+][ \t]+\[([ xX])\](?:[ \t]+(.*))?$")
_OPTION_LIKE_RE = re.compile(r"^ {0,3}(?:[-*+]|\d{1,9}[.)])[ \t]*[\[(][ \txX*vV.\u2713\u2714\u2717_-]{0,3}[\])](?![(\[:])")
_BULLET_RE = re.compile(r"^ {0,3}[-*+][ \t]+")
_NO_SPACE_H2_RE = re.compile(r"^ {0,3}##[^#\s]")
_TAGS_RE = re.compile(r"^tags:[ \t]*(.*)$", re.IGNORECASE)
_TAG_RE = re.compile(r"^[^\s\"',]+$")
_KEY_RE = re.compile(r"^([A-Za-z_][\w-]*)[ \t]*:(.*)$")
_BOM = b"\xef\xbb\xbf"
# `<!-- flashdeck: allow NAME -->`, `<!-- flashdeck: shuffle -->`: the only comments that mean
# something. Bounded so that an unclosed one cannot make the search rescan the card.
_DIRECTIVE_RE = re.compile(r"<!--[ \t\n]*flashdeck:([^>]{0,500}?)-->")
DIRECTIVES = ("allow", "shuffle", "no-shuffle")
_BOOLEANS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}


def read_source(path: Path) -> str:
    """The text of a card file: UTF-8 (a BOM is accepted), CRLF/CR turned into LF."""
    data = path.read_bytes()
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise CardError(path, 0, "file is UTF-16, not UTF-8: save it again as UTF-8") from None
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        # Count characters, not bytes, so the column matches what an editor shows.
        col = len(data[line_start : exc.start].decode("utf-8", errors="replace")) + 1
        raise CardError(
            path,
            line,
            f"file is not UTF-8 (byte 0x{data[exc.start]:02x} here is not valid UTF-8): "
            "save the file again with UTF-8 encoding",
            col,
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse(text: str, path: Path, default_deck: str) -> tuple[SourceFile, list[Diagnostic]]:
    """Parse the text of one card file.

    Returns the file's cards and every problem found (errors and warnings).
    `default_deck` is used when the front matter names no deck.
    """
    lines = text.split("\n")
    diags: list[Diagnostic] = []

    def report(line: int, message: str, severity: str = ERROR, column: int | None = None) -> None:
        diags.append(Diagnostic(path, line, message, severity, column))

    if not text.strip():
        report(0, "file is empty: write cards in it ('## Title {#id}', a question, '### Answer', '### Explanation') or delete it", WARNING)
        return SourceFile(path, default_deck, ()), diags

    meta, body_start = _front_matter(lines, report)
    deck = meta.get("deck") or default_deck
    file_tags = meta.get("tags") or ()
    file_shuffle = meta.get("shuffle", False)
    visible, code, scan_problems = _scan(lines, body_start)

    starts = [i for i in range(body_start, len(lines)) if not code[i] and _atx(visible[i], 2) is not None]
    labels = [_label_of(visible[i]) for i in starts]

    def card_prefix(index: int) -> str:
        k = bisect.bisect_right(starts, index) - 1
        return f"{labels[k]}: " if k >= 0 else ""

    for index, column, message, severity in scan_problems:
        report(index + 1, card_prefix(index) + message, severity, column)

    lookalikes = set()  # lines already reported as almost a card heading
    for i in range(body_start, len(lines)):
        if code[i]:
            continue
        line = visible[i]
        if _NO_SPACE_H2_RE.match(line):
            report(i + 1, f"{card_prefix(i)}'{_clip(line.strip())}' is not a card heading: put a space after '##' ('## Title {{#id}}')", WARNING, 1)
            lookalikes.add(i)
            continue
        h1 = _atx(line, 1)
        if h1 is not None and _split_id(h1[0])[1] is not None:
            report(i + 1, f"{card_prefix(i)}'{_clip(line.strip())}' is a level-1 heading, not a card: start cards with '## '", WARNING, 1)
            lookalikes.add(i)

    preamble_end = starts[0] if starts else len(lines)
    for i in range(body_start, preamble_end):
        if not code[i] and (not visible[i].strip() or _atx(visible[i], 1) is not None) and i not in lookalikes:
            continue  # blank, a comment, or a file title (for people reading the source)
        if i in lookalikes:
            break
        if starts:
            message = "text before the first card belongs to no card and would be lost: move it into a card or into an HTML comment (<!-- … -->)"
        else:
            message = "file has no cards, so this text would be lost: start each card with '## Title {#id}'"
        report(i + 1, message, WARNING)
        break
    else:
        if not starts:
            report(0, "file has no cards: start each card with '## Title {#id}'", WARNING)

    cards: list[Card] = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        card = _card(visible, code, start, end, path, deck, file_tags, report, lines, file_shuffle)
        if card is not None:
            cards.append(card)
    return SourceFile(path, deck, tuple(cards)), diags


def _clip(s: str, width: int = 40) -> str:
    return s if len(s) <= width else s[: width - 1] + "…"


def _atx(line: str, level: int) -> tuple[str, int] | None:
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


def _split_id(title: str) -> tuple[str, str | None, int | None]:
    """(title without id, id as written or None, index of '{#' in `title`)."""
    t = title.rstrip()
    if not t.endswith("}"):
        return title, None, None
    k = t.rfind("{#")
    if k < 0 or "}" in t[k + 2 : -1]:
        return title, None, None
    return t[:k].rstrip(), t[k + 2 : -1].strip(), k


def _label_of(heading: str) -> str:
    title, candidate, _ = _split_id(_atx(heading, 2)[0])
    if candidate and ID_RE.fullmatch(candidate):
        return f"card '{candidate}'"
    return f"card '{title or '(untitled)'}'"


def _front_matter(lines: list[str], report) -> tuple[dict, int]:
    if lines[0].strip() != "---":
        return {}, 0
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            break
    else:
        report(1, "front matter opened with '---' is never closed: add a '---' line after its last 'key: value' line", column=1)
        # Its lines are not a card's either: the body starts at the first card heading.
        return {}, next((i for i in range(1, len(lines)) if _atx(lines[i], 2) is not None), len(lines))
    meta: dict = {}
    i = 1
    while i < end:
        raw = lines[i]
        if not raw.strip() or raw.lstrip().startswith("#"):
            i += 1
            continue
        m = _KEY_RE.match(raw)
        if not m:
            report(i + 1, f"malformed front matter line '{_clip(raw.strip())}': write 'key: value' (known keys: {', '.join(FRONT_MATTER_KEYS)})", column=1)
            i += 1
            continue
        key, value = m.group(1), m.group(2).strip()
        lineno = i + 1
        i += 1
        if not value:  # a block list follows: "- item" lines
            items = []
            while i < end and re.match(r"^\s*-\s+", lines[i]):
                items.append(re.sub(r"^\s*-\s+", "", lines[i]).strip())
                i += 1
            value_list: list[str] | None = items
        else:
            value_list = None
        if key not in FRONT_MATTER_KEYS:
            close = difflib.get_close_matches(key.lower(), FRONT_MATTER_KEYS, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(FRONT_MATTER_KEYS)}"
            report(lineno, f"unknown front matter key '{key}' is ignored; {hint}", WARNING, 1)
            continue
        if key in meta:
            report(lineno, f"front matter key '{key}' appears twice: keep one", column=1)
            continue
        if key == "shuffle":
            flag = _BOOLEANS.get(_unquote(value).lower()) if value_list is None else None
            if flag is None:
                report(lineno, f"front matter 'shuffle' must be true or false, not '{_clip(value)}'", column=1)
                continue
            meta["shuffle"] = flag
            continue
        if key == "deck":
            deck = _unquote(value) if value_list is None else ""
            if not deck:
                report(lineno, "front matter 'deck' must be a deck name such as 'Nephrology::Hypomagnesemia'", column=1)
                continue
            parts = [p.strip() for p in deck.split("::")]
            if any(not p for p in parts):
                report(lineno, f"deck name '{deck}' has an empty part between '::': write 'Parent::Child'", column=1)
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
                    report(lineno, f"tag '{tag}' may not contain spaces, quotes or commas: use '_' or '::' instead of spaces", column=1)
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


def _scan(lines: list[str], start: int) -> tuple[list[str], list[bool], list[tuple[int, int, str, str]]]:
    """Code fences and HTML comments from line index `start` on.

    Returns the lines with comments outside code blanked out (comments are
    where authors note sources and corrections; they never reach a card, and
    blanking instead of deleting keeps every line number right), a mask of the
    lines inside fenced code (fence lines included), and problems found as
    (line index, column, message, severity).

    A fence that is never closed is not a fence: Python-Markdown renders it as
    text, so headings below it still start cards. A comment that is never
    closed would hide the rest of the file, so it is an error.
    """
    n = len(lines)
    visible = list(lines)
    code = [False] * n
    problems: list[tuple[int, int, str, str]] = []
    # Closing-fence candidates per fence character, and the longest one from
    # each position on: finding an opener's closer stays linear overall.
    closers: dict[str, list[tuple[int, int]]] = {"`": [], "~": []}
    for i in range(start, n):
        m = _FENCE_CLOSE_RE.match(lines[i])
        if m:
            closers[m.group(1)[0]].append((i, len(m.group(1))))
    longest = {}
    for c, found in closers.items():
        suffix = [0] * (len(found) + 1)
        for k in range(len(found) - 1, -1, -1):
            suffix[k] = max(suffix[k + 1], found[k][1])
        longest[c] = suffix
    pointer = {"`": 0, "~": 0}

    comment_at: tuple[int, int] | None = None
    i = start
    while i < n:
        line = lines[i]
        if comment_at is None:
            m = _FENCE_RE.match(line)
            if m and not (m.group(1)[0] == "`" and "`" in m.group(2)):
                c, size = m.group(1)[0], len(m.group(1))
                found, k = closers[c], pointer[c]
                while k < len(found) and found[k][0] <= i:
                    k += 1
                if longest[c][k] >= size:
                    while found[k][1] < size:
                        k += 1
                    close = found[k][0]
                    pointer[c] = k + 1
                    for j in range(i, close + 1):
                        code[j] = True
                    i = close + 1
                    continue
                pointer[c] = k
                fence = m.group(1)
                problems.append((i, line.index(fence) + 1, f"code fence '{fence}' is never closed, so it shows as text: close it with a '{fence}' line", WARNING))
        visible[i], comment_at = _blank_comments(line, i, comment_at)
        i += 1
    if comment_at is not None:
        ci, cc = comment_at
        problems.append((ci, cc, "HTML comment '<!--' is never closed and hides everything below it: close it with '-->'", ERROR))
    return visible, code, problems


def _blank_comments(line: str, index: int, comment_at: tuple[int, int] | None) -> tuple[str, tuple[int, int] | None]:
    """`line` without its HTML comments; `comment_at` is where an open comment began.

    Backtick code spans are skipped, so `<!--` written as code stays.
    """
    if comment_at is None and "<!--" not in line:
        return (line if line.strip() else ""), None
    out = []
    pos = 0
    size = len(line)
    unmatched: set[int] = set()  # run lengths with no closing run later: never search twice
    while pos < size:
        if comment_at is not None:
            close = line.find("-->", pos)
            if close < 0:
                pos = size
                break
            comment_at = None
            pos = close + 3
            continue
        opening = line.find("<!--", pos)
        tick = line.find("`", pos)
        if tick >= 0 and (opening < 0 or tick < opening):
            run_end = tick
            while run_end < size and line[run_end] == "`":
                run_end += 1
            run = run_end - tick
            close = line.find("`", run_end) if run not in unmatched else -1
            while close >= 0:
                close_end = close
                while close_end < size and line[close_end] == "`":
                    close_end += 1
                if close_end - close == run:
                    break
                close = line.find("`", close_end)
            if close < 0:
                unmatched.add(run)
            stop = close + run if close >= 0 else run_end
            out.append(line[pos:stop])
            pos = stop
            continue
        if opening < 0:
            out.append(line[pos:])
            break
        out.append(line[pos:opening])
        comment_at = (index, opening + 1)
        pos = opening + 4
    joined = "".join(out)
    return (joined if joined.strip() else ""), comment_at


def _directives(raw, code, start, end, label, report) -> tuple[bool | None, frozenset[str]]:
    """The card's `<!-- flashdeck: … -->` comments: (its shuffle setting or None, checks it allows)."""
    shuffle = None
    allow: set[str] = set()
    text = "\n".join("" if code[i] else raw[i] for i in range(start, end))
    if "flashdeck:" not in text:
        return shuffle, frozenset()
    for m in _DIRECTIVE_RE.finditer(text):
        line = start + 1 + text.count("\n", 0, m.start())
        words = m.group(1).replace(",", " ").split()
        name, args = (words[0].lower(), words[1:]) if words else ("", [])
        if name == "allow" and args:
            allow.update(a.lower() for a in args)
        elif name in ("shuffle", "no-shuffle") and not args:
            shuffle = name == "shuffle"
        else:
            report(line, f"{label}: '<!-- flashdeck:{_clip(m.group(1), 30)}-->' is not a directive flashdeck knows: write '<!-- flashdeck: allow NAME -->', '<!-- flashdeck: shuffle -->' or '<!-- flashdeck: no-shuffle -->'", WARNING, 1)
    return shuffle, frozenset(allow)


def _card(lines, code, start, end, path, deck, file_tags, report, raw=None, file_shuffle=False) -> Card | None:
    heading = lines[start]
    content, offset = _atx(heading, 2)
    title, candidate, id_at = _split_id(content)
    card_id = None
    id_column = None
    if candidate is not None:
        id_column = offset + id_at + 1
        if ID_RE.fullmatch(candidate):
            card_id = candidate
        elif not candidate:
            report(start + 1, f"card '{title or '(untitled)'}' has an empty id '{{#}}': write an id between '{{#' and '}}' (letters, digits, '-', '_')", column=id_column)
        else:
            better = re.sub(r"[^A-Za-z0-9_-]+", "-", candidate).strip("-") or "card-1"
            report(start + 1, f"card '{title or '(untitled)'}': id '{candidate}' may only use letters, digits, '-' and '_': write it as '{{#{better}}}'", column=id_column)
    label = f"card '{card_id}'" if card_id else f"card '{title or '(untitled)'}'"
    if not title:
        report(start + 1, f"{label} has an empty heading: write the card's title after '##'", column=1)

    mask = code[start + 1 : end]
    # Per-card tags line, anywhere in the card outside code.
    tags = list(file_tags)
    body = lines[start + 1 : end]
    for k, line in enumerate(body):
        if mask[k]:
            continue
        tm = _TAGS_RE.match(line.strip())
        if tm and not _BULLET_RE.match(line):
            for tag in re.split(r"[,\s]+", tm.group(1).strip()):
                if not tag:
                    continue
                if not _TAG_RE.match(tag):
                    report(start + 2 + k, f"{label}: tag '{tag}' may not contain quotes: remove them", column=1)
                elif tag not in tags:
                    tags.append(tag)
            body[k] = ""

    if not any(line.strip() for line in body):
        report(start + 1, f"{label} has a heading but no body: add a question, an answer and an explanation, or remove the heading")
        return None

    h3 = [start + 1 + k for k, line in enumerate(body) if not mask[k] and _atx(line, 3) is not None]
    intro_end = h3[0] if h3 else end
    sections: dict[str, Section] = {}
    heading_line: dict[str, int] = {}
    for n, h in enumerate(h3):
        s_end = h3[n + 1] if n + 1 < len(h3) else end
        name = _atx(lines[h], 3)[0]
        key = name.lower()
        content = _section(body, start + 1, h + 1, s_end)
        if key not in SECTIONS:
            close = difflib.get_close_matches(key.rstrip(":").strip(), SECTIONS, n=1, cutoff=0.7)
            fix = f"did you mean '### {close[0].title()}'?" if close else "use ### Answer, ### Explanation or ### References, or make it bold text"
            report(h + 1, f"{label}: section '### {_clip(name)}' is not part of the format and would be lost: {fix}", WARNING, 1)
            continue
        if key in sections:
            report(h + 1, f"{label} has a second '### {name}' section (the first is on line {heading_line[key]}): merge them", column=1)
            continue
        sections[key] = content
        heading_line[key] = h + 1

    question, options, extra = _intro(body, mask, start + 1, intro_end, report, label)
    if extra is not None:
        report(
            extra,
            f"{label}: text after the option list is not part of the format and would be lost: "
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
            report(heading_line["answer"], f"{label} has both options and an '### Answer' section: keep one (a multiple-choice answer is its '- [x]' option)", column=1)
        if not correct:
            report(options[0].line, f"{label} has no correct option: mark the right one with '- [x]'", column=1)
        elif len(correct) > 1:
            where = ", ".join(f"{c.letter} on line {c.line}" for c in correct)
            report(correct[1].line, f"{label} has {len(correct)} correct options ({where}): mark exactly one with '- [x]', the others with '- [ ]'", column=1)
        if len(options) < 2:
            report(options[0].line, f"{label} has only one option: a multiple-choice card needs at least two", column=1)
    elif answer is None:
        report(start + 1, f"{label} has no answer: add an '### Answer' section or a '- [x]' option list")
    elif not answer.text:
        report(heading_line["answer"], f"{label} has an empty '### Answer' section: write the answer below it", column=1)
    if explanation is None:
        report(start + 1, f"{label} has no explanation: add an '### Explanation' section with text")
    elif not explanation.text:
        report(heading_line["explanation"], f"{label} has an empty '### Explanation' section: write the explanation below it", column=1)

    shuffle, allow = _directives(raw if raw is not None else lines, code, start, end, label, report)
    shuffle = file_shuffle if shuffle is None else shuffle
    if shuffle and options and explanation is not None and (found := shuffle_warning(label, explanation.text)):
        report(explanation.line + found[0], found[2], WARNING, found[1])
    return Card(
        shuffle=shuffle,
        allow=allow,
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
    """The text of lines [first, end) (file indices), trimmed of blank lines.

    An empty section sits on the line after its heading.
    """
    chunk = body[first - body_line0 : end - body_line0]
    lead = 0
    while lead < len(chunk) and not chunk[lead].strip():
        lead += 1
    if lead == len(chunk):
        return Section("", first + 1)
    tail = len(chunk)
    while tail > lead and not chunk[tail - 1].strip():
        tail -= 1
    return Section("\n".join(chunk[lead:tail]), first + lead + 1)


def _intro(body, mask, body_line0, intro_end, report, label):
    """Question text and options from the lines between the heading and the first ###."""
    last = intro_end - body_line0
    first_opt = next((k for k in range(last) if not mask[k] and _OPTION_RE.match(body[k])), None)
    question_end = last if first_opt is None else first_opt
    for k in range(question_end):
        if not mask[k] and _OPTION_LIKE_RE.match(body[k]):
            report(
                body_line0 + k + 1,
                f"{label}: '{_clip(body[k].strip())}' is not an option the format knows and would show as text: "
                "write each option as '- [ ] text' and the correct one as '- [x] text'",
                WARNING,
                1,
            )
            break
    if first_opt is None:
        return _section(body, body_line0, body_line0, intro_end), [], None
    question = _section(body, body_line0, body_line0, body_line0 + first_opt)
    options: list[Option] = []
    extra = None
    k = first_opt
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
        elif not mask[k] and _BULLET_RE.match(line):
            report(
                body_line0 + k + 1,
                f"{label}: list item without '[ ]' or '[x]' inside the option list would be lost: mark it as an option or move it",
                WARNING,
                1,
            )
        else:
            extra = body_line0 + k + 1
            break
        k += 1
    flush()
    return question, options, extra
