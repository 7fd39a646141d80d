"""The allowlist sanitizer: what HTML a card may carry, and what removing the rest takes out.

Python-Markdown's output is not sanitised (its `convert` docstring says so)
and authors may write raw HTML, so every field passes through nh3 with the
allowlists below before it reaches a card (unless `unchanged` shows that nh3
would give it back as it is). `removals` tells the author what will be
removed, at its place, on the stdlib HTML parser; nh3 enforces the lists.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import nh3

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


def sanitize(fragment: str) -> str:
    """Keep formatting HTML only: no scripts, frames, handlers or foreign URL schemes.

    `removals(fragment)` says what this takes out, for the author's warnings.
    """
    return fragment if unchanged(fragment) else _CLEANER.clean(fragment)


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


def locate(text: str, needle: str, cursor: dict[str, int]) -> tuple[int, int | None]:
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


def plainly_allowed(fragment: str) -> bool:
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



# `unchanged`: what nh3 (html5ever's parser and serializer, then the allowlists) gives back as it
# was. Blocks sit only in blocks that may hold them (so no tag is closed or opened by the parser),
# no <pre> starts with a newline (the parser drops it), no void or self-closed tag (written back
# as <br>), no character or entity the serializer writes otherwise (&nbsp;, &quot; in text, &#…;),
# no byte-order mark (dropped at the start). tests/test_sanitize_unchanged.py checks it against nh3.
_INLINE, _A, _LI, _BLOCK = range(4)
_KINDS = {
    **dict.fromkeys("abbr b code del em i ins kbd mark s small span strong sub sup u".split(), _INLINE),
    "a": _A, "li": _LI, **dict.fromkeys("p ul ol blockquote pre div h1 h2 h3 h4 h5 h6".split(), _BLOCK),
}
_BLOCK_PARENTS = frozenset({"div", "blockquote", "li"})
_UNSAFE = "\x00\r\u00a0\ufeff\ud800-\udfff"
# (One character class first, so that the regex engine skips plain text fast; then the tag or entity it starts.)
_PIECE_RE = re.compile(rf"[<>&{_UNSAFE}](?:(?<=<)[^<>]*>|(?<=&)(?:amp|lt|gt);)?")
_TAG_PIECE_RE = re.compile(rf'<(/?)([a-z][a-z0-9]*)((?: [a-z]+="[^"<>{_UNSAFE}]*")*)>')
_PRE_NEWLINE_RE = re.compile(r"<pre(?: [^<>]*)?>\n")
_VALUE_AMP_RE = re.compile(r"&(?!amp;|quot;)")
# A link nh3's URL parser surely reads (a plain host name: no IDNA, no IP address, no user or
# long port), so that it keeps the href as written; or a link to a place in the page.
_PLAIN_HREF_RE = re.compile(
    r"(?:[hH][tT][tT][pP][sS]?://(?:[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*\.)+[a-zA-Z][a-zA-Z0-9]*(?:-[a-zA-Z0-9]+)*(?::[0-9]{1,4})?(?=[/?#]|\Z)|#)"
    r"[\x21\x23-\x3b\x3d\x3f-\x5b\x5d-\x7e]*"
)
_PIECES: dict[str, tuple[bool, str, int] | bool] = {}
"""What `_piece` said of each tag seen (most are the same few: <p>, </li>, <em>)."""


def unchanged(fragment: str) -> bool:
    """True when `sanitize(fragment)` is `fragment` itself, shown without running nh3; False when unsure.

    Python-Markdown's HTML for most fields is a plain tree of allowed tags,
    which nh3 parses and writes back as it was. Anything unusual returns
    False, and nh3 cleans the field.
    """
    if "<pre" in fragment and _PRE_NEWLINE_RE.search(fragment):
        return False
    stack: list[str] = []
    for piece in _PIECE_RE.findall(fragment):
        info = _PIECES.get(piece)
        if info is None:
            info = _piece(piece)
        if info is True:
            continue  # &amp;, &lt;, &gt;
        if info is False:
            return False
        end, tag, kind = info
        if end:
            if not stack or stack.pop() != tag:
                return False
            continue
        if kind == _A:
            if "a" in stack:
                return False
        elif kind == _LI:
            if not stack or stack[-1] not in ("ul", "ol"):
                return False
        elif kind == _BLOCK and stack and stack[-1] not in _BLOCK_PARENTS:
            return False  # (so no block ever opens inside a paragraph, a heading or inline markup)
        stack.append(tag)
    return not stack


def _piece(piece: str) -> tuple[bool, str, int] | bool:
    """(end tag?, name, kind) for a tag `unchanged` can vouch for; True for an entity; False for anything else."""
    m = _TAG_PIECE_RE.fullmatch(piece)
    if m is None:
        info: tuple[bool, str, int] | bool = piece[0] == "&" and len(piece) > 1
    elif m.group(2) not in _KINDS or (m.group(1) and m.group(3)):
        info = False
    else:
        info = (bool(m.group(1)), m.group(2), _KINDS[m.group(2)])
        if m.group(3) and not _attributes_kept(m.group(2), m.group(3)):
            info = False
    if len(_PIECES) < 4096:
        _PIECES[piece] = info
    return info


def _attributes_kept(tag: str, attributes: str) -> bool:
    allowed = (ALLOWED_ATTRIBUTES["*"] | ALLOWED_ATTRIBUTES.get(tag, set())) - {"style"}  # (nh3 rewrites style)
    names = set()
    for name, value in _ATTR_RE.findall(attributes):
        if name not in allowed or name in names or ("&" in value and _VALUE_AMP_RE.search(value)):
            return False
        names.add(name)
        if name == "href" and not _PLAIN_HREF_RE.fullmatch(html.unescape(value)):
            return False
    return True
