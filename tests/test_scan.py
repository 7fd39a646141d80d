"""scan.split finds card headings by looking only at the lines that can matter; scan.blank reads every line.

Both must agree on where cards start, or a card's own text (parsed with `blank`)
would disagree with where the build cut it.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from flashdeck import heading, scan

PIECES = [
    "## Card", "##NoSpace", "   ## Indented", "    ## Too deep", "# Title {#t}", "### Section",
    "```", "````", "```py", "``` `x`", "~~~", "~~~~", "  ```",
    "<!--", "-->", "text <!-- note", "done -->", "`<!--`", "<!-- one line -->",
    "text", "", "- [x] option",
]


def starts_by_blank(text: str) -> list[int]:
    lines = text.split("\n")
    visible, code = scan.blank(lines)
    return [i + 1 for i, line in enumerate(visible) if not code[i] and heading.atx(line, 2) is not None]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40))
def test_split_and_blank_agree_on_where_cards_start(pieces):
    text = "\n".join(["intro", *pieces])  # (no front matter: that is split's alone)
    assert [c.line for c in scan.split(text.encode("utf-8")).chunks] == starts_by_blank(text)


def test_a_fence_never_closed_is_text_and_a_comment_never_closed_hides_the_rest():
    text = "intro\n```\n## A\n<!--\n## B\n"
    assert [c.line for c in scan.split(text.encode("utf-8")).chunks] == [3] == starts_by_blank(text)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from([*PIECES, "---", "deck: D"]), max_size=30), st.booleans())
def test_the_text_before_the_cards_and_the_cards_are_the_body_byte_for_byte(pieces, front):
    """Cards are cut where their heading's line starts, from the first line of the file on."""
    text = "\n".join((["---", "deck: D", "---"] if front else []) + pieces)
    data = text.encode("utf-8")
    split = scan.split(data)
    # Read line by line from where the body starts: a front matter never closed ends at the first card
    # heading whatever its lines hold (a '<!--' there opens no comment; the file is an error anyway).
    body_lines = text.split("\n")[split.body_start :]
    assert [c.line for c in split.chunks] == [split.body_start + n for n in starts_by_blank("\n".join(body_lines))]
    body = b"\n".join(data.split(b"\n")[split.body_start :])
    assert split.preamble + b"".join(c.text for c in split.chunks) == body
    lines = data.split(b"\n")
    assert all(lines[c.line - 1] == c.text.split(b"\n")[0] for c in split.chunks)
