"""Every rule an author's cards must follow, and what to say when one is broken.

The parser records what it saw (`Card`, `Facts`, `scan.Split`); this module
judges it, before anything is rendered: per card (`card`, with the
item-writing checks of itemcheck.py), per file (filerules.py), across the cards
folder (`across`) and images once found (`images`); continuity.py holds the
rules against what learners already have. Every message names the place, the
card and how to fix it.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from . import cloze, letters, media, slug
from .errors import ERROR, WARNING, Diagnostic, clip, ref
from .model import CLOZE, Card, Placed, Section
from .parse import SECTIONS


def card(c: Card) -> list[Diagnostic]:
    """Every problem of one card on its own (lines as the card has them)."""
    out: list[Diagnostic] = []
    facts = c.facts

    def report(line: int, message: str, severity: str = ERROR, column: int | None = None, refs: tuple[int, ...] = ()) -> None:
        out.append(Diagnostic(c.path, line, message, severity, column, refs))

    name = f"card '{c.title or '(untitled)'}'"
    if facts.bad_id == "":
        report(c.line, f"{name} has an empty id '{{#}}': write an id between '{{#' and '}}' (letters, digits, '-', '_')", column=c.id_column)
    # (an id that is not valid is reported by `across`: a good suggestion must know every id in use)
    label = c.label
    if not c.title:
        report(c.line, f"{label} has an empty heading: write the card's title after '##'", column=1)
    for line, tag in facts.bad_tags:
        report(line, f"{label}: tag '{clip(tag)}' may not contain quotes: remove them", column=1)
    for line, text in facts.unknown_directives:
        report(line, f"{label}: '<!-- flashdeck:{clip(text, 30)}-->' is not a directive flashdeck knows: write '<!-- flashdeck: allow NAME -->', '<!-- flashdeck: shuffle -->' or '<!-- flashdeck: no-shuffle -->'", WARNING, 1)
    if c.empty:
        report(c.line, f"{label} has a heading but no body: add a question, an answer and an explanation, or remove the heading")
        return out
    for line, name in facts.unknown_sections:
        close = difflib.get_close_matches(name.lower().rstrip(":").strip(), SECTIONS, n=1, cutoff=0.7)
        fix = f"did you mean '### {close[0].title()}'?" if close else "use ### Answer, ### Explanation or ### References, or make it bold text"
        report(line, f"{label}: section '### {clip(name)}' is not part of the format and would be lost: {fix}", WARNING, 1)
    for line, name, first in facts.repeated_sections:
        report(line, f"{label} has a second '### {clip(name)}' section (the first is on line {ref(0)}): merge them", column=1, refs=(first,))
    if facts.option_like is not None:
        line, text = facts.option_like
        report(line, f"{label}: '{clip(text)}' is not an option the format knows and would show as text: write each option as '- [ ] text' and the correct one as '- [x] text'", WARNING, 1)
    for line in facts.stray_items:
        report(line, f"{label}: list item without '[ ]' or '[x]' inside the option list would be lost: mark it as an option or move it", WARNING, 1)
    if facts.text_after_options is not None:
        report(facts.text_after_options, f"{label}: text after the option list is not part of the format and would be lost: move it into the question (above the options) or into ### Explanation", WARNING, 1)

    _too_complex(c, report)
    headings = dict(facts.section_lines)
    if c.deletions or facts.cloze_problems:
        _cloze(c, headings, report)
    if c.kind != CLOZE and not (facts.cloze_problems and not c.options and c.answer is None):  # a cloze card gone wrong
        _answer(c, headings, report)
    if c.explanation is None:
        report(c.line, f"{label} has no explanation: add an '### Explanation' section with text")
    elif not c.explanation.text:
        report(headings["explanation"], f"{label} has an empty '### Explanation' section: write the explanation below it", column=1)
    if c.shuffle and c.options and c.explanation is not None and (found := letters.shuffle_warning(label, c.explanation.text)):
        report(c.explanation.line + found[0], found[2], WARNING, found[1])
    if not c.deletions:  # (the item-writing checks read questions with answers, not cloze sentences)
        # (imported here: a big build checks its cards in worker processes, and its own process, which
        # imports this module for the checks across cards, never loads the item-writing checks)
        from . import itemcheck

        out += itemcheck.diagnostics(c)
    return out


MAX_BRACKETS = 1000
"""'[' in one part of a card. Python-Markdown matches each '[' against the rest of the text: 1,000
'[a](' take 0.35 s, 8,000 take 37 s (measured on the benchmark machine). No card needs that many links."""
MAX_LOOSE_TAGS = 200
"""'<' that start a tag but never end it before the next '<'. Python's HTML parser (before 3.13.5)
rescans the rest of the text from each: 3,000 '<img ' take 3 s. Python-Markdown shows them as text anyway."""
_LOOSE_TAG_RE = re.compile(r"<[A-Za-z/!][^<>]*(?=<|\Z)")


def _too_complex(c: Card, report) -> None:
    """Text no card needs and Python-Markdown would take minutes on: an error, so a shared deck cannot hang a build."""
    parts = [("question", c.question), ("answer", c.answer), ("explanation", c.explanation), ("references", c.references)]
    parts += [(f"option {o.letter}", Section(o.text, o.line)) for o in c.options]
    for name, section in parts:
        if section is None:
            continue
        text = section.text
        brackets = text.count("[")
        if brackets > MAX_BRACKETS:
            report(section.line, f"{c.label}: the {name} holds {brackets:,} '[', more than the {MAX_BRACKETS:,} Markdown can read in reasonable time, so the card is not rendered: split the text, or write literal brackets as '\\['", column=1)
        elif text.count("<") > MAX_LOOSE_TAGS and sum(1 for _ in _LOOSE_TAG_RE.finditer(text)) > MAX_LOOSE_TAGS:
            loose = sum(1 for _ in _LOOSE_TAG_RE.finditer(text))
            report(section.line, f"{c.label}: the {name} holds {loose:,} '<' that open a tag and never close it, more than the {MAX_LOOSE_TAGS} that can be read in reasonable time, so the card is not rendered: write a literal '<' as '&lt;'", column=1)


def _answer(c: Card, headings: dict[str, int], report) -> None:
    label = c.label
    if c.options:
        for o in c.options:
            if not o.text:
                report(o.line, f"{label}: option {o.letter} is empty: write its text after the box", column=1)
        correct = c.correct_options
        if c.answer is not None:
            report(headings["answer"], f"{label} has both options and an '### Answer' section: keep one (a multiple-choice answer is its '- [x]' option)", column=1)
        if not correct:
            report(c.options[0].line, f"{label} has no correct option: mark the right one with '- [x]'", column=1)
        elif len(correct) > 1:
            where = ", ".join(f"{o.letter} on line {ref(k)}" for k, o in enumerate(correct))
            report(correct[1].line, f"{label} has {len(correct)} correct options ({where}): mark exactly one with '- [x]', the others with '- [ ]'", column=1, refs=tuple(o.line for o in correct))
        if len(c.options) < 2:
            report(c.options[0].line, f"{label} has only one option: a multiple-choice card needs at least two", column=1)
    elif c.answer is None:
        report(c.line, f"{label} has no answer: add an '### Answer' section or a '- [x]' option list")
    elif not c.answer.text:
        report(headings["answer"], f"{label} has an empty '### Answer' section: write the answer below it", column=1)


_CLOZE_MESSAGES = {
    cloze.UNCLOSED: "cloze deletion '{text}' is never closed: end it with '}}}}'",
    cloze.EMPTY: "cloze deletion '{text}' hides nothing: write the hidden text after '::'",
    cloze.ZERO: "cloze deletion '{text}' is numbered 0: numbers start at c1",
    cloze.IN_CODE: "cloze deletion '{text}' is inside code, where Anki would hide it too and break the code: move the deletion out of the code",
    cloze.LOOKALIKE: "'{text}' looks like a cloze deletion but is not one: write '{{{{c1::text}}}}' (two colons)",
    cloze.NESTED: "cloze deletion '{text}' holds another deletion, which flashdeck does not support: write the deletions side by side",
}


def _cloze(c: Card, headings: dict[str, int], report) -> None:
    label = c.label
    for line, column, problem, text in c.facts.cloze_problems:
        severity = WARNING if problem == cloze.LOOKALIKE else ERROR
        report(line, f"{label}: " + _CLOZE_MESSAGES[problem].format(text=clip(text, 30)), severity, column)
    if not c.deletions:
        return
    first = c.deletions[0]
    if c.options:
        report(first.line, f"{label} has cloze deletions and an option list: a card is either multiple choice or cloze; remove one", column=first.column)
    if c.answer is not None:
        report(headings["answer"], f"{label} has cloze deletions and an '### Answer' section: a cloze card's answer is its deletions; remove the section", column=1)
    numbers = cloze.numbers(c.deletions)
    missing = [n for n in range(1, numbers[-1] + 1) if n not in numbers]
    if missing and not c.facts.cloze_problems:  # (a deletion written wrong leaves a gap of its own)
        gaps = ", ".join(f"c{n}" for n in missing)
        report(first.line, f"{label}: cloze numbers skip {gaps}: number deletions c1, c2, … without gaps (learners' cards are per number, so renumber only before the first release)", WARNING, first.column)


def across(cards: list[Placed], cards_dir: Path, used: set[str] = frozenset()) -> list[Diagnostic]:
    """Rules over the whole cards folder: every card has a valid id, and no two share one.

    `used` are the ids the lock knows (retired ones too): never suggested for another card.
    """
    out = []
    seen: dict[str, Placed] = {}
    taken = set(used) | {p.result.id for p in cards if p.result.id}
    for p in cards:
        r = p.result
        if r.bad_id:
            better = slug.fix(r.bad_id, r.title, taken)
            taken.add(better)
            out.append(Diagnostic(p.path, p.line, (
                f"card '{r.title or '(untitled)'}': id '{clip(r.bad_id)}' may only use letters, digits, '-' and '_': write it as '{{#{better}}}'"
            ), ERROR, r.id_column))
        if r.id is None:
            if r.id_column is None:  # an invalid id was already reported
                label = f"card '{r.title or '(untitled)'}'"
                out.append(Diagnostic(p.path, p.line, f"{label} has no id: end the heading with '{{#some-id}}' or run 'flashdeck ids --write {cards_dir}'", ERROR))
            continue
        first = seen.get(r.id)
        if first is not None:
            out.append(Diagnostic(
                p.path, p.line,
                f"card id '{r.id}' of '{r.title}' is already used by '{first.result.title}' at {first.path}:{first.line}: "
                f"ids must be unique across '{cards_dir}'; give one of them a new id",
                ERROR, r.id_column,
            ))
        else:
            seen[r.id] = p
    return out


def packages(names_with_cards: set[str], folders: dict[str, Path], cards_dir: Path, any_cards: bool, any_error: bool) -> list[Diagnostic]:
    """A warning for each top-level folder without cards; an error when the cards folder has none at all."""
    out = [
        Diagnostic(folder, 0, f"folder has no cards, so {name}.apkg would be empty: add cards ('## Title {{#id}}') to its files or remove the folder", WARNING)
        for name, folder in sorted(folders.items())
        if name not in names_with_cards
    ]
    if not any_cards and not any_error:
        out.append(Diagnostic(cards_dir, 0, f"no cards found in '{cards_dir}': add a Markdown file with '## Title {{#id}}' cards"))
    return out


def images(c: Placed, found: list, source: list[tuple[int, str]], cards_dir: Path) -> list[Diagnostic]:
    """A located error for each image a card shows that cannot be packaged (media.resolve), a warning for a big one."""
    out = []
    label = f"card '{c.result.id}'" if c.result.id else f"card '{c.result.title}'"
    for img in found:
        line, column = media.locate(source, img.src)
        line = line or c.line
        ref = clip(media.written(img.src), 60)
        if img.status == media.REMOTE:
            message = f"{label}: image '{ref}' is not a local file and would not show offline: save it beside the card file and link it by relative path"
        elif img.status == media.OUTSIDE:
            message = f"{label}: image '{ref}' lies outside the cards folder '{cards_dir}': move the image into it and link it by a path that stays inside"
        elif img.status == media.MISSING:
            message = f"{label}: image '{ref}' not found at {img.path}: fix the path (it is relative to {c.path.name}) or add the image there"
        elif img.status == media.TOO_BIG:
            message = (
                f"{label}: image '{ref}' is {img.size / 2**20:.0f} MiB, more than Anki's media sync carries "
                f"({media.MAX_BYTES // 2**20} MiB), so learners who sync would never get it: make it smaller"
            )
        elif img.size > media.WARN_BYTES:
            out.append(Diagnostic(c.path, line, (
                f"{label}: image '{ref}' is {img.size / 2**20:.1f} MiB: every learner's phone downloads and stores it; "
                f"make it smaller than {media.WARN_BYTES / 2**20:.1f} MiB (a screen-sized PNG or JPEG is far below that)"
            ), WARNING, column))
            continue
        else:
            continue
        out.append(Diagnostic(c.path, line, message, ERROR, column))
    return out
