"""Front matter is YAML (README "Card format"): what Obsidian, Jekyll and Hugo files hold reads as
they mean it, and every mistake is one exact line at the place YAML found it.

One tiny fixture per case under tests/fixtures/frontmatter/, named after it. Lines and
columns are counted by hand in the fixture (the front matter starts at line 2).
"""

from __future__ import annotations

import pytest

from flashdeck.api import cards, check
from flashdeck.cli import main

FIX = "fix the YAML or quote the value"
NULL_DECK = (
    "front matter 'deck' is empty (YAML null): write a deck name such as 'Nephrology::Hypomagnesemia', "
    "or remove the line to name the deck after the file"
)
NOT_A_DECK = "front matter 'deck' must be a deck name such as 'Nephrology::Hypomagnesemia'"
REORDERS = "an invisible character that changes the order text reads in: delete it"

# fixture -> (exit status, the exact stderr lines without the summary)
ERRORS = {
    "unclosed_flow_list": (1, [f"2:7: error: front matter is not valid YAML (the '[' list that starts here is not closed before the end of the front matter): {FIX}"]),
    "unclosed_quote": (1, [f"3:7: error: front matter is not valid YAML (the quoted value that starts here is not closed before the end of the front matter): {FIX}"]),
    "colon_in_value": (1, [f"2:20: error: front matter is not valid YAML (mapping values are not allowed here: a ': ' inside a value starts a new key): {FIX}"]),
    "space_after_double_colon": (1, [f"2:14: error: front matter is not valid YAML (YAML reads ': ' after '::' as a new key: write '::' with no space after it): {FIX}"]),
    "tab_indent": (1, [f"3:1: error: front matter is not valid YAML (found a tab, which YAML does not allow for indentation: indent with spaces): {FIX}"]),
    "null_deck": (1, [f"2:1: error: {NULL_DECK}"]),
    "deck_without_value": (1, [f"2:1: error: {NULL_DECK}"]),
    "deck_after_comment_sign": (1, [f"2:1: error: {NULL_DECK}; '#' after a space starts a YAML comment, so quote a name that has one"]),
    "deck_is_mapping": (1, [f"2:7: error: {NOT_A_DECK}, not a mapping ('key: value' pairs): quote a name that starts with '[' or '{{'"]),
    "deck_is_list": (1, [f"3:3: error: {NOT_A_DECK}, not a list: quote a name that starts with '[' or '{{'"]),
    "deck_empty_part": (1, ["2:7: error: deck name 'Renal::::Mg' has an empty part between '::': write 'Parent::Child'"]),
    "tags_nested_list": (1, ["2:15: error: front matter 'tags' must list single tags, not a list inside the list: write tags: [a, b]"]),
    "tags_mapping": (1, ["2:7: error: front matter 'tags' must be a list of tags, not a mapping ('key: value' pairs): write tags: [a, b]"]),
    "tags_after_comment_sign": (0, [
        "2:1: warning: front matter 'tags' is empty: '#' after a space starts a YAML comment, so the tags after it are not read: write tags: [a, b]"
    ]),
    "deck_hashtag_comment": (0, [
        "2:12: warning: front matter 'deck' is read as 'Week': '#3' after a space starts a YAML comment; quote the whole name if it belongs to it"
    ]),
    "tags_hashtag_comment": (0, [
        "2:13: warning: front matter 'tags' end before '#mg': '#' after a space starts a YAML comment; write tags: [a, b], or quote a tag that starts with '#'"
    ]),
    "tag_with_space": (1, ["3:5: error: tag 'renal physiology' may not contain spaces, quotes or commas: use '_' or '::' instead of spaces"]),
    "duplicate_key": (1, ["4:1: error: front matter key 'deck' appears twice: keep one"]),
    "duplicate_foreign_key": (1, ["3:1: error: front matter key 'title' appears twice: keep one"]),
    "deeply_nested": (1, [f"2:70: error: front matter is not valid YAML (lists and mappings nest more than 64 levels deep): {FIX}"]),
    "bidi_in_deck": (1, [f"2:7: error: deck name 'Renal::\\u202eMg' contains U+202E (RIGHT-TO-LEFT OVERRIDE), {REORDERS}"]),
    "bidi_escape_in_tag": (1, [f"2:15: error: tag 'mg\\u2066' contains U+2066 (LEFT-TO-RIGHT ISOLATE), {REORDERS}"]),
    "rlm_in_tag_string": (1, [f"2:13: error: tag 'mg\\u200f' contains U+200F (RIGHT-TO-LEFT MARK), {REORDERS}"]),
    "control_char_in_front_matter": (1, ["2:12: error: front matter contains U+0007, an invisible control character: delete it"]),
    "nel_in_front_matter": (1, ["2:12: error: front matter contains U+0085, a line break: delete it"]),
    "control_escape_in_deck": (1, ["2:7: error: deck name 'Renal\\u001bMg' contains U+001B, an invisible control character: delete it"]),
    "python_tag": (1, ["2:7: error: front matter 'deck' has the YAML tag '!!python/object/apply:os.system', which flashdeck does not read: remove the tag"]),
    "undefined_alias": (1, [f"2:7: error: front matter is not valid YAML (found undefined alias 'renal'): {FIX}"]),
    "shuffle_not_boolean": (1, ["2:10: error: front matter 'shuffle' must be true or false, not 'sometimes'"]),
    "malformed_line_above_keys": (1, ["2:1: error: malformed front matter line 'deck Nephrology': write 'key: value' (known keys: deck, tags, shuffle)"]),
    "malformed_line_among_keys": (1, ["3:1: error: malformed front matter line 'not a key line': write 'key: value' (known keys: deck, tags, shuffle)"]),
}

