"""rescan.again cuts an edited file from its last cut: it must give scan.split's cut, or none at all."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from test_scan import PIECES

from flashdeck import rescan, scan

EDITS = [*PIECES, "---", "deck: D", "## Card {#new}", "More text."]


def same(a: scan.Split, b: scan.Split) -> bool:
    return (
        [(c.line, c.text) for c in a.chunks] == [(c.line, c.text) for c in b.chunks]
        and (a.front, a.body_start, a.lookalikes, a.unclosed_fences, a.unclosed_comment, a.preamble)
        == (b.front, b.body_start, b.lookalikes, b.unclosed_fences, b.unclosed_comment, b.preamble)
    )


def digests(split: scan.Split) -> bytes:
    return b"".join(rescan.digest(c.text, 0, len(c.text)) for c in split.chunks)


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(st.sampled_from(PIECES), max_size=30),
    st.booleans(),
    st.integers(0, 40),
    st.integers(0, 6),
    st.lists(st.sampled_from(EDITS), max_size=6),
)
def test_a_file_cut_again_is_cut_as_split_cuts_it(pieces, front, at, removed, inserted):
    old = "\n".join((["---", "deck: D", "---"] if front else []) + pieces) + "\n"
    lines = old.split("\n")
    at = min(at, len(lines))
    new = "\n".join(lines[:at] + inserted + lines[at + removed :])
    old_data, new_data = old.encode(), new.encode()
    last = rescan.shape(scan.split(old_data), old_data)
    made = rescan.again(new_data, last)
    if made is not None:
        split, kept = made
        assert same(split, scan.split(new_data))
        assert kept == digests(split)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 49), st.sampled_from(["Edited.", "A new line\n\nand a paragraph.", "```\ncode\n```", "<!-- a note -->"]))
def test_an_edit_inside_one_card_is_cut_again_not_whole(card, text):
    cards = [f"## Card {k} {{#c{k}}}\nWhat is {k}?\n\n### Answer\n{k}\n\n### Explanation\nBecause {k}.\n" for k in range(50)]
    old = "---\ndeck: D\n---\n\n" + "\n".join(cards)
    edited = cards[:card] + [cards[card].replace("Because", f"{text}\n\nBecause")] + cards[card + 1 :]
    new = "---\ndeck: D\n---\n\n" + "\n".join(edited)
    last = rescan.shape(scan.split(old.encode()), old.encode())
    made = rescan.again(new.encode(), last)
    assert made is not None, "a one-card edit was cut whole"
    assert same(made[0], scan.split(new.encode()))


def test_a_fence_left_open_before_the_edit_makes_the_file_cut_whole():
    # The open fence is text while nothing closes it; the edit's fence closes it, and the cards between become code.
    old = "## A\n```\n## B\ntext\n## C\nmore\n"
    new = old.replace("more", "```")
    last = rescan.shape(scan.split(old.encode()), old.encode())
    assert rescan.again(new.encode(), last) is None
    assert [c.line for c in scan.split(new.encode()).chunks] == [1]


BODY = ["text", "", "### Section", "```\n## in code\n```", "~~~\n```\n~~~", "<!-- ## hidden -->", "<!--\n## hidden\n-->",
        "##NoSpace", "# Title {#t}", "- [x] option", "`<!--`"]


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from(BODY), max_size=5), min_size=1, max_size=12),
    st.booleans(),
    st.data(),
)
def test_a_file_of_whole_cards_edited_anywhere_is_cut_as_split_cuts_it(bodies, front, data):
    cards = [f"## Card {k}\n" + "\n".join(body) for k, body in enumerate(bodies)]
    old = "\n".join((["---", "deck: D", "---", "intro"] if front else []) + cards) + "\n"
    lines = old.split("\n")
    at = data.draw(st.integers(0, len(lines)))
    removed = data.draw(st.integers(0, 4))
    inserted = data.draw(st.lists(st.sampled_from([*EDITS, *BODY]), max_size=4))
    new = "\n".join(lines[:at] + inserted + lines[at + removed :])
    last = rescan.shape(scan.split(old.encode()), old.encode())
    made = rescan.again(new.encode(), last)
    if made is not None:
        assert same(made[0], scan.split(new.encode()))
        assert made[1] == digests(made[0])
