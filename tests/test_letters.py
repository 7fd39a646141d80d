"""`letters.letter_references`: where an explanation names an option by its letter (issue 12).

On a shuffled card the letters follow the shown order, so such a reference
points at a different option at each review; `check` warns about it (the
message itself is tested through the CLI in test_bad_input.py and below).
Expected positions are counted by hand from the strings.
"""

from __future__ import annotations

import pytest

from flashdeck.cli import main
from flashdeck.letters import letter_references

FLAWED = {
    "Option B is wrong because it acts upstream.": [(0, 1, "Option B")],
    "The answer is C.": [(0, 5, "answer is C")],
    "The correct option was (D).": [(0, 13, "option was (D)")],
    "(B) is a distractor.": [(0, 1, "(B)")],
    "A and B are wrong: both act upstream.": [(0, 1, "A and B are wrong")],
    "C is the answer.": [(0, 1, "C is the answer")],
    "So answer C fits.": [(0, 4, "answer C")],
    "Options A, B and D describe loop effects.": [(0, 1, "Options A, B and D")],
    "Choices A–C are wrong.": [(0, 1, "Choices A–C")],
    "Answers B and D": [(0, 1, "Answers B and D")],
    "option b is tempting": [(0, 1, "option b")],
    "option A's text": [(0, 1, "option A")],
    "B) acts on the DCT": [(0, 1, "B)")],
    "- **C:** too late in the nephron": [(0, 5, "C:")],
    "(I) is wrong": [(0, 1, "(I)")],
    "First line.\nThen (C) and option D.": [(1, 6, "(C)"), (1, 14, "option D")],
}

SOUND = [
    "Vitamin A is correct here",
    "type B lactic acidosis",
    "Hepatitis C is the most common cause.",
    "The Na+/K+-ATPase and the Na^+^/K^+^-ATPase",
    "HLA-B is wrong",
    "E. coli is the usual cause.",
    "P(A) is the probability of A",
    "Serum potassium (K) is low.",
    "the answer I chose was wrong",
    "I was wrong.",
    "Kir4.1 and Kv1.1, HNF1B and FXYD2",
    "`option A` in code",
    "math: $f(A)$ and \\(P(B)\\)",
    "a type (B) reaction",
    "vitamin D and K are fat soluble",
    "Group A streptococci, factor V Leiden, complex I",
    "to answer a question",
    "Plan B is best",
    "vitamin B12 and C-peptide",
    "A 52-year-old man has a low Mg^2+^.",
    "```\noption A is wrong\n```",
]


@pytest.mark.parametrize("text", sorted(FLAWED))
def test_letter_references_finds_each_reference_with_line_and_column(text):
    assert letter_references(text) == FLAWED[text]


@pytest.mark.parametrize("text", SOUND)
def test_letter_references_ignores_letters_that_name_other_things(text):
    assert letter_references(text) == []


def test_letter_references_counts_lines_after_a_fenced_block():
    text = "Intro.\n```\n(A)\n```\nSee (B)."
    assert letter_references(text) == [(4, 5, "(B)")]


def test_unshuffled_card_may_name_options_by_letter(fixture_cards, monkeypatch, capsys):
    """The warning is about shuffling: the same explanation on a card in fixed order is fine."""
    cards = fixture_cards("bad/shuffled_explanation_names_letters.md")
    path = cards / "shuffled_explanation_names_letters.md"
    path.write_text(path.read_text(encoding="utf-8").replace("shuffle: true", "shuffle: false"), encoding="utf-8")
    monkeypatch.chdir(cards.parent)
    assert main(["check", "cards"]) == 0
    assert capsys.readouterr().err == ""


def test_card_comment_shuffle_turns_the_warning_on(fixture_cards, monkeypatch, capsys):
    cards = fixture_cards("bad/shuffled_explanation_names_letters.md")
    path = cards / "shuffled_explanation_names_letters.md"
    text = path.read_text(encoding="utf-8").replace("shuffle: true", "shuffle: false")
    path.write_text(text.replace("## Magnesium-sparing diuretic {#shuffled-letters}\n", "## Magnesium-sparing diuretic {#shuffled-letters}\n<!-- flashdeck: shuffle -->\n"), encoding="utf-8")
    monkeypatch.chdir(cards.parent)
    assert main(["check", "cards"]) == 0
    assert capsys.readouterr().err.splitlines() == [
        "cards/shuffled_explanation_names_letters.md:13:35: warning: card 'shuffled-letters': the explanation refers to option letters "
        "('option A', '(B)'), but the options are shuffled, so the letters change at each review: name the option by its text instead",
        "0 errors, 1 warning",
    ]