# fixture -> (deck, tags, shuffle) of its one card; none of them may warn
READS = {
    "comment_after_value": ("Renal::Mg", ("renal", "mg"), False),
    "quoted_value_with_hash": ("Renal::Mg #2", ("#renal", "mg"), False),
    "doubled_single_quote": ("Crohn's disease", (), False),
    "escapes": ("Café::Été", ("été",), False),
    "block_list_with_comments": ("block_list_with_comments", ("renal", "electrolytes"), False),
    "nested_keys_elsewhere": ("Nephrology::Magnesium", ("nephrology",), False),
    "flow_mapping": ("Renal::Mg", ("renal", "mg"), True),
    "anchors_and_merge": ("Nephrology::Shared", ("own",), False),
    "obsidian": ("obsidian", ("renal", "electrolytes"), False),
    "jekyll": ("Renal::Mg", ("renal", "electrolytes"), False),
    "yaml11_words_stay_as_written": ("010", ("no", "yes", "on", "off", "010", "1.10", "2024-01-01"), False),
    "shuffle_yes": ("shuffle_yes", (), True),
    "deck_parts_trimmed": ("Renal::Mg", (), False),
    "deck_block_scalar": ("Renal::Mg", (), False),
    "deck_folded_over_lines": ("Nephrology::Hypomagnesemia", (), False),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_front_matter_mistake_is_one_exact_located_line(name, fixture_cards, monkeypatch, capsys):
    cards = fixture_cards(f"frontmatter/{name}.md")
    monkeypatch.chdir(cards.parent)
    status = main(["check", "cards"])
    err = capsys.readouterr().err.splitlines()
    expected_status, lines = ERRORS[name]
    errors = sum(" error: " in line for line in lines)
    summary = f"{errors} error{'s' * (errors != 1)}, {len(lines) - errors} warning{'s' * (len(lines) - errors != 1)}"
    assert err == [f"cards/{name}.md:{line}" for line in lines] + [summary]
    assert status == expected_status


@pytest.mark.parametrize("name", sorted(READS))
def test_real_world_front_matter_reads_as_yaml_means_it(name, fixture_cards):
    folder = fixture_cards(f"frontmatter/{name}.md")
    report = check(folder)
    (card,) = cards(folder)
    assert (card.deck, card.tags, card.shuffle) == READS[name]
    assert [str(w) for w in report.warnings] == []


def test_front_matter_longer_than_32_kib_is_one_error_not_a_long_wait(tmp_path, capsys):
    """PyYAML in pure Python reads ~20,000 tokens a second: a planted 1 MB list would take a minute."""
    cards = tmp_path / "cards"
    cards.mkdir()
    flow = "[" + "a," * 20_000 + "]"  # 40,002 characters
    (cards / "long.md").write_text(f"---\ntitle: {flow}\n---\n## Q {{#q}}\nQ?\n### Answer\nA\n### Explanation\nE\n", encoding="utf-8")
    assert main(["check", str(cards)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{cards / 'long.md'}:1:1: error: front matter is 40,010 characters long, more than flashdeck reads (32,768): move long text out of it",
        "1 error, 0 warnings",
    ]
