"""Item-writing checks (issue 13): each flaw gets one exact warning at the offending option or
word, sound items pass untouched, and a card can silence a rule on purpose.

Fixtures: tests/fixtures/items/cases/<rule>-flawed.md and <rule>-sound.md (one tiny card
each), tests/fixtures/items/sound/ (the sound set the thresholds were chosen on) and
tests/fixtures/items/flawed/<rule>.md (the flawed set). Expected lines are written from the
fixture text by hand: line and column are where the option or word sits, counted in an
editor (an option's text starts in column 7, after "- [ ] ").
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flashdeck import itemcheck
from flashdeck.cli import main
from flashdeck.model import Card, Option, Section

ROOT = Path(__file__).resolve().parent.parent
ITEMS = Path(__file__).resolve().parent / "fixtures" / "items"


def silence(rule: str) -> str:
    return f" (silence on purpose with <!-- flashdeck: allow {rule} -->)"


LONGEST = (
    "the correct option B is clearly the longest (41 characters, the others 15–24), so a test-wise learner can pick it "
    "for its length: make the options alike in length and detail (shorten B, or give the distractors the same detail)"
    + silence("longest-option")
)
ABSOLUTE_FIX = "qualify the distractor as the correct option is qualified, or drop the absolute term" + silence("absolute-terms")

# fixture -> the exact warnings, summary excluded
FLAWED = {
    "longest-option": [
        f"cards/longest-option-flawed.md:5:7: warning: card 'longest-flawed': {LONGEST}",
    ],
    "all-none-of-the-above": [
        "cards/all-none-of-the-above-flawed.md:7:7: warning: card 'all-none-flawed': option D is 'All of the above', "
        "which a learner finds by spotting two true options (or one false one) instead of knowing the best answer: "
        "replace it with one specific, plausible distractor" + silence("all-none-of-the-above"),
    ],
    "negative-lead-in": [
        "cards/negative-lead-in-flawed.md:2:27: warning: card 'negative-flawed': the lead-in asks for a negative ('NOT'), "
        "so the learner judges each option true or false and can misread the question: ask for the single best answer "
        "instead, e.g. 'Which is the most likely cause?', with options that are all of one kind "
        "(in a vignette, ask what is most likely or most appropriate)" + silence("negative-lead-in"),
    ],
    "stem-repeated-in-key": [
        "cards/stem-repeated-in-key-flawed.md:4:12: warning: card 'stem-repeated-flawed': 'streptococcal' from the stem "
        "comes back in the correct option A and in no other option, which points to it: reword option A, or let some "
        "distractors use the same words" + silence("stem-repeated-in-key"),
    ],
    "absolute-terms": [
        "cards/absolute-terms-flawed.md:4:10: warning: card 'absolute-flawed': option A says 'never', an absolute term "
        f"the correct option lacks, so a test-wise learner rules it out: {ABSOLUTE_FIX}",
        "cards/absolute-terms-flawed.md:5:10: warning: card 'absolute-flawed': option B says 'always', an absolute term "
        f"the correct option lacks, so a test-wise learner rules it out: {ABSOLUTE_FIX}",
        "cards/absolute-terms-flawed.md:7:18: warning: card 'absolute-flawed': option D says 'only', an absolute term "
        f"the correct option lacks, so a test-wise learner rules it out: {ABSOLUTE_FIX}",
    ],
    "duplicate-options": [
        "cards/duplicate-options-flawed.md:7:7: warning: card 'duplicate-flawed': option D ('Esophageal varices') says "
        "the same as option B ('Oesophageal varices'), so the two stand or fall together and the choice shrinks: "
        "make every option say something different (merge the two and add a distinct distractor)"
        + silence("duplicate-options"),
    ],
    "answer-in-question": [
        "cards/answer-in-question-flawed.md:2:34: warning: card 'answer-in-question-flawed': the question already states "
        "the answer ('xanthine oxidase'), so the card is answered by rereading it: remove the answer from the question, "
        "or ask about something the question does not say" + silence("answer-in-question"),
    ],
    "article-cue": [
        "cards/article-cue-flawed.md:2:44: warning: card 'article-flawed': the stem ends in 'an', but options B, C and D "
        "would need 'a', so grammar rules them out: end the stem so that every option follows it, "
        "e.g. '…is most likely caused by which of the following?'" + silence("article-cue"),
    ],
}


def run(fixture_cards, monkeypatch, capsys, *names, command="check", strict=False):
    cards = fixture_cards(*names)
    monkeypatch.chdir(cards.parent)
    argv = [command, "cards", *(["--out", "dist"] if command == "build" else []), *(["--strict"] if strict else [])]
    status = main(argv)
    out = capsys.readouterr()
    return status, out.err.splitlines(), out.out


def test_every_rule_has_a_readme_row_a_flawed_and_a_sound_fixture():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Item-writing checks") :]
    section = section[: section.index("\n## ", 1)]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert rows == [f"| `{r.name}` | {r.rationale} | {r.example} |" for r in itemcheck.RULES]
    for rule in itemcheck.RULES:
        assert (ITEMS / "cases" / f"{rule.name}-flawed.md").is_file(), rule.name
        assert (ITEMS / "cases" / f"{rule.name}-sound.md").is_file(), rule.name
        assert (ITEMS / "flawed" / f"{rule.name}.md").is_file(), rule.name
    assert set(FLAWED) == set(itemcheck.RULE_NAMES)


@pytest.mark.parametrize("rule", sorted(FLAWED))
def test_flawed_item_gets_the_exact_warning_at_the_offending_option_or_word(rule, fixture_cards, monkeypatch, capsys):
    status, err, _ = run(fixture_cards, monkeypatch, capsys, f"items/cases/{rule}-flawed.md")
    n = len(FLAWED[rule])
    assert err == [*FLAWED[rule], f"0 errors, {n} warning{'s' * (n != 1)}"]
    assert status == 0


@pytest.mark.parametrize("rule", sorted(FLAWED))
def test_sound_item_passes_untouched(rule, fixture_cards, monkeypatch, capsys):
    status, err, out = run(fixture_cards, monkeypatch, capsys, f"items/cases/{rule}-sound.md", strict=True)
    assert (status, err) == (0, [])
    assert out.endswith("no errors\n")


def test_strict_makes_item_warnings_errors_and_exits_1(fixture_cards, monkeypatch, capsys):
    status, err, _ = run(fixture_cards, monkeypatch, capsys, "items/cases/longest-option-flawed.md", strict=True)
    assert err == [f"cards/longest-option-flawed.md:5:7: error: card 'longest-flawed': {LONGEST}", "1 error, 0 warnings"]
    assert status == 1


def test_build_reports_item_warnings_and_strict_build_writes_nothing(fixture_cards, monkeypatch, capsys):
    status, err, out = run(fixture_cards, monkeypatch, capsys, "items/cases/longest-option-flawed.md", command="build")
    assert err == [f"cards/longest-option-flawed.md:5:7: warning: card 'longest-flawed': {LONGEST}", "0 errors, 1 warning"]
    assert status == 0 and "wrote dist/longest-option-flawed.apkg: 1 cards" in out
    (Path("dist") / "longest-option-flawed.apkg").unlink()
    status, err, _ = run(fixture_cards, monkeypatch, capsys, "items/cases/longest-option-flawed.md", command="build", strict=True)
    assert status == 1
    assert err[0].startswith("cards/longest-option-flawed.md:5:7: error: card 'longest-flawed': the correct option B")
    assert not (Path("dist") / "longest-option-flawed.apkg").exists()


def test_check_after_a_build_reports_item_warnings_from_the_cache(fixture_cards, monkeypatch, capsys):
    """The warnings are stored with the file's cache entry: a cached file must not fall silent."""
    from flashdeck import api

    run(fixture_cards, monkeypatch, capsys, "items/cases/longest-option-flawed.md", command="build")
    assert api.check(Path("cards")).cached == 1
    status, err, _ = run(fixture_cards, monkeypatch, capsys, "items/cases/longest-option-flawed.md")
    assert err == [f"cards/longest-option-flawed.md:5:7: warning: card 'longest-flawed': {LONGEST}", "0 errors, 1 warning"]


