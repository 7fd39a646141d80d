"""`sanitize.unchanged` vouches for a field only when nh3 would give it back byte for byte.

The renderer skips nh3 (and the audit) for such fields, so a wrong True would
change a card's HTML; a wrong False only costs time.
"""

from __future__ import annotations

import markdown
from hypothesis import given, settings
from hypothesis import strategies as st
from test_render_speed import TOKENS

from flashdeck import render
from flashdeck.sanitize import _CLEANER, unchanged

MD = markdown.Markdown(extensions=render.EXTENSIONS, extension_configs=render.EXTENSION_CONFIGS)

TAGS = ["p", "ul", "ol", "li", "blockquote", "pre", "div", "h2", "a", "em", "strong", "code", "span", "sup", "sub", "del", "br", "img", "table", "td", "dd"]
ATTRIBUTES = [
    "", ' class="c"', ' title="t &amp; &quot;q&quot;"', ' href="https://a.org/p?q=1&amp;r=2#f"', ' href="#top"', ' href="http://Ex-ample.COM:80"',
    ' href="https://xn--a.org"', ' href="https://a--b.org"', ' href="http://1.2.3.4"', ' href="https://a.org/ x"', ' href="page.html"', ' start="3"',
    ' style="text-align: left;"', ' onclick="x"', ' class="c" class="d"', ' title="&#10;"', ' title="&lt;"',
]
TEXTS = ["x", " ", "\n", "&amp;", "&lt;", "&gt;", "&quot;", '"', "'", "&", "<", ">", "\u00a0", "\ufeff", "\r", "\x00", "\x0c", "é", "–", "\u200b", "\U0001f600"]


def _same_as_nh3(fragment: str) -> None:
    if unchanged(fragment):
        assert _CLEANER.clean(fragment) == fragment


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=12).map("".join))
def test_markdowns_html_is_vouched_for_only_when_nh3_keeps_it(text):
    MD.reset()
    try:
        html = MD.convert(text)
    except RecursionError:
        return
    _same_as_nh3(html)


_trees = st.recursive(
    st.sampled_from(TEXTS) | st.text(max_size=4),
    lambda inner: st.tuples(st.sampled_from(TAGS), st.sampled_from(ATTRIBUTES), st.lists(inner, max_size=4), st.sampled_from(["", "\n"])).map(
        lambda t: f"<{t[0]}{t[1]}>{t[3]}{''.join(t[2])}</{t[0]}>"
    ),
    max_leaves=12,
)


@settings(max_examples=3000, deadline=None)
@given(st.lists(_trees, max_size=3).map("".join))
def test_any_tree_of_tags_is_vouched_for_only_when_nh3_keeps_it(html):
    _same_as_nh3(html)


def test_the_usual_fields_are_vouched_for():
    usual = [
        "Thick ascending limb",
        '<p>The <em>TAL</em> takes <strong>70%</strong>, see <code>a_b</code> and <a href="https://pubmed.ncbi.nlm.nih.gov/1/">this</a>.</p>\n<ul>\n<li>one</li>\n</ul>',
        '<div class="fd-code"><pre><span></span><code><span class="n">x</span> &lt; 1\n</code></pre></div>',
        "<ol>\n<li>\n<p>a</p>\n</li>\n</ol>",
    ]
    for html in usual:
        assert unchanged(html), html
        assert _CLEANER.clean(html) == html


def test_what_nh3_would_change_is_left_to_nh3():
    changed = ["<pre>\nx</pre>", "\ufeffx", "<p>a<br />b</p>", "<p><div>x</div></p>", "<a href=\"#a\"><a href=\"#b\">x</a></a>", "x &copy; y", "<em>x"]
    for html in changed:
        assert not unchanged(html), html
        assert _CLEANER.clean(html) != html, html
