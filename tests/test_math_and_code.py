"""Math, chemistry, code and links as authors write them, rendered for Anki.

Anki's own MathJax typesets `\\(…\\)` and `\\[…\\]` on every client, so the
renderer's only job is to hand those over untouched: Python-Markdown on its
own would eat the backslash of `\\(` and turn `_…_` or `*…*` into emphasis.
"""

from __future__ import annotations

from flashdeck.render import Renderer


def render(text: str) -> str:
    return Renderer().markdown(text)


def test_inline_dollar_math_reaches_anki_as_paren_delimiters_with_underscores_and_backslashes():
    out = render(r"FEMg is $\frac{U_{Mg} \times P_{Cr}}{0.7 \times P_{Mg}}$ here.")
    assert out == r'FEMg is <span class="arithmatex">\(\frac{U_{Mg} \times P_{Cr}}{0.7 \times P_{Mg}}\)</span> here.'


def test_two_math_spans_with_underscores_do_not_become_emphasis():
    assert render("$a_1$ and $b_2$") == r'<span class="arithmatex">\(a_1\)</span> and <span class="arithmatex">\(b_2\)</span>'


def test_asterisks_inside_math_stay_asterisks():
    assert render("$a*b*c$") == r'<span class="arithmatex">\(a*b*c\)</span>'


def test_display_dollar_math_becomes_bracket_delimiters_keeping_double_backslashes():
    source = "$$\n\\begin{aligned} a &= b \\\\ c &= d \\end{aligned}\n$$"
    expected = '<div class="arithmatex">\\[\n\\begin{aligned} a &amp;= b \\\\ c &amp;= d \\end{aligned}\n\\]</div>'
    assert render(source) == expected


def test_one_line_display_math_becomes_bracket_delimiters():
    assert render("$$x_1 + x_2$$") == r'<div class="arithmatex">\[x_1 + x_2\]</div>'


def test_paren_delimiters_written_directly_survive():
    assert render(r"\(x_1\)") == r'<span class="arithmatex">\(x_1\)</span>'


def test_dollar_amounts_stay_plain_text():
    assert render("A strip costs $5 or $6.") == "A strip costs $5 or $6."


def test_chemistry_superscripts_and_subscripts():
    assert render("Mg^2+^, H~2~O and Cl^-^") == "Mg<sup>2+</sup>, H<sub>2</sub>O and Cl<sup>\u2212</sup>"
    assert render("Ca<sup>2+</sup> and CO<sub>2</sub>") == "Ca<sup>2+</sup> and CO<sub>2</sub>"


def test_fenced_code_is_highlighted_with_fd_code_classes():
    out = render("```python\ndef f(x):\n    return x\n```")
    assert out.startswith('<div class="fd-code"><pre>')
    assert '<span class="k">def</span>' in out
    assert '<span class="nf">f</span>' in out
    assert "http" not in out  # nothing remote: the colours ship in the note type's CSS


def test_bare_url_becomes_a_tappable_link_and_keeps_its_underscores():
    out = render("See https://example.org/a_b_c/ now")
    assert out == 'See <a href="https://example.org/a_b_c/">https://example.org/a_b_c/</a> now'
