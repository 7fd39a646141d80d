"""Rendering's fast paths (issue 7) give exactly the HTML of the full Markdown instance.

A field skips Python-Markdown when it is one line of plain words, and otherwise
runs on an instance without the extensions and inline patterns it cannot
trigger. Both must be invisible: every input renders as the full instance
renders it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import markdown
from hypothesis import example, given, settings
from hypothesis import strategies as st

from flashdeck import parse, render, scan, triggers
from flashdeck.discover import default_deck_name, relpath
from flashdeck.model import Card, FileContext, Section
from flashdeck.render import Renderer

ROOT = Path(__file__).resolve().parent.parent
FULL = Renderer(fast=False)
FAST = Renderer()

TOKENS = [
    "Mg", "word", "Thick ascending limb", " ", " ", "  ", "\n", "\n\n", "\t", "    ", ".", ",", ";", ":", "?", "!",
    "'", '"', "(", ")", "%", "+", "=", "-", "--", "_", "__", "*", "**", "`", "``", "```", "~", "~~", "^", "$",
    "$$", "\\", "\\(", "[", "]", "](", "[x](https://example.org/a_b)", "![i](dot.png)", "<", ">", "<b>", "</b>",
    "<script>", "&", "&amp;", "&#60;", "#", "## ", "> ", "- ", "* ", "+ ", "1. ", "2) ", "|", "| a | b |\n|---|---|",
    "www.example.org", "http://x.org", "a@b.co", "<https://x.org>", "é", "µ", "²", "\u00a0", "\u200b", "Ω", "1",
    "2024", "Cl^-^", "H~2~O", "x^2^", "{#id}", "[^1]", "---", "===", "\r", "[r]: https://x.org/r\n", "[r]", "[a][r]",
    "![a][r]", "[x](page.html)", "[x](javascript:alert(1))", "<img src=x onerror=y>", "<iframe>", "ftp://x.org/f",
    '<span style="color:red">', "<!-- c -->", "<hr>", "<div>", "</div>", "<?x?>", "<![CDATA[x]]>",
    # A URL as a link's target, as its text, in code, in capitals, cut in two: magiclink's pattern is
    # left out where the links take every URL, and the field rendered again where one is left.
    "[https://x.org](https://x.org)", "[x](www.a.org)", "`https://x.org`", "HTTP://X.ORG", "WWW.X.ORG", "https:", "//",
    "[x](https://x.org/a_(b))", "[a@b.co](mailto:a@b.co)", "@", "~~~", "[x]", "(https://x.org)",
]


def _as_card(text: str) -> Card:
    return Card(id="h-1", title="T", path=Path("h.md"), line=1, deck="D", question=Section(text, 2), explanation=Section(text, 9))


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=12).map("".join))
# Found by this test: raw HTML lifted out of a line joins the spaces on its two sides.
@example("<!-- c -->  <!-- c -->  ")  # four spaces: an empty code block
@example("<hr>  &amp;  a b<span>")
@example("<!-- c -->a b  &amp;<p>      ")  # "  \n": a line break
@example("<hr>!<?x?>[x](y.png)")  # "![": an image
@example("WWW.X.ORGa@b.co")  # magiclink's mail pattern writes the URL it takes as entities
@example("[x](https://x.org) www.a.org")  # a URL that is a link's target, and one left in the text
def test_fast_paths_render_like_the_full_instance(text):
    assert FAST.markdown(text) == FULL.markdown(text)


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=12).map("".join))
def test_fast_paths_report_what_the_sanitizer_removes_like_the_full_instance(text):
    fast, full = Renderer(), Renderer(fast=False)
    assert fast.card(_as_card(text), "h.md") == full.card(_as_card(text), "h.md")


@settings(max_examples=1000, deadline=None)
@given(st.text(max_size=40))
def test_fast_paths_render_any_unicode_like_the_full_instance(text):
    assert FAST.markdown(text) == FULL.markdown(text)


def _corpus_cards():
    """Every card of the test fixtures, the shipped decks and a slice of the benchmark corpus."""
    spec = importlib.util.spec_from_file_location("bench_corpus", ROOT / "bench" / "corpus.py")
    corpus = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(corpus)
    rng = corpus.random.Random(3)
    bench_text = "\n".join(corpus.card(rng, k) for k in range(300))
    yield from parse.file(bench_text.encode(), FileContext(Path("bench.md"), "bench.md", "bench"))
    for root in (ROOT / "tests" / "fixtures", ROOT / "cards"):
        for path in sorted(root.rglob("*.md")):
            try:
                data = scan.load(path)
                data.decode("utf-8")
            except Exception:  # noqa: BLE001 - the bad-input fixtures include undecodable files
                continue
            yield from parse.file(data, FileContext(path, relpath(path, root), default_deck_name(relpath(path, root))))


def test_every_card_we_have_renders_like_the_full_instance():
    cards = list(_corpus_cards())
    assert len(cards) > 300
    fast, full = Renderer(), Renderer(fast=False)
    for card in cards:
        assert fast.card(card, "x.md") == full.card(card, "x.md"), card.label


def test_plain_words_skip_python_markdown(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("Python-Markdown was called")

    monkeypatch.setattr(markdown.Markdown, "convert", fail)
    renderer = Renderer()
    assert renderer.markdown("Thick ascending limb (about 70%), not the DCT.") == "Thick ascending limb (about 70%), not the DCT."


def test_every_extension_in_use_has_known_triggers():
    """A new extension needs its trigger strings in render.py; until then the fast paths switch off."""
    unknown = [e for e in render.EXTENSIONS if e not in triggers.EXTENSIONS and e not in triggers.UNGATED]
    assert unknown == []
