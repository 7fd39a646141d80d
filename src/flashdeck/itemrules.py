"""The item-writing rules themselves, each with the threshold chosen for it from data.

itemcheck.py names the rules and runs them on a card; each function here
reads one card's plain text (itemtext.py) and returns its `Finding`s. The
thresholds, with the measurements each was chosen on, are in itemlimits.py.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass

from . import itemlang as lang
from . import itemtext as tx
from .errors import clip as _clip
from .itemlimits import ANSWER_COVERAGE, LONGEST_MIN_CHARS, LONGEST_RATIO, NEAR_DUPLICATE, STEM_REPEAT_MIN_WORDS
from .model import Card


@dataclass(frozen=True, slots=True)
class Finding:
    """One flaw in one card."""

    rule: str
    """The rule's name (`allow` for an allow directive that names no rule)."""
    line: int
    """1-based line of the offending option or word in the card's file."""
    column: int
    """1-based column of the offending option or word."""
    message: str
    """The whole author message: `card 'ID': what is wrong: how to fix it (silence …)`."""


# --- rules -----------------------------------------------------------------------------


def _silence(name: str) -> str:
    return f" (silence on purpose with <!-- flashdeck: allow {name} -->)"


def _finding(card: Card, rule: str, where: tuple[int, int], flaw: str, fix: str) -> Finding:
    line, column = where
    return Finding(rule, line, column, f"{card.label}: {flaw}: {fix}{_silence(rule)}")


def _letter(card: Card, index: int) -> str:
    return card.options[index].letter


def longest_option(card: Card, options: list[tx.Text], key: int) -> list[Finding]:
    lengths = [len(o.plain) for o in options]
    others = [n for i, n in enumerate(lengths) if i != key]
    if not others:
        return []
    longest = max(others)
    if lengths[key] < longest * LONGEST_RATIO or lengths[key] - longest < LONGEST_MIN_CHARS:
        return []
    span = f"{min(others)}–{longest}" if min(others) != longest else f"{longest}"
    letter = _letter(card, key)
    return [_finding(
        card, "longest-option", options[key].position(0),
        f"the correct option {letter} is clearly the longest ({lengths[key]} characters, the others {span}), "
        "so a test-wise learner can pick it for its length",
        f"make the options alike in length and detail (shorten {letter}, or give the distractors the same detail)",
    )]


_ALL_NONE = re.compile(
    r"\b(?:all|none|neither)\s+of\s+(?:the\s+)?(?:above|these|those|(?:the\s+)?(?:options|answers|choices|others)"
    r"(?:\s+(?:above|listed|given))?|preceding)\b"
    r"|\b(?:all|none)\s+(?:the\s+)?above\b"
    r"|\bboth\s+of\s+(?:the\s+)?above\b",
    re.IGNORECASE,
)
# An option made only of option letters: "A and B", "Both A and C", "B, C and D are correct".
# Whole options only, and capital letters only, so "Vitamins D and E" or "A&E" stay options.
_LETTERS_ONLY = re.compile(
    r"(?:(?:[Bb]oth|[Oo]nly|[Oo]ptions?)\s+)?[A-H](?:\s*(?:,|and|or)\s*[A-H])+(?:\s+(?:are|is)\s+(?:correct|true|right))?\.?"
)


def all_none(card: Card, options: list[tx.Text]) -> list[Finding]:
    found = []
    for i, text in enumerate(options):
        m = _ALL_NONE.search(text.plain) or _LETTERS_ONLY.fullmatch(text.plain)
        if m is None:
            continue
        found.append(_finding(
            card, "all-none-of-the-above", text.position(m.start()),
            f"option {_letter(card, i)} is '{_clip(m.group())}', which a learner finds by spotting two true options "
            "(or one false one) instead of knowing the best answer",
            "replace it with one specific, plausible distractor",
        ))
    return found


def negative_lead_in(card: Card, stem: tx.Text) -> list[Finding]:
    found = lang.negative(stem)
    if found is None:
        return []
    start, m = found
    return [_finding(
        card, "negative-lead-in", stem.position(start + m.start()),
        f"the lead-in asks for a negative ('{m.group()}'), so the learner judges each option true or false "
        "and can misread the question",
        "ask for the single best answer instead, e.g. 'Which is the most likely cause?', "
        "with options that are all of one kind (in a vignette, ask what is most likely or most appropriate)",
    )]


def stem_repeated(card: Card, stem: tx.Text, options: list[tx.Text], key: int) -> list[Finding]:
    stem_keys = {w.key for w in tx.content(tx.words(stem))}
    key_words = tx.content(tx.words(options[key]))
    elsewhere = {w.key for i, o in enumerate(options) if i != key for w in tx.words(o)}

    def in_distractors(k: str) -> bool:
        # A word of five letters or more also counts inside a longer one: insulin in Insulinoma.
        return k in elsewhere or (len(k) >= 5 and any(k in other for other in elsewhere))

    repeated = [w for w in key_words if w.key in stem_keys and not in_distractors(w.key)]
    if len({w.key for w in repeated}) < STEM_REPEAT_MIN_WORDS:
        return []
    text = options[key]
    # Name the repeated words as phrases: runs of neighbouring words in the key.
    phrases: list[str] = []
    by_start = {w.start: w for w in repeated}
    all_words = list(tx.words(text))
    run: list[tx.Word] = []
    for w in all_words + [None]:
        if w is not None and w.start in by_start:
            run.append(w)
            continue
        if run:
            phrases.append(text.plain[run[0].start : run[-1].start + len(run[-1].text)])
            run = []
    shown = ", ".join(f"'{p}'" for p in dict.fromkeys(phrases))
    letter = _letter(card, key)
    return [_finding(
        card, "stem-repeated-in-key", text.position(repeated[0].start),
        f"{shown} from the stem comes back in the correct option {letter} and in no other option, which points to it",
        f"reword option {letter}, or let some distractors use the same words",
    )]


