"""Markdown source -> the HTML fields of a card's note.

This module owns the Python-Markdown instances of a session and turns each
field into sanitised HTML (sanitize.py). Cloze deletions are kept whole
through Markdown (cloze.py). What the sanitizer removed is reported at its
place in the card; a field Python-Markdown cannot follow (nesting deeper than
Python's recursion limit) is an error at the field, never a traceback.
"""

from __future__ import annotations

import html
import importlib
import re
from dataclasses import dataclass

import markdown

from . import cloze, notetype, triggers
from .errors import ERROR, WARNING, Diagnostic
from .model import CLOZE, Card, Section
from .sanitize import locate, plainly_allowed, removals, sanitize, unchanged

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

_SUP_MINUS_RE = re.compile(r"<sup>(\d*)-</sup>")
_IMG_SRC_RE = re.compile(r'<img\b[^>]*?\bsrc="([^"]*)"')


@dataclass(frozen=True, slots=True)
class Rendered:
    """A card's fields in its note type's order, what rendering found wrong, and the images the fields show."""

    fields: tuple[str, ...]
    problems: tuple[Diagnostic, ...]
    images: tuple[str, ...]
    """`src` of every image that is not inline data, as the HTML has it (entities escaped)."""


class Renderer:
    """Renders Markdown fields. One per session (a build, or all builds of `--watch`); not thread-safe."""

    def __init__(self, fast: bool = True) -> None:
        """`fast=False` always uses the full Markdown instance (the reference the fast paths are tested against)."""
        self._fast = fast and triggers.all_gated(EXTENSIONS)
        self._full: markdown.Markdown | None = None
        self._variants: dict[tuple[frozenset, frozenset], markdown.Markdown] = {}
        self._plans: dict[frozenset, tuple[markdown.Markdown, bool, bool, markdown.Markdown | None]] = {}

    def card(self, card: Card, rel: str) -> Rendered:
        """`card`'s note fields; `rel` (its file below the cards folder) is the Source field."""
        problems: list[Diagnostic] = []
        field = _Field(self, card, problems)
        values = {"ID": html.escape(card.id or ""), "Source": html.escape(rel)}
        if card.kind == CLOZE:
            q = card.question
            values["Text"] = cloze.restore(field.markdown(cloze.protect(q.text, card.deletions, q.line), q.line))
            kind = notetype.CLOZE
        else:
            values["Question"] = field.section(card.question)
            values["Options"] = field.options()
            values["Answer"] = field.answer()
            kind = notetype.BASIC
        values["Explanation"] = field.section(card.explanation)
        values["References"] = field.section(card.references)
        fields = tuple(values[name] for name in kind.fields)
        images = []
        for value in fields:
            if "<img" in value:
                images += [s for s in dict.fromkeys(_IMG_SRC_RE.findall(value)) if not s.lower().startswith("data:") and s not in images]
        return Rendered(fields, tuple(problems), tuple(images))

    def markdown(self, text: str) -> str:
        """Markdown -> sanitised HTML, with nothing reported (for text that is not an author's card)."""
        return _Field(self, None, []).markdown(text, None)

    def warm(self) -> None:
        """Import every extension and compile its patterns now: the instances made later for
        each set of triggers reuse what `re` compiled, so a first card costs what the others do."""
        self._md.reset().convert("x")

    def _convert(self, text: str) -> tuple[str, bool, bool]:
        """(Markdown's HTML for `text`, whether the sanitizer's audit can find anything in it, whether it is final)."""
        if not self._fast:
            md, audit = self._md, True
        else:
            present, words = triggers.present(text)
            md, plain, audit, linked = self._plans.get(present) or self._plan(present)
            if plain and words:
                return text, False, True  # what Markdown + nh3 + unwrapping give for one line of plain words
            if linked is not None:
                out = md.reset().convert(text)
                if triggers.TEXT_URL_RE.search(out) is None:
                    return out, audit, False
                md = linked  # (a URL the links did not take: magiclink's pattern had work to do)
        # reset() between fields: footnotes and abbreviations would leak otherwise.
        md.reset()
        return md.convert(text), audit, False

    @property
    def _md(self) -> markdown.Markdown:
        """The full instance (every extension and pattern), made on first use: the fast paths rarely need it."""
        if self._full is None:
            self._full = markdown.Markdown(extensions=_made(EXTENSIONS))
        return self._full

    def _plan(self, present: frozenset) -> tuple[markdown.Markdown, bool, bool, markdown.Markdown | None]:
        """For a field holding the trigger strings `present`: its Markdown instance, whether it
        may be plain words, whether the sanitizer's audit can find anything in it, and the
        instance to use instead when the first leaves a URL in the text (else None)."""
        keep = frozenset(n for n, trig in triggers.EXTENSIONS.items() if present.intersection(trig))
        drop = frozenset(n for n, trig in triggers.PATTERNS.items() if not present.intersection(trig))
        linked = None
        if "magic-link" not in drop and not present.intersection(("<", "@")):
            # A URL that is a link's target ([text](https://…)) is taken by the link pattern, which comes
            # first: magiclink's then finds nothing, and the field renders the same without it (a fifth of
            # an explanation's time). Where a URL is left in the text, it is rendered again with it. (Not
            # with raw HTML, nor "@": the mail pattern, which comes after, writes what it takes as entities.)
            linked = self._variants.get((keep, drop)) or self._variant(keep, drop)
            drop |= {"magic-link"}
        md = self._variants.get((keep, drop)) or self._variant(keep, drop)
        plan = (md, not keep and len(drop) == len(triggers.PATTERNS), bool(present.intersection(triggers.AUDIT)), linked)
        self._plans[present] = plan
        return plan

    def _variant(self, keep: frozenset, drop: frozenset) -> markdown.Markdown:
        """A Markdown instance without the extensions and core inline patterns `text` cannot trigger.

        Python-Markdown tries every inline pattern on every text node; most
        fields use few of them, and leaving out the rest halves the time of an
        explanation. Only core patterns (module markdown.inlinepatterns) and
        magiclink's own are dropped: an extension that replaced a core one keeps it.
        """
        exts = [e for e in EXTENSIONS if e not in triggers.EXTENSIONS or e in keep]
        md = markdown.Markdown(extensions=_made(exts))
        for name in drop:
            if name in md.inlinePatterns and type(md.inlinePatterns[name]).__module__ in triggers.DROPPABLE.get(name, ("markdown.inlinepatterns",)):
                md.inlinePatterns.deregister(name)
        self._variants[(keep, drop)] = md
        return md


