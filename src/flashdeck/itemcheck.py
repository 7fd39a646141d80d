"""Item-writing checks: flaws that let a learner pick the right option without knowing the medicine.

The NBME's item-writing guide ("Constructing Written Test Questions for the Basic and
Clinical Sciences") lists technical flaws that cue the test-wise examinee or add
irrelevant difficulty. A deck full of them trains test-wiseness, not knowledge. Each
rule in `RULES` catches one of them from the card's Markdown alone.

`check(card)` is pure: it reads one card's question, options and answer (Markdown, with
their line numbers), never another card or a file, and returns `Finding`s. A card can
silence a rule on purpose with `<!-- flashdeck: allow NAME -->`; an allow that names no
rule is itself a finding.

False alarms cost as much as misses: an author who learns to ignore the warnings misses
the real ones. Every threshold (itemlimits.py) was chosen on two item sets kept with the tests,
tests/fixtures/items/sound (well-written items that must pass untouched) and
tests/fixtures/items/flawed (items with one flaw each); bench/item_thresholds.py prints
the measurements quoted at each threshold.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from . import itemtext as tx
from .errors import WARNING, Diagnostic
from .itemrules import (
    Finding,
    absolute_terms,
    all_none,
    answer_in_question,
    article_cue,
    duplicate_options,
    longest_option,
    negative_lead_in,
    stem_repeated,
)
from .model import Card


@dataclass(frozen=True, slots=True)
class Rule:
    """One item-writing check, as the README lists it."""

    name: str
    """What `<!-- flashdeck: allow NAME -->` names."""
    rationale: str
    """One line: why the flaw matters."""
    example: str
    """A flawed item in one line."""


RULES: tuple[Rule, ...] = (
    Rule(
        "longest-option",
        "a correct option clearly longer than every distractor can be picked for its length alone",
        "Where is most filtered Mg²⁺ reabsorbed? Proximal tubule / **Thick ascending limb of the loop of Henle** / "
        "Distal convoluted tubule / Collecting duct",
    ),
    Rule(
        "all-none-of-the-above",
        "'all of the above' is found by spotting two true options, and 'none of the above' asks what is wrong, not what is best",
        "Which can cause hypomagnesemia? Chronic diarrhea / Cetuximab / Loop diuretics / **All of the above**",
    ),
    Rule(
        "negative-lead-in",
        "EXCEPT, NOT or LEAST turns a best-answer item into true/false judgements and is easily misread",
        "Which of the following is NOT a cause of hypomagnesemia?",
    ),
    Rule(
        "stem-repeated-in-key",
        "a word of the stem that comes back only in the correct option points to it",
        "…two weeks after a streptococcal sore throat. Which is the most likely diagnosis? "
        "**Post-streptococcal glomerulonephritis** / IgA nephropathy / …",
    ),
    Rule(
        "absolute-terms",
        "distractors that say always, never, only, all or none while the correct option does not are easy to rule out",
        "Bell palsy: It never resolves without surgery / It always recurs within a year / **Most patients recover fully within months**",
    ),
    Rule(
        "duplicate-options",
        "two options that say the same thing stand or fall together, which shrinks the choice",
        "Peptic ulcer / **Oesophageal varices** / Mallory–Weiss tear / Esophageal varices",
    ),
    Rule(
        "answer-in-question",
        "a question/answer card whose question names its answer is answered by rereading it",
        "Which enzyme does allopurinol, a xanthine oxidase inhibitor, block? — **Xanthine oxidase**",
    ),
    Rule(
        "article-cue",
        "a stem ending in 'a' or 'an' rules out the options that do not follow it grammatically",
        "Her hypercalcemia is most likely caused by an — **adenoma** / carcinoma / metastasis / granuloma",
    ),
)
RULE_NAMES = tuple(r.name for r in RULES)

# --- public entry points ------------------------------------------------------------


def check(card: Card) -> list[Finding]:
    """Every item-writing flaw of `card` that the card does not allow, in source order."""
    findings: list[Finding] = []
    for name in sorted(card.allow):
        if name not in RULE_NAMES:
            findings.append(_unknown_allow(card, name))
    if card.options:
        correct = [i for i, o in enumerate(card.options) if o.correct]
        options = [tx.option_text(o) for o in card.options]
        stem = tx.question_text(card)
        found: list[Finding] = []
        found += all_none(card, options)
        found += negative_lead_in(card, stem)
        found += article_cue(card, stem, options)
        found += duplicate_options(card, options)
        if len(correct) == 1:  # else the parser already reports the card; there is no key to compare
            found += longest_option(card, options, correct[0])
            found += stem_repeated(card, stem, options, correct[0])
            found += absolute_terms(card, options, correct[0])
        findings += [f for f in found if f.rule not in card.allow]
    elif card.answer is not None and card.answer.text and "answer-in-question" not in card.allow:
        findings += answer_in_question(card, tx.question_text(card), tx.section_text(card.answer))
    return sorted(findings, key=lambda f: (f.line, f.column, f.rule))


def diagnostics(card: Card) -> list[Diagnostic]:
    """`check(card)` as warnings at the card's file, for the build's list of problems."""
    return [Diagnostic(card.path, f.line, f.message, WARNING, f.column) for f in check(card)]



def _unknown_allow(card: Card, name: str) -> Finding:
    close = difflib.get_close_matches(name, RULE_NAMES, n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'?" if close else f"the checks are {', '.join(RULE_NAMES)}"
    message = f"{card.label}: '<!-- flashdeck: allow {name} -->' names no item-writing check, so it silences nothing: {hint}"
    return Finding("allow", card.line, 1, message)


