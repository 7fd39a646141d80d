"""Markdown source -> the HTML fields of a flashdeck note.

This module owns the one Python-Markdown instance of a build and all escaping
and sanitising. Python-Markdown's output is not sanitised (its `convert`
docstring says so); every field passes through nh3 with an allowlist before it
reaches a card.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import markdown
import nh3

from .errors import WARNING, Diagnostic
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
"""Link targets a card may carry. Images may also be relative (packaged media) or `data:image/…`."""
STYLE_PROPERTIES = {"text-align"}
"""The only CSS kept in a `style` attribute (Python-Markdown's table alignment)."""

_SINGLE_P_RE = re.compile(r"\A<p>((?:(?!<p[ >]).)*?)</p>\Z", re.DOTALL)
_IMG_SRC_RE = re.compile(r'(<img\b[^>]*?\bsrc=)"([^"]*)"')
_SUP_MINUS_RE = re.compile(r"<sup>(\d*)-</sup>")


class Renderer:
    """Renders Markdown fields. One instance per build; not thread-safe."""

    def __init__(self, fast: bool = True) -> None:
        """`fast=False` always uses the full Markdown instance (the reference the fast paths are tested against)."""
        self._fast = fast and _all_extensions_gated()
        self._full: markdown.Markdown | None = None
        self._variants: dict[tuple[frozenset, frozenset], markdown.Markdown] = {}
        self._plans: dict[frozenset, tuple[markdown.Markdown, bool, bool]] = {}
        self._media: dict[str, str] = {}
        self._card: Card | None = None
        self.diagnostics: list[Diagnostic] = []
        """A warning for each piece of HTML the sanitizer removed, naming the card and line."""

    def markdown(self, text: str, line: int | None = None, columns: bool = True) -> str:
        """Markdown -> sanitised HTML. A lone paragraph loses its `<p>` wrapper."""
        if not text.strip():
            return ""
        audit = True
        if not self._fast:
            md = self._md
        else:
            lowered = text.lower()
            present = frozenset(t for t in _ALL_TRIGGERS if t in lowered)
            plan = self._plans.get(present) or self._plan(present)
            md, plain, audit = plan
            if plain and _PLAIN_RE.fullmatch(text):
                return text  # what Markdown + nh3 + unwrapping give for one line of plain words
        # reset() between fields: footnotes and abbreviations would leak otherwise.
        md.reset()
        out = md.convert(text)
        out = _SUP_MINUS_RE.sub("<sup>\\1\u2212</sup>", out)  # Cl^-^ -> a real minus sign
        if self._media:
            out = _IMG_SRC_RE.sub(self._packaged_src, out)
        if audit and self._fast and self._card is not None and _plainly_allowed(out):
            audit = False
        out = self._sanitize(out, text, line, columns, audit)
        m = _SINGLE_P_RE.match(out)
        if m:
            out = m.group(1)
        return out

    @property
    def _md(self) -> markdown.Markdown:
        """The full instance (every extension and pattern), made on first use: the fast paths rarely need it."""
        if self._full is None:
            self._full = markdown.Markdown(extensions=EXTENSIONS, extension_configs=EXTENSION_CONFIGS)
        return self._full

    def _plan(self, present: frozenset) -> tuple[markdown.Markdown, bool, bool]:
        """For a field holding the trigger strings `present`: its Markdown instance, whether it
        may be plain words, and whether the sanitizer's audit can find anything in it."""
        keep = frozenset(n for n, trig in _EXTENSION_TRIGGERS.items() if present.intersection(trig))
        drop = frozenset(n for n, trig in _PATTERN_TRIGGERS.items() if not present.intersection(trig))
        md = self._variants.get((keep, drop)) or self._variant(keep, drop)
        plan = (md, not keep and len(drop) == len(_PATTERN_TRIGGERS), bool(present.intersection(_AUDIT_TRIGGERS)))
        self._plans[present] = plan
        return plan

    def _variant(self, keep: frozenset, drop: frozenset) -> markdown.Markdown:
        """A Markdown instance without the extensions and core inline patterns `text` cannot trigger.

        Python-Markdown tries every inline pattern on every text node; most
        fields use few of them, and leaving out the rest halves the time of an
        explanation. Only core patterns (module markdown.inlinepatterns) are
        dropped: an extension that replaced one keeps it.
        """
        exts = [e for e in EXTENSIONS if e not in _EXTENSION_TRIGGERS or e in keep]
        md = markdown.Markdown(extensions=exts, extension_configs={k: v for k, v in EXTENSION_CONFIGS.items() if k in exts})
        for name in drop:
            if name in md.inlinePatterns and type(md.inlinePatterns[name]).__module__ == "markdown.inlinepatterns":
                md.inlinePatterns.deregister(name)
        self._variants[(keep, drop)] = md
        return md

    def _packaged_src(self, m: re.Match) -> str:
        ref = html.unescape(m.group(2))
        return f'{m.group(1)}"{html.escape(self._media.get(ref, ref))}"'

    def section(self, section: Section | None) -> str:
        return self.markdown(section.text, section.line) if section is not None else ""

    def _sanitize(self, out: str, text: str, line: int | None, columns: bool, audit: bool = True) -> str:
        """`sanitize(out)`, first reporting what it will remove at its place in `text`.

        `audit=False`: the source has none of `_AUDIT_TRIGGERS`, so its HTML is
        Markdown's own and nothing can be removed. `_plainly_allowed` skips the
        audit's HTML parser for the common case too (both checked against the
        full path in tests/test_render_speed.py).
        """
        card = self._card
        if card is not None and audit:
            cursor: dict[str, int] = {}
            for message, needle in removals(out):
                at, col = _locate(text, needle, cursor)
                where = (line or card.line) + text.count("\n", 0, at) if at >= 0 else (line or card.line)
                d = Diagnostic(card.path, where, f"{card.label}: {message}", WARNING, col if columns and at >= 0 else None)
                if d not in self.diagnostics[-20:]:  # the correct option is rendered twice (options and answer)
                    self.diagnostics.append(d)
        return sanitize(out)

    def note(self, card: Card, source: str, fields: tuple[str, ...], media: dict[str, str] | None = None) -> Note:
        """Render `card` into a `Note` whose fields follow `fields` (the note type's order).

        `media` maps image paths as written in the card to their packaged names.
        """
        self._media = media or {}
        self._card = card
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
                f'<span class="fd-text">{self.markdown(opt.text, opt.line, columns=False)}</span></li>'
            )
        # fd-shuffle: the template's script shows the options in a new order at each review.
        box = "fd-options fd-shuffle" if card.shuffle else "fd-options"
        return f'<ol class="{box}" type="A">' + "".join(items) + "</ol>"

    def answer(self, card: Card) -> str:
        if card.options:
            correct = card.correct_options
            if not correct:
                return ""
            opt = correct[0]
            return f'<span class="fd-letter">{opt.letter}</span> <span class="fd-text">{self.markdown(opt.text, opt.line, columns=False)}</span>'
        return self.section(card.answer)


