"""Robustness: whatever an author (or a shared deck) puts in a file, the parser answers.

It returns cards and located problems, or raises our own error type with a
location; never another exception, never a hang. Hypothesis feeds it arbitrary
text and text assembled from the format's own pieces. No test here times
anything (a busy machine would fail it): pathological lines are checked by
how the parser's work grows with them, counted (tests/growth.py).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flashdeck import scan
from flashdeck.api import check
from flashdeck.errors import FlashdeckError
from growth import steps
from judge import PATH, read_and_judge

PIECES = [
    "## ", "### ", "# ", "##", "{#", "}", "{#a}", "{#a b}", "## Q {#q1}", "## Q {#q2}\n",
    "- [ ] ", "- [x] ", "- [X]", "* [ ]", "1. [ ] ", "- ", "  ", "\t", "\n", "\n", "\n", "\r\n", "\r",
    "---", "...", "```", "````", "~~~", "`", "<!--", "-->", "Tags: ", "tags: [a, b]", "deck: A::B",
    "### Answer", "### Explanation", "### References", "### Notes", "x", "é", "#", "[", "]", ":", "::",
    "\x00", "\u2028", "\x0c", "\x85", "\ufeff", "<script>", "<img src=x onerror=y>", "![i](a.png)",
    "[l](javascript:x)", "$x$", "^2^", "~2~", "|a|\n|-|\n|b|",
]

markdownish = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=8)), max_size=60).map("".join)


def assert_located(text: str, diagnostics) -> None:
    line_count = text.count("\n") + 1
    for d in diagnostics:
        assert d.path == PATH
        assert 0 <= d.line <= line_count, d
        assert d.column is None or d.column >= 1, d
        assert d.severity in ("error", "warning")
        assert d.message.strip()


def assert_parses(text: str) -> None:
    cards, diagnostics = read_and_judge(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    assert_located(text, diagnostics)
    line_count = text.count("\n") + 1
    for card in cards:
        assert 1 <= card.line <= line_count
        for section in (card.question, card.answer, card.explanation, card.references):
            assert section is None or 1 <= section.line <= line_count + 1
        for option in card.options:
            assert 1 <= option.line <= line_count


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(markdownish)
def test_markdown_like_text_gives_cards_and_located_problems(text):
    assert_parses(text)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_arbitrary_text_gives_cards_and_located_problems(text):
    assert_parses(text)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_are_text_or_a_located_flashdeck_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("bytes") / "x.md"
    path.write_bytes(data)
    try:
        data = scan.load(path)
    except FlashdeckError as err:
        assert err.diagnostic.path == path
        assert err.diagnostic.line >= 0
        assert "UTF-8" in err.diagnostic.message
    else:
        assert b"\r" not in data


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(markdownish)
def test_whole_check_gives_a_result_or_our_error_with_a_location(tmp_path, text):
    """Parse, validate, media and the sanitizer together: only FlashdeckError may escape."""
    cards = tmp_path / "cards"
    cards.mkdir(exist_ok=True)
    (cards / "x.md").write_text(text, encoding="utf-8", newline="")
    try:
        check(cards)
    except FlashdeckError as err:
        assert err.diagnostics
        for d in err.diagnostics:
            assert str(d).startswith(str(cards))


LINEAR = 8
"""The most the parser's work may grow when a line gets four times longer: linear is 4 (or 1), quadratic 16."""


@pytest.mark.parametrize(
    ("line", "n"),
    [
        (lambda n: "## " + " #" * n + "x", 30_000),  # heading content with a long run of closing-sequence look-alikes
        (lambda n: "## T " + "{#" * n, 30_000),  # ids that never close
        (lambda n: "<!-- " + "` `` " * n, 30_000),  # code spans that never close, inside a comment line
        (lambda n: "````x\n```\n" * n, 8_000),  # fences that never close, each followed by a short closed one
        (lambda n: "- [x]" * n, 100_000),  # one enormous option line
    ],
    ids=["closing-hashes", "open-ids", "open-code-spans", "open-fences", "long-option"],
)
def test_pathological_lines_parse_in_linear_time(line, n):
    """Each of these took quadratic time with a backtracking regex or a rescan per opener."""
    work = []
    for size in (n // 4, n):
        text = "## Card {#c}\n" + line(size) + "\n### Answer\nA\n### Explanation\nE\n"
        work.append(steps(lambda: read_and_judge(text)))  # noqa: B023 - called at once
    assert work[1] < LINEAR * work[0], work


@pytest.mark.parametrize(
    ("line", "n"),
    [(lambda n: "<img " * n, 30_000), (lambda n: "![" * n, 300_000), (lambda n: "![a](b.png \"t" * n, 20_000)],
    ids=["img-tags-never-closed", "image-brackets-never-closed", "image-titles-never-closed"],
)
def test_pathological_image_syntax_is_refused_in_linear_time(line, n):
    """Finding a card's images once took a quarter of an hour on 150 kB of '<img '; Markdown itself
    needs minutes for such text, so the card is refused with a located error before rendering."""
    work = []
    for size in (n // 4, n):
        text = f"## t {{#c}}\n{line(size)}\n\n### Answer\nA\n\n### Explanation\nE\n"
        work.append(steps(lambda: read_and_judge(text)))  # noqa: B023 - called at once
        _, diagnostics = read_and_judge(text)
        assert [(d.line, d.severity) for d in diagnostics] == [(2, "error")]
        assert "reasonable time" in diagnostics[0].message
    assert work[1] < LINEAR * work[0], work
