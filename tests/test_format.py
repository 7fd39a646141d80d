"""The card format (README "Card format"): each rule on a small fixture file."""

from __future__ import annotations

from pathlib import Path

from flashdeck.api import cards, check, notes
from flashdeck.discover import discover
from flashdeck.notetype import BASIC

FIXTURES = Path(__file__).parent / "fixtures" / "format"


def load_one(fixture_cards, name):
    """The parsed cards of one fixture and their notes' fields by card id."""
    cards_dir = fixture_cards(f"format/{name}")
    check(cards_dir)
    fields = {n.id: dict(zip(BASIC.fields, n.fields)) for n in notes(cards_dir)[0]}
    return cards(cards_dir), fields


def test_multiple_choice_card_has_lettered_options_and_one_answer(fixture_cards):
    (card,), notes = load_one(fixture_cards, "multiple_choice.md")
    assert card.id == "mc-1"
    assert card.title == "Site of magnesium reabsorption"
    assert card.line == 5
    assert card.question.text == "Where is most filtered Mg^2+^ reabsorbed?"
    assert card.question.line == 6
    assert [(o.letter, o.text, o.correct) for o in card.options] == [
        ("A", "Proximal tubule", False),
        ("B", "Thick ascending limb", True),
        ("C", "Distal convoluted tubule", False),
    ]
    assert card.options[1].line == 9
    assert card.explanation.text == "About 70% of filtered Mg^2+^."
    assert card.deck == "Test::Format"
    note = notes["mc-1"]
    assert note["Answer"] == '<span class="fd-letter">B</span> <span class="fd-text">Thick ascending limb</span>'
    assert note["Question"] == "Where is most filtered Mg<sup>2+</sup> reabsorbed?"


def test_tags_from_front_matter_and_card_line_are_merged_without_repeats(fixture_cards):
    (card,), _ = load_one(fixture_cards, "multiple_choice.md")
    assert card.tags == ("fmt", "shared", "tal")


def test_tags_line_does_not_leak_into_references(fixture_cards):
    _, notes = load_one(fixture_cards, "multiple_choice.md")
    assert "Tags" not in notes["mc-1"]["References"]
    assert notes["mc-1"]["References"] == (
        '<ul>\n<li><a href="https://pubmed.ncbi.nlm.nih.gov/21041532/">https://pubmed.ncbi.nlm.nih.gov/21041532/</a></li>\n</ul>'
    )


def test_options_field_marks_the_correct_option_for_the_back_only(fixture_cards):
    _, notes = load_one(fixture_cards, "multiple_choice.md")
    options = notes["mc-1"]["Options"]
    assert options.count("<li") == 3
    assert options.count("fd-correct") == 1
    assert options.index("fd-correct") > options.index("Proximal tubule")
    assert options.index("fd-correct") < options.index("Thick ascending limb")


def test_plain_card_takes_answer_section_and_ignores_comments(fixture_cards):
    (card,), notes = load_one(fixture_cards, "plain.md")
    assert card.options == ()
    assert card.answer.text == "About *1%*."
    assert notes["plain-1"]["Answer"] == "About <em>1%</em>."
    assert "comment" not in notes["plain-1"]["Question"]
    assert notes["plain-1"]["Question"] == "What fraction of total body Mg<sup>2+</sup> is extracellular?"


def test_deck_name_defaults_to_file_path_under_cards(fixture_cards):
    (card,), _ = load_one(fixture_cards, "plain.md")
    assert card.deck == "plain"


def test_folders_become_parent_child_decks_in_one_package(fixture_cards):
    cards_dir = fixture_cards("format/nested")
    (bundle,), _ = discover(cards_dir)
    assert bundle.name == "nested"
    assert [c.deck for c in cards(cards_dir)] == ["nested::renal::tubule"]


def test_empty_body_before_sections_makes_heading_the_question(fixture_cards):
    (card,), notes = load_one(fixture_cards, "heading_is_question.md")
    assert notes["heading-q"]["Question"] == "What does TRPM6 transport?"


def test_multi_paragraph_question_keeps_its_paragraphs(tmp_path):
    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "two.md").write_text("## T {#two}\nFirst para.\n\nSecond para.\n### Answer\nA\n### Explanation\nE\n", encoding="utf-8")
    (note,) = notes(cards)[0]
    assert dict(zip(BASIC.fields, note.fields))["Question"] == "<p>First para.</p>\n<p>Second para.</p>"


def test_headings_inside_code_fences_are_not_cards(tmp_path):
    folder = tmp_path / "cards"
    folder.mkdir()
    (folder / "code.md").write_text(
        "## Code {#code-1}\nWhat prints?\n```\n## not a card {#nope}\n### Answer\n```\n### Answer\nhi\n### Explanation\nE\n",
        encoding="utf-8",
    )
    check(folder)
    (card,) = cards(folder)
    assert card.id == "code-1"
    assert "## not a card" in card.question.text
    assert card.answer.text == "hi"


def test_shuffle_and_allow_come_from_front_matter_and_card_directives(fixture_cards):
    cards, notes = load_one(fixture_cards, "directives.md")
    by_id = {c.id: c for c in cards}
    assert by_id["dir-file"].shuffle is True
    assert by_id["dir-file"].allow == frozenset({"longest-option", "negative-lead-in"})
    # The directive in the code block is an example, not a directive.
    assert by_id["dir-card"].shuffle is False
    assert by_id["dir-card"].allow == frozenset()
    assert notes["dir-file"]["Options"].startswith('<ol class="fd-options fd-shuffle" type="A">')
    assert notes["dir-card"]["Options"].startswith('<ol class="fd-options" type="A">')


def test_unknown_directive_is_a_located_warning(tmp_path):
    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "d.md").write_text("## Q {#d-1}\n<!-- flashdeck: alow x -->\nQ?\n\n### Answer\nA\n\n### Explanation\nE\n", encoding="utf-8")
    loaded = check(cards)
    assert [str(w) for w in loaded.warnings] == [
        f"{cards}/d.md:2:1: warning: card 'd-1': '<!-- flashdeck: alow x -->' is not a directive flashdeck knows: "
        "write '<!-- flashdeck: allow NAME -->', '<!-- flashdeck: shuffle -->' or '<!-- flashdeck: no-shuffle -->'"
    ]