def sanitize(fragment: str) -> str:
    """Keep formatting HTML only: no scripts, frames, handlers or foreign URL schemes.

    `removals(fragment)` says what this takes out, for the author's warnings.
    """
    return _CLEANER.clean(fragment)


def _keep_url(tag: str, attribute: str, value: str | None) -> bool:
    """Whether an href/src value survives: http, https, mailto; images also relative or data:image/."""
    scheme = _scheme(value or "")
    if scheme is None:
        return tag == "img" or (value or "").strip().startswith("#")
    if scheme == "data":
        return tag == "img" and attribute == "src" and (value or "").strip()[5:].lstrip().lower().startswith("image/")
    return scheme in URL_SCHEMES


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if attribute in ("href", "src") and not _keep_url(tag, attribute, value):
        return None
    return value


# "data" is let through nh3's scheme check only so that _attribute_filter can
# keep data:image/… in <img src> and drop every other data: URL.
_CLEANER = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags={"script", "style"},
    attributes=ALLOWED_ATTRIBUTES,
    attribute_filter=_attribute_filter,
    url_schemes=URL_SCHEMES | {"data"},
    link_rel=None,
    strip_comments=True,
    filter_style_properties=STYLE_PROPERTIES,
)

_SCHEME_RE = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")
_URL_NOISE_RE = re.compile(r"[\t\n\r]")
_SCRIPT_SCHEMES = {"javascript", "vbscript"}
_EMBED_TAGS = {"iframe", "frame", "frameset", "object", "embed", "applet", "portal"}