def test_allow_directive_silences_that_rule_for_that_card(fixture_cards, monkeypatch, capsys):
    status, err, _ = run(fixture_cards, monkeypatch, capsys, "items/cases/longest-option-allowed.md", strict=True)
    assert (status, err) == (0, [])


def test_allow_naming_an_unknown_rule_is_a_warning_and_silences_nothing(fixture_cards, monkeypatch, capsys):
    status, err, _ = run(fixture_cards, monkeypatch, capsys, "items/cases/unknown-allow.md")
    assert err == [
        "cards/unknown-allow.md:1:1: warning: card 'unknown-allow': '<!-- flashdeck: allow longest-opton -->' names no "
        "item-writing check, so it silences nothing: did you mean 'longest-option'?",
        f"cards/unknown-allow.md:6:7: warning: card 'unknown-allow': {LONGEST}",
        "0 errors, 2 warnings",
    ]


def test_whole_sound_set_passes_every_rule(fixture_cards, monkeypatch, capsys):
    status, err, out = run(fixture_cards, monkeypatch, capsys, "items/sound", strict=True)
    assert (status, err) == (0, [])
    assert out == "cards: 103 cards in 1 package(s), no errors\n"


def flawed_cards(rule: str) -> list[Card]:
    from judge import read_and_judge

    path = ITEMS / "flawed" / f"{rule}.md"
    return read_and_judge(path.read_text(encoding="utf-8"), path)[0]