_ABSOLUTE = frozenset(
    "always never only all none every everyone everything nothing nobody must invariably entirely completely exclusively absolutely".split()
)


def absolute_terms(card: Card, options: list[tx.Text], key: int) -> list[Finding]:
    def absolutes(text: tx.Text) -> list[re.Match]:
        spared = [m.span() for m in _ALL_NONE.finditer(text.plain)]  # all-none-of-the-above's business
        return [
            m for m in tx.WORD.finditer(text.plain)
            if m.group().lower() in _ABSOLUTE and not any(a <= m.start() < b for a, b in spared)
        ]

    if absolutes(options[key]):
        return []  # the key is as absolute as the distractors: no cue
    found = []
    for i, text in enumerate(options):
        if i == key:
            continue
        hits = absolutes(text)
        if hits:
            found.append(_finding(
                card, "absolute-terms", text.position(hits[0].start()),
                f"option {_letter(card, i)} says '{hits[0].group()}', an absolute term the correct option lacks, "
                "so a test-wise learner rules it out",
                "qualify the distractor as the correct option is qualified, or drop the absolute term",
            ))
    return found


def duplicate_options(card: Card, options: list[tx.Text]) -> list[Finding]:
    found = []
    words = [lang.option_words(o) for o in options]
    squashed = [lang.squashed(o) for o in options]
    joined = [" ".join(w.key for w in ws) for ws in words]
    bags = [sorted(w.key for w in ws) for ws in words]  # the same words in another order are the same option
    reported: set[int] = set()
    counts: dict[int, Counter] = {}
    letters = [frozenset(j) for j in joined]
    for j in range(len(options)):
        for i in range(j):
            if i in reported or not options[j].plain:
                continue
            same = squashed[i] == squashed[j] or (bool(words[i]) and bags[i] == bags[j])
            if same:
                how = "says the same as"
            else:
                size = len(joined[i]) + len(joined[j])
                # 2 * shorter / both is an upper bound of the ratio (difflib's real_quick_ratio), and free.
                if not size or 2 * min(len(joined[i]), len(joined[j])) < NEAR_DUPLICATE * size:
                    continue
                # A character in one and not the other is one the two cannot share: also an upper bound, and cheaper.
                if size - len(letters[i] ^ letters[j]) < NEAR_DUPLICATE * size:
                    continue
                # difflib's quick_ratio (characters shared), on counts made once per option, before a SequenceMatcher.
                a, b = (counts.get(k) or counts.setdefault(k, Counter(joined[k])) for k in (i, j))
                if 2.0 * sum(min(n, b[c]) for c, n in a.items() if c in b) / size < NEAR_DUPLICATE:
                    continue
                matcher = difflib.SequenceMatcher(None, joined[i], joined[j], autojunk=False)
                if matcher.ratio() < NEAR_DUPLICATE or lang.differ(words[i], words[j]):
                    continue
                how = "is nearly the same as"
            reported.add(j)
            found.append(_finding(
                card, "duplicate-options", options[j].position(0),
                f"option {_letter(card, j)} ('{_clip(options[j].plain)}') {how} option {_letter(card, i)} "
                f"('{_clip(options[i].plain)}'), so the two stand or fall together and the choice shrinks",
                "make every option say something different (merge the two and add a distinct distractor)",
            ))
            break
    return found


def answer_in_question(card: Card, question: tx.Text, answer: tx.Text) -> list[Finding]:
    question = tx.without_code(question)
    share, shared = lang.answer_coverage(question, answer)
    if share < ANSWER_COVERAGE:
        return []
    # Point at the longest run of question words that the answer repeats.
    best: list[tx.Word] = []
    run: list[tx.Word] = []
    for w in tx.answer_content(tx.words(question)) + [None]:
        if w is not None and w.key in shared:
            run.append(w)
            continue
        if len(run) > len(best):
            best = run
        run = []
    phrase = question.plain[best[0].start : best[-1].start + len(best[-1].text)]
    return [_finding(
        card, "answer-in-question", question.position(best[0].start),
        f"the question already states the answer ('{_clip(phrase)}'), so the card is answered by rereading it",
        "remove the answer from the question, or ask about something the question does not say",
    )]


_FINAL_ARTICLE = re.compile(r"\b(a|an|A|An|AN)[\s:.…_-]*$")


def article_cue(card: Card, stem: tx.Text, options: list[tx.Text]) -> list[Finding]:
    m = _FINAL_ARTICLE.search(stem.plain)
    if m is None or not options:
        return []
    article = m.group(1).lower()
    misfits = [_letter(card, i) for i, o in enumerate(options) if lang.article(o.plain) not in (None, article)]
    if not misfits:
        return []
    other = "an" if article == "a" else "a"
    which = f"option {misfits[0]}" if len(misfits) == 1 else "options " + ", ".join(misfits[:-1]) + " and " + misfits[-1]
    return [_finding(
        card, "article-cue", stem.position(m.start(1)),
        f"the stem ends in '{m.group(1)}', but {which} would need '{other}', so grammar rules {'it' if len(misfits) == 1 else 'them'} out",
        "end the stem so that every option follows it, e.g. '…is most likely caused by which of the following?'",
    )]