class _Field:
    """Rendering the fields of one card, collecting what to tell its author."""

    def __init__(self, renderer: Renderer, card: Card | None, problems: list[Diagnostic]) -> None:
        self.renderer = renderer
        self.card = card
        self.problems = problems
        self.key_html: str | None = None
        """The first correct option as `options` rendered it, for `answer`."""

    def markdown(self, text: str, line: int | None, columns: bool = True) -> str:
        """Markdown -> sanitised HTML. A lone paragraph loses its `<p>` wrapper."""
        if not text.strip():
            return ""
        try:
            out, audit, final = self.renderer._convert(text)
        except RecursionError:
            if self.card is not None:
                self.problems.append(Diagnostic(
                    self.card.path, line or self.card.line,
                    f"{self.card.label}: the Markdown here nests lists or quotes too deeply to render: flatten it",
                    ERROR,
                ))
            return ""
        if final:
            return out
        if "<sup>" in out:
            out = _SUP_MINUS_RE.sub("<sup>\\1\u2212</sup>", out)  # Cl^-^ -> a real minus sign
        if not unchanged(out):  # (most fields: the sanitizer would give them back as they are)
            if audit and self.card is not None and not plainly_allowed(out):
                self._report_removals(out, text, line, columns)
            out = sanitize(out)
        return _unwrapped(out)

    def _report_removals(self, out: str, text: str, line: int | None, columns: bool) -> None:
        """Report what `sanitize(out)` will remove, at its place in `text`."""
        card = self.card
        cursor: dict[str, int] = {}
        for message, needle in removals(out):
            at, col = locate(text, needle, cursor)
            where = (line or card.line) + text.count("\n", 0, at) if at >= 0 else (line or card.line)
            d = Diagnostic(card.path, where, f"{card.label}: {message}", WARNING, col if columns and at >= 0 else None)
            if d not in self.problems[-20:]:  # (a removal that cannot be located, found again, is told once)
                self.problems.append(d)

    def section(self, section: Section | None) -> str:
        return self.markdown(section.text, section.line) if section is not None else ""

    def options(self) -> str:
        card = self.card
        if not card.options:
            return ""
        items = []
        for opt in card.options:
            cls = "fd-option fd-correct" if opt.correct else "fd-option"
            text = self.markdown(opt.text, opt.line, columns=False)
            if opt.correct and self.key_html is None:
                self.key_html = text
            items.append(f'<li class="{cls}"><span class="fd-letter">{opt.letter}</span> <span class="fd-text">{text}</span></li>')
        # fd-shuffle: the template's script shows the options in a new order at each review.
        box = "fd-options fd-shuffle" if card.shuffle else "fd-options"
        return f'<ol class="{box}" type="A">' + "".join(items) + "</ol>"

    def answer(self) -> str:
        card = self.card
        if card.options:
            correct = card.correct_options
            if not correct:
                return ""
            opt = correct[0]
            text = self.key_html if self.key_html is not None else self.markdown(opt.text, opt.line, columns=False)
            return f'<span class="fd-letter">{opt.letter}</span> <span class="fd-text">{text}</span>'
        return self.section(card.answer)


def _unwrapped(html: str) -> str:
    """A lone paragraph without its `<p>` wrapper: what `<p>(…)</p>` holds when no other `<p>` opens inside.

    (The regular expression this replaces tried a lookahead at every character: 35 us for an
    explanation of 600 characters, against 2 us for these substring tests.)
    """
    if html.startswith("<p>") and html.endswith("</p>"):
        inner = html[3:-4]
        if "<p>" not in inner and "<p " not in inner:
            return inner
    return html


def _made(names: list[str]) -> list:
    """The extensions `names` with their EXTENSION_CONFIGS, made from their modules as Markdown would.

    Given a name, Markdown first looks it up among every installed package's entry points
    (importlib.metadata: 25 ms of a one-card rebuild); an instance skips that.
    """
    made = []
    for name in names:
        module = importlib.import_module(name if "." in name else f"markdown.extensions.{name}")
        made.append(module.makeExtension(**EXTENSION_CONFIGS.get(name, {})))
    return made