@pytest.mark.parametrize("rule", itemcheck.RULE_NAMES)
def test_every_item_of_the_flawed_set_is_caught_by_its_rule(rule):
    cards = flawed_cards(rule)
    assert len(cards) >= 4
    missed = [c.id for c in cards if rule not in {f.rule for f in itemcheck.check(c)}]
    assert missed == []


def test_an_item_can_silence_several_rules_and_keeps_the_others():
    card = flawed_cards("negative-lead-in")[0]  # NOT in the lead-in
    assert [f.rule for f in itemcheck.check(card)] == ["negative-lead-in"]
    card = Card(**{s: getattr(card, s) for s in Card.__slots__ if s != "allow"}, allow=frozenset({"longest-option", "negative-lead-in"}))
    assert itemcheck.check(card) == []


def mc(*options: str, correct: int = 0, stem: str = "Which is it?") -> Card:
    """A multiple-choice card as the parser makes it: heading on line 1, stem on line 2, options from line 4."""
    opts = tuple(Option(chr(65 + i), text, i == correct, 4 + i) for i, text in enumerate(options))
    return Card("c", "T", Path("cards/c.md"), 1, "D", Section(stem, 2), opts, None, Section("E", 10))


# Options a naive text comparison would call near-duplicates; each pair means different things.
DISTINCT = [
    ("10 mg", "100 mg"),
    ("0.05 mg", "0.5 mg"),
    ("Factor VII", "Factor VIII"),
    ("Type I collagen", "Type III collagen"),
    ("Mg^2+^", "Ca^2+^"),
    ("Cl^-^", "Cl"),
    ("TRPM6", "TRPM7"),
    ("IgA nephropathy", "IgM nephropathy"),
    ("Hepatitis B", "Hepatitis C"),
    ("β-blocker", "α-blocker"),
    ("Hyperkalemia", "Hypokalemia"),
    ("Intracellular K^+^", "Extracellular K^+^"),
    ("Caseating granuloma", "Non-caseating granuloma"),
    ("Typical pneumonia", "Atypical pneumonia"),
    ("Low ferritin", "High ferritin"),
    ("Anterior cruciate ligament", "Posterior cruciate ligament"),
    ("Dysphagia", "Dysphasia"),
    # Long enough that only the contrast guard tells them apart (similarity 0.92 to 0.95).
    ("Increased plasma renin activity", "Decreased plasma renin activity"),
    ("Intracellular fluid volume expansion", "Extracellular fluid volume expansion"),
    ("Typical community-acquired pneumonia", "Atypical community-acquired pneumonia"),
]
SAME = [
    ("Claudin-16", "Claudin 16"),
    ("Na^+^/K^+^-ATPase", "Na^+^-K^+^-ATPase"),
    ("Haemorrhage", "Hemorrhage"),
    ("Vitamin B~12~ deficiency", "Deficiency of vitamin B~12~"),
    ("5 mmol/L", "5.0 mmol/L"),
    ("Raised intracranial pressure", "Increased intracranial pressure"),
    ("Hydrochlorothiazide", "Hydrochlorthiazide"),
]


