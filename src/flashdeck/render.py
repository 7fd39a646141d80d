"""Markdown source -> the HTML fields of a flashdeck note.

This module owns the one Python-Markdown instance of a build and all escaping
and sanitising. Python-Markdown's output is not sanitised (its `convert`
docstring says so); every field passes through nh3 with an allowlist before it
reaches a card.
"""

from __future__ import annotations

import html
import re

import markdown
import nh3

from .model import Card, Note, Section

EXTENSIONS = [
    "pymdownx.arithmatex",  # $…$ / $$…$$ -> \(…\) / \[…\] for Anki's MathJax, untouched by Markdown
    "pymdownx.caret",  # Mg^2+^ -> Mg<sup>2+</sup>
    "pymdownx.tilde",  # H~2~O -> H<sub>2</sub>O
    "fenced_code",
    "codehilite",  # Pygments classes; the CSS ships inside the note type (offline)
    "tables",
    "sane_lists",
    "pymdownx.magiclink",  # bare URLs become tappable links (and keep their underscores out of <em>)
]
EXTENSION_CONFIGS = {
    "pymdownx.arithmatex": {"generic": True},
    "codehilite": {"guess_lang": False, "css_class": "fd-code"},
}

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
    "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins",
    "kbd", "li", "mark", "ol", "p", "pre", "s", "small", "span", "strong", "sub", "sup",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
ALLOWED_ATTRIBUTES = {
    "*": {"class", "title", "lang", "dir"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "ol": {"start", "type"},
    "td": {"colspan", "rowspan", "align", "style"},
    "th": {"colspan", "rowspan", "align", "style"},
    "abbr": {"title"},
}
URL_SCHEMES = {"http", "https", "mailto"}

_SINGLE_P_RE = re.compile(r"\A<p>((?:(?!<p[ >]).)*?)</p>\Z", re.DOTALL)
_IMG_SRC_RE = re.compile(r'(<img\b[^>]*?\bsrc=)"([^"]*)"')
_SUP_MINUS_RE = re.compile(r"<sup>(\d*)-</sup>")


class Renderer:
    """Renders Markdown fields. One instance per build; not thread-safe."""

    def __init__(self) -> None:
        self._md = markdown.Markdown(extensions=EXTENSIONS, extension_configs=EXTENSION_CONFIGS)
        self._media: dict[str, str] = {}

    def markdown(self, text: str) -> str:
        """Markdown -> sanitised HTML. A lone paragraph loses its `<p>` wrapper."""
        if not text.strip():
            return ""
        # reset() between fields: footnotes and abbreviations would leak otherwise.
        self._md.reset()
        out = self._md.convert(text)
        out = _SUP_MINUS_RE.sub("<sup>\\1\u2212</sup>", out)  # Cl^-^ -> a real minus sign
        if self._media:
            out = _IMG_SRC_RE.sub(self._packaged_src, out)
        out = sanitize(out)
        m = _SINGLE_P_RE.match(out)
        if m:
            out = m.group(1)
        return out

    def _packaged_src(self, m: re.Match) -> str:
        ref = html.unescape(m.group(2))
        return f'{m.group(1)}"{html.escape(self._media.get(ref, ref))}"'

    def inline(self, text: str) -> str:
        return self.markdown(text)

    def section(self, section: Section | None) -> str:
        return self.markdown(section.text) if section is not None else ""

    def note(self, card: Card, source: str, fields: tuple[str, ...], media: dict[str, str] | None = None) -> Note:
        """Render `card` into a `Note` whose fields follow `fields` (the note type's order).

        `media` maps image paths as written in the card to their packaged names.
        """
        self._media = media or {}
        values = {
            "ID": html.escape(card.id or ""),
            "Question": self.section(card.question),
            "Options": self.options(card),
            "Answer": self.answer(card),
            "Explanation": self.section(card.explanation),
            "References": self.section(card.references),
            "Source": html.escape(source),
        }
        return Note(
            id=card.id or "",
            deck=card.deck,
            title=card.title,
            fields=tuple(values[name] for name in fields),
            tags=card.tags,
            path=card.path,
            line=card.line,
        )

    def options(self, card: Card) -> str:
        if not card.options:
            return ""
        items = []
        for opt in card.options:
            cls = "fd-option fd-correct" if opt.correct else "fd-option"
            items.append(
                f'<li class="{cls}"><span class="fd-letter">{opt.letter}</span> '
                f'<span class="fd-text">{self.inline(opt.text)}</span></li>'
            )
        return '<ol class="fd-options" type="A">' + "".join(items) + "</ol>"

    def answer(self, card: Card) -> str:
        if card.options:
            correct = card.correct_options
            if not correct:
                return ""
            opt = correct[0]
            return f'<span class="fd-letter">{opt.letter}</span> <span class="fd-text">{self.inline(opt.text)}</span>'
        return self.section(card.answer)


def sanitize(fragment: str) -> str:
    """Keep formatting HTML only: no scripts, frames, handlers or foreign URL schemes."""
    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=None,
        strip_comments=True,
    )
