"""Bad input: each mistake gets one exact compiler-style line, and all of them come in one run.

One tiny fixture per failure mode under tests/fixtures/bad/, named after it.
The expected lines are written from the fixture text by hand: the line and
column are where the mistake sits in the file, counted in an editor.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from flashdeck.cli import main
from flashdeck.errors import sort_key

NO_CARDS = "cards: error: no cards found in 'cards': add a Markdown file with '## Title {#id}' cards"

# fixture -> (exit status, the exact stderr lines, summary included)
CASES = {
    "no_answer.md": (1, [
        "cards/no_answer.md:1: error: card 'no-answer' has no answer: add an '### Answer' section or a '- [x]' option list",
        "1 error, 0 warnings",
    ]),
    "no_explanation.md": (1, [
        "cards/no_explanation.md:1: error: card 'no-explanation' has no explanation: add an '### Explanation' section with text",
        "1 error, 0 warnings",
    ]),
    "no_correct_option.md": (1, [
        "cards/no_correct_option.md:4:1: error: card 'no-correct' has no correct option: mark the right one with '- [x]'",
        "1 error, 0 warnings",
    ]),
    "two_correct_options.md": (1, [
        "cards/two_correct_options.md:6:1: error: card 'two-correct' has 2 correct options (A on line 4, C on line 6): "
        "mark exactly one with '- [x]', the others with '- [ ]'",
        "1 error, 0 warnings",
    ]),
    "field_separator.md": (1, [
        "cards/field_separator.md:2:28: error: card 'field-separator': the text holds U+001F (INFORMATION SEPARATOR ONE), an invisible "
        "control character: Anki separates a note's fields with it, so the card would come apart; delete it",
        "cards/field_separator.md:8:4: error: card 'field-separator': the text holds U+0000 (NULL), an invisible control character: "
        "Anki's fields cannot hold it; delete it",
        "2 errors, 0 warnings",
    ]),
    "missing_id.md": (1, [
        "cards/missing_id.md:1: error: card 'Normal magnesium' has no id: end the heading with '{#some-id}' or run 'flashdeck ids --write cards'",
        "1 error, 0 warnings",
    ]),
    "invalid_id.md": (1, [
        "cards/invalid_id.md:1:21: error: card 'Normal magnesium': id 'normal mg' may only use letters, digits, '-' and '_': write it as '{#normal-mg}'",
        "1 error, 0 warnings",
    ]),
    "duplicate_id.md": (1, [
        "cards/duplicate_id.md:10:11: error: card id 'same' of 'Second' is already used by 'First' at cards/duplicate_id.md:1: "
        "ids must be unique across 'cards'; give one of them a new id",
        "1 error, 0 warnings",
    ]),
    "missing_image.md": (1, [
        "cards/missing_image.md:4:8: error: card 'missing-image': image 'ecg.png' not found at cards/ecg.png: "
        "fix the path (it is relative to missing_image.md) or add the image there",
        "1 error, 0 warnings",
    ]),
    "image_outside_cards.md": (1, [
        "cards/image_outside_cards.md:4:8: error: card 'image-outside': image '../secret.png' lies outside the cards folder 'cards': "
        "move the image into it and link it by a path that stays inside",
        "1 error, 0 warnings",
    ]),
    "not_utf8.md": (1, [
        "cards/not_utf8.md:1:7: error: file is not UTF-8 (byte 0xe9 here is not valid UTF-8): save the file again with UTF-8 encoding",
        "1 error, 0 warnings",
    ]),
    "crlf_with_bom_no_correct_option.md": (1, [
        "cards/crlf_with_bom_no_correct_option.md:4:1: error: card 'crlf-no-correct' has no correct option: mark the right one with '- [x]'",
        "1 error, 0 warnings",
    ]),
    "malformed_front_matter.md": (1, [
        "cards/malformed_front_matter.md:2:1: error: malformed front matter line 'deck Nephrology': write 'key: value' (known keys: deck, tags, shuffle)",
        "1 error, 0 warnings",
    ]),
    "unclosed_front_matter.md": (1, [
        "cards/unclosed_front_matter.md:1:1: error: front matter opened with '---' is never closed: add a '---' line after its last 'key: value' line",
        "1 error, 0 warnings",
    ]),
    "unknown_front_matter_key.md": (0, [
        "cards/unknown_front_matter_key.md:3:1: warning: unknown front matter key 'tag' is ignored; did you mean 'tags'?",
        "0 errors, 1 warning",
    ]),
    "heading_without_body.md": (1, [
        "cards/heading_without_body.md:1: error: card 'no-body' has a heading but no body: add a question, an answer and an explanation, or remove the heading",
        "1 error, 0 warnings",
    ]),
    "heading_without_space.md": (1, [
        NO_CARDS,
        "cards/heading_without_space.md:1:1: warning: '##Potassium {#no-space}' is not a card heading: put a space after '##' ('## Title {#id}')",
        "1 error, 1 warning",
    ]),
    "empty_file.md": (1, [
        NO_CARDS,
        "cards/empty_file.md: warning: file is empty: write cards in it ('## Title {#id}', a question, '### Answer', '### Explanation') or delete it",
        "1 error, 1 warning",
    ]),
    "unknown_section.md": (0, [
        "cards/unknown_section.md:7:1: warning: card 'unknown-section': section '### Notes' is not part of the format and would be lost: "
        "use ### Answer, ### Explanation or ### References, or make it bold text",
        "0 errors, 1 warning",
    ]),
    "misspelt_section.md": (1, [
        "cards/misspelt_section.md:1: error: card 'misspelt-section' has no explanation: add an '### Explanation' section with text",
        "cards/misspelt_section.md:7:1: warning: card 'misspelt-section': section '### Explanations' is not part of the format and would be lost: "
        "did you mean '### Explanation'?",
        "1 error, 1 warning",
    ]),
    "unrecognised_option_list.md": (1, [
        "cards/unrecognised_option_list.md:1: error: card 'numbered-options' has no answer: add an '### Answer' section or a '- [x]' option list",
        "cards/unrecognised_option_list.md:4:1: warning: card 'numbered-options': '1. [ ] Wrong' is not an option the format knows "
        "and would show as text: write each option as '- [ ] text' and the correct one as '- [x] text'",
        "1 error, 1 warning",
    ]),
    "text_after_options.md": (0, [
        "cards/text_after_options.md:7:1: warning: card 'text-after-options': text after the option list is not part of the format "
        "and would be lost: move it into the question (above the options) or into ### Explanation",
        "0 errors, 1 warning",
    ]),
    "unclosed_comment.md": (1, [
        "cards/unclosed_comment.md:1: error: card 'unclosed-comment' has no answer: add an '### Answer' section or a '- [x]' option list",
        "cards/unclosed_comment.md:1: error: card 'unclosed-comment' has no explanation: add an '### Explanation' section with text",
        "cards/unclosed_comment.md:3:1: error: card 'unclosed-comment': HTML comment '<!--' is never closed and hides everything below it: "
        "close it with '-->'",
        "3 errors, 0 warnings",
    ]),
    "unclosed_fence.md": (0, [
        "cards/unclosed_fence.md:4:1: warning: card 'unclosed-fence': code fence '```' is never closed, so it shows as text: close it with a '```' line",
        "0 errors, 1 warning",
    ]),
    "shuffled_explanation_names_letters.md": (0, [
        "cards/shuffled_explanation_names_letters.md:12:35: warning: card 'shuffled-letters': the explanation refers to option letters "
        "('option A', '(B)'), but the options are shuffled, so the letters change at each review: name the option by its text instead",
        "0 errors, 1 warning",
    ]),
    "hostile.md": (0, [
        "cards/hostile.md:2:28: warning: card 'hostile': <script> removed: cards may not run scripts; delete it",
        "cards/hostile.md:4:55: warning: card 'hostile': attribute 'onerror' on <img> removed: cards may not run scripts; delete it",
        "cards/hostile.md:7:10: warning: card 'hostile': link 'javascript:alert(3)' on <a> removed: javascript: URLs run code; link to an https:// page instead",
        "cards/hostile.md:7:35: warning: card 'hostile': <iframe> removed: cards may not embed other pages or plugins; link to it instead: [text](https://…)",
        "cards/hostile.md:10:10: warning: card 'hostile': link 'data:text/html,hi' on <a> removed: data: URLs are allowed only for images (<img src=\"data:image/…\">)",
        "cards/hostile.md:10:53: warning: card 'hostile': attribute 'style' on <span> removed: <span> may only have class, dir, lang, title",
        "cards/hostile.md:10:71: warning: card 'hostile': attribute 'onclick' on <span> removed: cards may not run scripts; delete it",
        "cards/hostile.md:11:44: warning: card 'hostile': <object> removed: cards may not embed other pages or plugins; link to it instead: [text](https://…)",
        "cards/hostile.md:11:75: warning: card 'hostile': <embed> removed: cards may not embed other pages or plugins; link to it instead: [text](https://…)",
        "cards/hostile.md:12:1: warning: card 'hostile': <style> removed: cards may not restyle the note type; use Markdown formatting",
        "cards/hostile.md:12:98: warning: card 'hostile': link 'VBScript:msgbox(1)' on <a> removed: vbscript: URLs run code; link to an https:// page instead",
        "0 errors, 11 warnings",
    ]),
}


def run_check(fixture_cards, monkeypatch, capsys, *names, strict=False):
    cards = fixture_cards(*names)
    monkeypatch.chdir(cards.parent)
    status = main(["check", "cards", *(["--strict"] if strict else [])])
    out = capsys.readouterr()
    return status, out.err.splitlines(), out.out


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_reports_exact_line_and_exit_status(name, fixture_cards, monkeypatch, capsys):
    status, err, _ = run_check(fixture_cards, monkeypatch, capsys, f"bad/{name}")
    expected_status, expected = CASES[name]
    assert err == expected
    assert status == expected_status


def test_every_problem_of_every_file_is_reported_in_one_run(fixture_cards, monkeypatch, capsys):
    names = [n for n in CASES if n not in ("heading_without_space.md", "empty_file.md")]  # these two have no card of their own
    status, err, _ = run_check(fixture_cards, monkeypatch, capsys, *(f"bad/{n}" for n in names))
    expected = sorted(line for n in names for line in CASES[n][1][:-1])
    errors = sum(" error: " in line for line in expected)
    assert status == 1
    assert sorted(err[:-1]) == expected
    assert err[-1] == f"{errors} errors, {len(expected) - errors} warnings"


def test_bom_and_crlf_file_is_accepted(fixture_cards, monkeypatch, capsys):
    status, err, out = run_check(fixture_cards, monkeypatch, capsys, "bad/bom_and_crlf.md")
    assert (status, err) == (0, [])
    assert out == "cards: 1 cards in 1 package(s), no errors\n"


def test_folder_without_cards_warns_that_its_package_would_be_empty(fixture_cards, monkeypatch, capsys):
    status, err, _ = run_check(fixture_cards, monkeypatch, capsys, "bad/folder_without_cards", "format/plain.md")
    assert err == [
        "cards/folder_without_cards: warning: folder has no cards, so folder_without_cards.apkg would be empty: "
        "add cards ('## Title {#id}') to its files or remove the folder",
        "cards/folder_without_cards/notes.md:3: warning: file has no cards, so this text would be lost: start each card with '## Title {#id}'",
        "0 errors, 2 warnings",
    ]
    assert status == 0


def test_cards_folder_without_cards_is_an_error(tmp_path, monkeypatch, capsys):
    (tmp_path / "cards").mkdir()
    monkeypatch.chdir(tmp_path)
    assert main(["check", "cards"]) == 1
    assert capsys.readouterr().err.splitlines() == [NO_CARDS, "1 error, 0 warnings"]


def test_strict_check_turns_warnings_into_errors_and_fails(fixture_cards, monkeypatch, capsys):
    status, err, out = run_check(fixture_cards, monkeypatch, capsys, "bad/unknown_front_matter_key.md", strict=True)
    assert err == [
        "cards/unknown_front_matter_key.md:3:1: error: unknown front matter key 'tag' is ignored; did you mean 'tags'?",
        "1 error, 0 warnings",
    ]
    assert (status, out) == (1, "")


def test_strict_check_fails_on_sanitizer_warnings_too(fixture_cards, monkeypatch, capsys):
    status, err, _ = run_check(fixture_cards, monkeypatch, capsys, "bad/hostile.md", strict=True)
    assert status == 1
    assert err[0] == "cards/hostile.md:2:28: error: card 'hostile': <script> removed: cards may not run scripts; delete it"
    assert err[-1] == "11 errors, 0 warnings"


def test_strict_build_with_warnings_writes_nothing(fixture_cards, monkeypatch, capsys):
    cards = fixture_cards("bad/unknown_section.md")
    monkeypatch.chdir(cards.parent)
    assert main(["build", "cards", "--out", "dist", "--strict"]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == "1 error, 0 warnings"
    assert not (cards.parent / "dist").exists()
    assert not (cards / "flashdeck.lock").exists()


def test_build_with_warnings_only_succeeds_and_prints_them(fixture_cards, monkeypatch, capsys):
    cards = fixture_cards("bad/unknown_section.md")
    monkeypatch.chdir(cards.parent)
    assert main(["build", "cards", "--out", "dist"]) == 0
    assert capsys.readouterr().err.splitlines()[-1] == "0 errors, 1 warning"
    assert (cards.parent / "dist" / "unknown_section.apkg").is_file()


def test_hostile_card_reaches_anki_without_active_content(fixture_cards):
    """The warnings above say what was removed; this checks it really is gone from the note."""
    from flashdeck.api import notes
    from flashdeck.notetype import BASIC

    (note,), _, _ = notes(fixture_cards("bad/hostile.md"))
    fields = dict(zip(BASIC.fields, note.fields))
    everything = "".join(note.fields).lower()
    for active in ("<script", "alert(1)", "onerror", "onclick", "javascript:", "vbscript:", "<iframe", "<object", "<embed", "<style", "data:text", "color:red"):
        assert active not in everything, active
    assert fields["Question"] == '<p>Which <b>bold</b> question?</p>\n<p><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></p>'
    assert fields["Answer"] == "<a>a link</a> and "  # the iframe after "and " is gone
    assert '<img alt="dot" src="data:image/png;base64,iVBORw0KGgo=">' in fields["Explanation"]
    assert '<a href="mailto:a@b.example">mail</a> <a href="https://example.org">web</a> <a>vb</a>' in fields["Explanation"]


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://example.org/a", True),
        ("http://example.org", True),
        ("mailto:a@b.example", True),
        ("#note-1", True),
        ("JaVaScRiPt:alert(1)", False),
        ("java\tscript:alert(1)", False),
        ("vbscript:x", False),
        ("data:image/png;base64,AA", False),
        ("file:///etc/passwd", False),
        ("ftp://example.org/x", False),
        ("other-card.html", False),
    ],
)
def test_link_targets_keep_only_http_https_and_mailto(url, kept):
    from flashdeck.sanitize import removals, sanitize

    fragment = f'<a href="{url}">x</a>'
    assert ("href=" in sanitize(fragment)) is kept
    assert (removals(fragment) == []) is kept


def test_precommit_hook_runs_check_strict_on_markdown_changes():
    root = Path(__file__).resolve().parent.parent
    hook = [line for line in (root / ".pre-commit-hooks.yaml").read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    assert hook == [
        "- id: flashdeck-check",
        "  name: flashdeck check --strict",
        "  description: Validate flashdeck cards; warnings fail the commit too.",
        "  entry: flashdeck check --strict",
        "  language: python",
        "  pass_filenames: false",
        "  files: \\.md$",
    ]


# Parser bugs found while reviewing it for this suite (each failed before its fix).


def parse_one(text: str):
    from judge import read_and_judge

    cards, diagnostics = read_and_judge(text)
    return [c for c in cards if not c.empty], [str(d) for d in sorted(diagnostics, key=sort_key)]


def test_hash_at_end_of_title_is_kept():
    (card,), problems = parse_one("## C# basics {#csharp}\nQ?\n### Answer\nA\n### Explanation\nE\n\n## Closed heading ##\n")
    assert card.title == "C# basics"
    assert problems[0] == "cards/x.md:8: error: card 'Closed heading' has a heading but no body: add a question, an answer and an explanation, or remove the heading"


def test_unclosed_fence_does_not_swallow_the_cards_below_it(fixture_cards):
    from flashdeck.api import cards, check

    folder = fixture_cards("bad/unclosed_fence.md")
    check(folder)
    assert [c.id for c in cards(folder)] == ["unclosed-fence", "after-fence"]


def test_comment_written_as_inline_code_stays_in_the_card():
    (card,), _ = parse_one("## Q {#q}\nWhat does `<!-- x -->` do in HTML?\n### Answer\nHides x.\n### Explanation\nE\n")
    assert card.question.text == "What does `<!-- x -->` do in HTML?"


def test_empty_answer_section_is_reported_at_its_heading():
    _, problems = parse_one("## Q {#q}\nQ?\n\n### Answer\n\n\n### Explanation\nE\n")
    assert problems == ["cards/x.md:4:1: error: card 'q' has an empty '### Answer' section: write the answer below it"]


def test_answer_on_multiple_choice_card_is_reported_at_its_heading():
    _, problems = parse_one("## Q {#q}\nQ?\n- [ ] a\n- [x] b\n\n### Answer\n\nb\n### Explanation\nE\n")
    assert problems == [
        "cards/x.md:6:1: error: card 'q' has both options and an '### Answer' section: keep one (a multiple-choice answer is its '- [x]' option)"
    ]


def test_id_column_points_at_the_id_not_an_earlier_brace():
    _, problems = parse_one("## Use {# in text {#bad id}\nQ?\n### Answer\nA\n### Explanation\nE\n")
    assert problems == [
        "cards/x.md:1:19: error: card 'Use {# in text': id 'bad id' may only use letters, digits, '-' and '_': write it as '{#bad-id}'"
    ]


def test_bogus_marked_section_is_reported_not_a_crash(tmp_path, capsys):
    """Python's HTML parser raises AssertionError on '<![i]…'; a card must get a warning, not a traceback."""
    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "odd.md").write_text(
        "## Odd {#odd-1}\n<div><![i]></div>\n### Answer\nA\n### Explanation\nE\n", encoding="utf-8"
    )
    assert main(["check", str(cards)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2
    assert err[0].startswith(f"{cards / 'odd.md'}:2:")
    assert err[0].endswith("warning: card 'odd-1': '<![' markup removed: it is not HTML a card can show; put a space after '<' or escape it as '&lt;'")
    assert err[1] == "0 errors, 1 warning"