@pytest.mark.parametrize(("a", "b"), DISTINCT)
def test_numbers_formulas_codes_and_opposites_are_not_duplicates(a, b):
    assert [f for f in itemcheck.check(mc(a, b, "Other")) if f.rule == "duplicate-options"] == []


@pytest.mark.parametrize(("a", "b"), SAME)
def test_same_option_written_another_way_is_a_duplicate(a, b):
    (finding,) = [f for f in itemcheck.check(mc(a, "Other", b)) if f.rule == "duplicate-options"]
    assert (finding.line, finding.column) == (6, 7)
    assert finding.message.startswith("card 'c': option C (") and " option A (" in finding.message


@pytest.mark.parametrize(
    "stem",
    [
        "What is the next step for a patient whose symptoms do not improve?",
        "He does not smoke. Which is the most likely diagnosis?",
        "Which is the MOST likely diagnosis?",
        "Which is the least invasive test that confirms the diagnosis?",
        "Which drug helps a patient who cannot swallow tablets?",
    ],
)
def test_negatives_outside_the_asking_clause_are_not_a_negative_lead_in(stem):
    assert itemcheck.check(mc("Alpha", "Beta", "Gamma", stem=stem)) == []


@pytest.mark.parametrize(
    ("stem", "word"),
    [
        ("Which drug does not cause hyperkalemia?", "not"),
        ("All of these are causes of edema EXCEPT", "EXCEPT"),
        ("Which statement is false?", "false"),
        ("Which finding is least likely?", "least"),
        ("A boy has edema and proteinuria. All of these are features of his disease EXCEPT", "EXCEPT"),
    ],
)
def test_negative_lead_ins_are_found_in_any_case(stem, word):
    (finding,) = itemcheck.check(mc("Alpha", "Beta", "Gamma", stem=stem))
    assert finding.rule == "negative-lead-in" and f"('{word}')" in finding.message
    assert finding.column == stem.index(word) + 1


@pytest.mark.parametrize(
    ("article", "options"),
    [
        ("an", ["X-linked trait", "autosomal trait", "MRI scan", "8-year-old", "hour"]),
        ("a", ["UTI", "unilateral lesion", "European study", "one-sided lesion", "history", "NASH", "H^+^/K^+^-ATPase"]),
    ],
)
def test_article_cue_knows_letters_numbers_and_spoken_vowels(article, options):
    assert itemcheck.check(mc(*options, stem=f"It is best described as {article}")) == []


def test_a_stem_word_inside_a_distractor_word_is_not_repeated_only_in_the_key():
    card = mc(
        "Injection of exogenous insulin", "Insulinoma", "Sulfonylurea ingestion", "Adrenal insufficiency",
        stem="A nurse has hypoglycemia with a high serum insulin and a low C-peptide. Which is the most likely cause?",
    )
    assert itemcheck.check(card) == []


def test_markdown_and_html_do_not_count_towards_option_length():
    # 6 visible characters, the longest distractor 5: far from "clearly the longest".
    key = '**<span class="x">Sodium</span>** [^](https://example.org/a-very-long-reference)'
    assert itemcheck.check(mc(key, "Water", "Lipid", "Urea")) == []


def test_rules_never_reach_beyond_their_card_shape():
    """answer-in-question reads plain cards only; option rules read multiple-choice cards only."""
    plain = Card("p", "T", Path("cards/p.md"), 1, "D", Section("Which is NOT a cause? All of the above", 2), (), Section("Cause", 4), Section("E", 6))
    assert itemcheck.check(plain) == []


def test_rule_names_in_messages_match_the_rule_that_found_them():
    for rule in itemcheck.RULE_NAMES:
        path = ITEMS / "cases" / f"{rule}-flawed.md"
        from judge import read_and_judge

        (card,), _ = read_and_judge(path.read_text(encoding="utf-8"), path)
        for finding in itemcheck.check(card):
            assert re.search(r"allow ([a-z-]+) -->\)$", finding.message).group(1) == finding.rule == rule
