"""Robustness of YAML front matter: whatever a file's front matter holds, flashdeck answers.

Hypothesis writes YAML-looking text from YAML's own pieces, and whole documents made by
dumping Python values with `yaml.safe_dump`. A document flashdeck can read gives back
exactly the deck, tags and shuffle that were dumped; anything else gives located problems,
never an exception.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from flashdeck.api import check
from flashdeck.cli import main
from flashdeck.errors import FlashdeckError
from flashdeck.frontmatter import read
from judge import read_and_judge

PATH = Path("cards/x.md")
CARD = "## Q {#q}\nQ?\n### Answer\nA\n### Explanation\nE\n"

PIECES = [
    "deck", "tags", "shuffle", "title", "aliases", "<<", "? ", ": ", ":", "::", " ", "  ", "\t", "\n", "\n", "\n  ",
    "- ", "-", "[", "]", "{", "}", ",", "#", " # c", "'", "''", '"', '\\"', "\\u202e", "\\x07", "\\", "&a ", "*a", "&b",
    "*b", "!!str ", "!!python/object:os.system ", "!x ", "\\ud800", "\\ufffe", "~", "null", "yes", "no", "on", "010", "1.10", "|", ">", "|-",
    "%YAML 1.1", "--- ", "...", "é", "\u202e", "\u200f", "\x07", "\x85", "\u2028", "\ufeff", "\ufffe", "Renal::Mg",
]
yamlish = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=6)), max_size=50).map("".join)


def front_matter(text: str) -> list[str]:
    """A file's lines: `text` as front matter, then one card."""
    return ["---", *text.split("\n"), "---", *CARD.split("\n")]


def assert_located(lines: list[str], problems) -> None:
    for p in problems:
        assert 1 <= p.line <= len(lines), p
        assert p.column is None or p.column >= 1, p
        assert p.severity in ("error", "warning"), p
        assert p.message.strip() and "\n" not in p.message, p
        p.message.encode("utf-8")  # printable: no lone surrogate from an escape
        assert not any(unicodedata.category(ch) == "Cc" or ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069" for ch in p.message), p


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(yamlish)
def test_yaml_like_front_matter_gives_values_or_located_problems(text):
    lines = front_matter(text)
    try:
        fm = read(lines)
    except Exception:  # noqa: BLE001 - the point: nothing may escape
        pytest.fail(f"front matter {text!r} raised")
    assert_located(lines, fm.problems)
    if "---" not in text and "..." not in text:  # else the front matter ended early
        assert fm.body_start == text.count("\n") + 3  # the opening line, the text, the closing line


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_arbitrary_text_as_front_matter_gives_located_problems(text):
    lines = front_matter(text)
    fm = read(lines)
    assert_located(lines, fm.problems)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(yamlish)
def test_yaml_like_front_matter_through_the_parser_gives_located_diagnostics(text):
    source = "---\n" + text + "\n---\n" + CARD
    _, diagnostics = read_and_judge(source, PATH)
    line_count = source.count("\n") + 1
    for d in diagnostics:
        assert d.path == PATH
        assert 0 <= d.line <= line_count, d


# Documents dumped by PyYAML: what was written comes back.

BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def invisible(s: str) -> bool:
    """README: control characters (C0, C1), bidi controls, line separators, and what is not a character."""
    return any(ch in BIDI or ch in "\ufffe\uffff" or unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") for ch in s)


def expected_deck(deck: str) -> str | None:
    """README: a deck name, `Parent::Child`, parts trimmed, none empty; None when it must be an error."""
    deck = deck.strip()  # a block scalar's last line break, or spaces around the name
    parts = [p.strip() for p in deck.split("::")]
    if invisible(deck) or not all(parts):
        return None
    return "::".join(parts)


def expected_tags(tags: list[str]) -> tuple[str, ...] | None:
    """README: each tag without spaces, quotes or commas; blank ones skipped, repeats dropped."""
    out: list[str] = []
    for tag in (t.strip() for t in tags):
        if invisible(tag) or (tag and re.search(r"[\s\"',]", tag)):
            return None
        if tag and tag not in out:
            out.append(tag)
    return tuple(out)


plain_words = st.text(st.characters(categories=("L", "N"), include_characters="-_:/."), min_size=1, max_size=12)
other_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | plain_words,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(plain_words, inner, max_size=3),
    max_leaves=8,
)
documents = st.fixed_dictionaries(
    {},
    optional={
        "deck": st.text(max_size=30) | st.sampled_from(["Renal::Mg", " Renal :: Mg ", "yes", "~", "010", "Renal::::Mg", "a\u202eb"]),
        "tags": st.lists(st.text(max_size=10) | st.sampled_from(["no", "on", "1.10", "#mg", "a b", "c,d"]), max_size=6),
        "shuffle": st.booleans(),
        "title": other_values,
        "aliases": other_values,
        "params": other_values,
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents, st.booleans(), st.booleans())
def test_dumped_documents_read_back_as_written(doc, flow, unicode):
    text = yaml.safe_dump(doc, default_flow_style=flow, allow_unicode=unicode, sort_keys=False)
    lines = front_matter(text.rstrip("\n"))
    assume(not any(line.strip() in ("---", "...") for line in text.split("\n")))
    fm = read(lines)
    assert_located(lines, fm.problems)
    deck = expected_deck(doc["deck"]) if "deck" in doc else "(none)"
    tags = expected_tags(doc["tags"]) if "tags" in doc else ()
    errors = [p for p in fm.problems if p.severity == "error"]
    # PyYAML may write a NEL or a line separator as it is; the file may not hold one raw.
    raw_control = any(ch not in "\t\n" and invisible(ch) and ch not in BIDI for ch in text)
    if deck is None or tags is None or raw_control:
        assert errors, text
        return
    assert errors == [], text
    assert fm.deck == (None if deck == "(none)" else deck)
    assert fm.tags == tags
    assert fm.shuffle == doc.get("shuffle")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(yamlish)
def test_whole_check_on_yaml_like_front_matter_gives_a_result_or_our_error(tmp_path, text):
    cards = tmp_path / "cards"
    cards.mkdir(exist_ok=True)
    (cards / "x.md").write_text("---\n" + text + "\n---\n" + CARD, encoding="utf-8", newline="")
    try:
        check(cards)
    except FlashdeckError as err:
        for d in err.diagnostics:
            assert str(d).startswith(str(cards))


@pytest.mark.parametrize(
    ("front", "where"),
    [
        # Level 65 is refused: the 64th '[' after the root mapping, the key of the 63rd '{'.
        ("deck: " + "[" * 500, "2:70"),
        ("deck: " + "{a: " * 500, "2:256"),
        ("deck:\n" + "".join(" " * i + "-\n" for i in range(1, 201)), "66:65"),
        ("x:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, 201)), "65:64"),
        ("tags:\n" + "- " * 500 + "a", "3:127"),
    ],
    ids=["flow-lists", "flow-mappings", "block-lists-200", "block-mappings-200", "one-line-block-lists"],
)
def test_nesting_500_deep_is_a_located_error_not_a_recursion_error(front, where, tmp_path, capsys):
    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "deep.md").write_text("---\n" + front + "\n---\n" + CARD, encoding="utf-8")
    assert main(["check", str(cards)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"{cards / 'deep.md'}:{where}: error: front matter is not valid YAML (lists and mappings nest more than 64 levels deep): fix the YAML or quote the value",
        "1 error, 0 warnings",
    ]