def _scheme(url: str) -> str | None:
    """The lower-cased scheme as a browser reads it (tabs and newlines ignored), or None when relative."""
    m = _SCHEME_RE.match(_URL_NOISE_RE.sub("", url).strip(" \x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f"))
    return m.group(1).lower() if m else None


def removals(fragment: str) -> list[tuple[str, str]]:
    """What `sanitize(fragment)` removes: (message saying what and how to fix it, text to find it by).

    Mirrors the allowlists above on the stdlib HTML parser; nh3 stays the one
    that enforces them.
    """
    audit = _Audit()
    audit.feed(fragment)
    audit.close()
    return audit.found


class _Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []

    def parse_marked_section(self, i: int, report: int = 1) -> int:
        # The stdlib raises AssertionError on a "<![" that is neither CDATA nor
        # old IE markup (e.g. "<![i](x.png)"); browsers and nh3 read it as a
        # bogus comment and drop it, so report it as removed instead of crashing.
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:
            end = self.rawdata.find(">", i)
            self.found.append(("'<![' markup removed: it is not HTML a card can show; put a space after '<' or escape it as '&lt;'", "<!["))
            return len(self.rawdata) if end < 0 else end + 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            if tag == "script":
                why = "cards may not run scripts; delete it"
            elif tag == "style":
                why = "cards may not restyle the note type; use Markdown formatting"
            elif tag in _EMBED_TAGS:
                why = "cards may not embed other pages or plugins; link to it instead: [text](https://…)"
            else:
                why = "it is not among the allowed formatting tags (its text is kept); use Markdown formatting instead"
            self.found.append((f"<{tag}> removed: {why}", f"<{tag}"))
            return
        allowed = ALLOWED_ATTRIBUTES.get("*", set()) | ALLOWED_ATTRIBUTES.get(tag, set())
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.found.append((f"attribute '{name}' on <{tag}> removed: cards may not run scripts; delete it", name))
            elif name not in allowed:
                self.found.append((f"attribute '{name}' on <{tag}> removed: <{tag}> may only have {', '.join(sorted(allowed))}", name))
            elif name in ("href", "src") and not _keep_url(tag, name, value):
                self.found.append((_url_message(tag, name, value), value.strip() or name))
            elif name == "style":
                for prop in _style_properties(value):
                    if prop not in STYLE_PROPERTIES:
                        self.found.append((f"style '{prop}' on <{tag}> removed: only {', '.join(sorted(STYLE_PROPERTIES))} is kept", prop))


def _url_message(tag: str, attribute: str, value: str) -> str:
    kind = "image source" if attribute == "src" else "link"
    shown = value.strip()
    shown = shown if len(shown) <= 40 else shown[:39] + "…"
    scheme = _scheme(value)
    if scheme in _SCRIPT_SCHEMES:
        why = f"{scheme}: URLs run code; link to an https:// page instead"
    elif scheme == "data":
        why = "data: URLs are allowed only for images (<img src=\"data:image/…\">)"
    elif scheme is None:
        why = "a relative link leads nowhere inside Anki; use a full https:// address"
    else:
        why = "links may only use http, https or mailto"
    return f"{kind} '{shown}' on <{tag}> removed: {why}"


def _style_properties(style: str) -> list[str]:
    return [d.split(":", 1)[0].strip().lower() for d in style.split(";") if d.strip()]


def _locate(text: str, needle: str, cursor: dict[str, int]) -> tuple[int, int | None]:
    """(index in `text`, 1-based column) of the next `needle`, case-insensitively; (-1, None) if absent."""
    key = needle.lower()
    at = text.lower().find(key, cursor.get(key, 0))
    if at < 0:
        at = text.lower().find(key)
        if at < 0:
            return -1, None
    cursor[key] = at + 1
    return at, at - (text.rfind("\n", 0, at) + 1) + 1


_TAG_RE = re.compile(r'<(/?)([a-zA-Z][a-zA-Z0-9]*)((?:\s+[a-zA-Z-]+="[^"<>]*")*)\s*/?>')
_ATTR_RE = re.compile(r'([a-zA-Z-]+)="([^"]*)"')


def _plainly_allowed(fragment: str) -> bool:
    """True when every tag in `fragment` is a well-formed allowed tag with allowed attributes and URLs.

    The same allowlists and URL rule `removals` applies, on the regular HTML
    Python-Markdown writes: there is then nothing to report, and the audit's
    HTML parser (a fifth of the time of rendering an explanation) is skipped.
    Anything unusual (a comment, an unquoted attribute) returns False and the
    audit runs.
    """
    pos = 0
    while True:
        at = fragment.find("<", pos)
        if at < 0:
            return True
        m = _TAG_RE.match(fragment, at)
        if m is None or m.group(2).lower() not in ALLOWED_TAGS:
            return False
        tag = m.group(2).lower()
        if m.group(3):
            allowed = ALLOWED_ATTRIBUTES.get("*", set()) | ALLOWED_ATTRIBUTES.get(tag, set())
            for name, raw in _ATTR_RE.findall(m.group(3)):
                name = name.lower()
                value = html.unescape(raw)
                if name not in allowed or name.startswith("on"):
                    return False
                if name in ("href", "src") and not _keep_url(tag, name, value):
                    return False
                if name == "style" and not set(_style_properties(value)) <= STYLE_PROPERTIES:
                    return False
        pos = m.end()


def _all_extensions_gated() -> bool:
    """The fast paths know every extension in use; an unknown one turns them off (and fails a test)."""
    return all(e in _EXTENSION_TRIGGERS or e in _UNGATED_EXTENSIONS for e in EXTENSIONS)


# Speed (issue 7): an extension or core inline pattern can only act on a field
# containing one of its trigger strings (checked on the lower-cased field); a
# field without any renders the same with it left out. `\t` and `\r` are
# triggers where Python-Markdown's whitespace normalisation could turn them
# into syntax. tests/test_render_speed.py compares against the full instance.
# A backslash keeps every extension: several add the characters they make
# escapable (`\^`, `\|`, `\ `…) to Markdown's escape pattern.
_EXTENSION_TRIGGERS: dict[str, tuple[str, ...]] = {
    "pymdownx.arithmatex": ("$", "\\"),
    "pymdownx.caret": ("^", "\\"),
    "pymdownx.tilde": ("~", "\\"),
    "fenced_code": ("`", "~", "\\"),
    "codehilite": ("`", "~", "    ", "\t", "\\"),
    "tables": ("|", "\\"),
    "pymdownx.magiclink": (":", "@", "www.", "\\"),
}
_UNGATED_EXTENSIONS = {"sane_lists"}
_PATTERN_TRIGGERS: dict[str, tuple[str, ...]] = {
    "backtick": ("`", "\\"),
    "escape": ("\\",),
    "reference": ("]:",),  # reference links resolve only against a `[id]: url` definition
    "link": ("[",),
    "image_link": ("![",),
    "image_reference": ("]:",),
    "short_reference": ("]:",),
    "short_image_ref": ("]:",),
    "autolink": ("<",),
    "automail": ("<",),
    "linebreak": ("  \n", "\t", "\r", "  <"),  # an HTML block lifted out of a line can leave "  \n" behind
    "html": ("<",),
    "entity": ("&",),
    "em_strong": ("*", "_"),
}
_ALL_TRIGGERS = frozenset(t for trig in (*_EXTENSION_TRIGGERS.values(), *_PATTERN_TRIGGERS.values()) for t in trig)
# Without raw HTML ("<"), a link ("[") or a URL scheme (":"), a field's HTML is
# Markdown's own: only allowed tags, attributes and http(s)/mailto links.
_AUDIT_TRIGGERS = ("<", "[", ":")
_ALL_TRIGGERS |= frozenset(_AUDIT_TRIGGERS)
# One line of words and harmless punctuation, starting with a letter: no
# Markdown block (list, heading, quote, code) can start, no inline syntax
# applies, and nothing needs escaping, so its HTML is the text itself.
_PLAIN_RE = re.compile(r"[^\W\d_](?:[^\W_]|[ ,.;?!'\"()%+=-])*(?<! )")
