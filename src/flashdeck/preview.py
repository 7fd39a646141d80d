"""`flashdeck preview`: one self-contained HTML file showing every card as on a phone.

Each card's front and back are filled in from the note type's own templates
(`{{Field}}`, `{{#Field}}…{{/Field}}`, `{{^Field}}…{{/Field}}`, as Anki does),
styled by the note type's CSS and drawn on a 360 px wide screen. Images are
embedded as `data:` URIs and nothing is linked from outside, so the file opens
offline and can be mailed around. A switch toggles night mode by putting the
same classes on the page that Anki and AnkiDroid put on theirs (`nightMode`,
`night_mode`); the switch is the page's own script. Multiple-choice cards bring
the note type's tap-to-answer script, as in Anki: each front shows its options
as buttons, and the back that follows it shows the same order.

Math shows as TeX source (`\\(…\\)`): Anki typesets it with its own MathJax,
which the preview does not bundle.
"""

from __future__ import annotations

import base64
import html
import mimetypes
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import api, notetype
from .errors import Diagnostic
from .model import CLOZE, Note
from .write import atomic_write_text

SCREEN_WIDTH = 360
"""CSS pixels: a common Android phone width (and the browser test's viewport)."""

_CLOZE_FIELD_RE = re.compile(r"\{\{cloze:([^}]+)\}\}")
_DELETION_RE = re.compile(r"\{\{c(\d+)::(.*?)(?:::(.*?))?\}\}", re.DOTALL)
_SECTION_RE = re.compile(r"\{\{([#^])\s*([^}]+?)\s*\}\}(.*?)\{\{/\s*\2\s*\}\}", re.DOTALL)
_FIELD_RE = re.compile(r"\{\{\s*([^#^/}][^}]*?)\s*\}\}")
_EMPTY_RE = re.compile(r"\A(?:\s|\u200b|<br\s*/?>|<div>\s*</div>)*\Z", re.IGNORECASE)
_SRC_RE = re.compile(r'(<img\b[^>]*?\bsrc=)"([^"]*)"')


@dataclass(slots=True)
class PreviewReport:
    path: Path
    cards: int
    decks: list[str]
    warnings: list[Diagnostic] = field(default_factory=list)


def fill(template: str, fields: dict[str, str], number: int | None = None, back: bool = False) -> str:
    """Fill an Anki card template: conditional sections first, then `{{cloze:Field}}` and `{{Field}}` replacements.

    `number` is the cloze card's deletion number: its deletions show as `[...]`
    (or `[hint]`) on the front and revealed on the back, the others as text, as Anki does.

    A field counts as empty when it holds only whitespace or empty `<br>`/`<div>`s,
    as in Anki. Unknown fields raise KeyError: our templates name only our fields.
    """

    def section(m: re.Match) -> str:
        kind, name, body = m.group(1), m.group(2), m.group(3)
        present = not _EMPTY_RE.match(fields[name])
        return body if present == (kind == "#") else ""

    previous = None
    while previous != template:  # nested sections
        previous, template = template, _SECTION_RE.sub(section, template)
    template = _CLOZE_FIELD_RE.sub(lambda m: cloze_text(fields[m.group(1)], number or 1, back), template)
    return _FIELD_RE.sub(lambda m: fields[m.group(1)], template)


def cloze_text(text: str, number: int, back: bool) -> str:
    """What Anki shows of a cloze field on card `number`'s front or back."""

    def one(m: re.Match) -> str:
        if int(m.group(1)) != number:
            return f'<span class="cloze-inactive">{m.group(2)}</span>'
        if back:
            return f'<span class="cloze">{m.group(2)}</span>'
        return f'<span class="cloze">[{m.group(3) or "..."}]</span>'

    return _DELETION_RE.sub(one, text)


def _embed_images(fragment: str, media: dict[str, Path]) -> str:
    cache: dict[str, str] = {}

    def data_uri(m: re.Match) -> str:
        name = html.unescape(m.group(2))
        path = media.get(name)
        if path is None:
            return m.group(0)
        if name not in cache:
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            cache[name] = f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")
        return f'{m.group(1)}"{cache[name]}"'

    return _SRC_RE.sub(data_uri, fragment)


def render(cards_dir: Path, strict: bool = False) -> tuple[str, PreviewReport]:
    """The preview page for `cards_dir` and a report. Raises BuildError like `check` does."""
    cards_dir = Path(cards_dir)
    notes, media, warnings = api.notes(cards_dir, strict)
    decks: dict[str, list[Note]] = {}
    for note in notes:
        decks.setdefault(note.deck, []).append(note)
    page = _page(cards_dir, decks, media, len(notes))
    return page, PreviewReport(Path(), len(notes), list(decks), list(warnings))


def write(cards_dir: Path, out: Path, strict: bool = False) -> PreviewReport:
    """Write the preview of `cards_dir` to `out` (atomically) and return the report."""
    page, report = render(cards_dir, strict)
    out = Path(out)
    atomic_write_text(out, page)
    report.path = out
    return report


def _page(cards_dir: Path, decks: dict[str, list[Note]], media: dict[str, Path], count: int) -> str:
    esc = html.escape
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>flashdeck preview: {esc(str(cards_dir))}</title>",
        f"<style>{PAGE_CSS}</style>",
        f"<style>{notetype.BASIC.css}</style>",
        "</head>",
        '<body class="fdp">',
        '<header class="fdp-bar">',
        f"<h1>{esc(str(cards_dir))}: {count} card{'s' * (count != 1)} in {len(decks)} deck{'s' * (len(decks) != 1)}</h1>",
        '<label class="fdp-switch"><input type="checkbox" id="fdp-night"> Night mode</label>',
        f"<p>Each card as a {SCREEN_WIDTH}&nbsp;px wide phone shows it, front and back. "
        "Math appears as TeX source here; Anki typesets it with MathJax.</p>",
        "</header>",
        "<main>",
    ]
    for deck, notes in decks.items():
        parts.append(f'<section class="fdp-deck"><h2>{esc(deck)}</h2>')
        for note in notes:
            kind = notetype.of(note.kind)
            fields = dict(zip(kind.fields, note.fields))
            tags = " ".join(f'<span class="fdp-tag">{esc(t)}</span>' for t in note.tags)
            parts.append(
                f'<article class="fdp-card" id="card-{esc(note.id)}">'
                f'<h3><a href="#card-{esc(note.id)}">{esc(note.title)}</a></h3>'
                f'<p class="fdp-meta"><code>{esc(note.id)}</code> · {esc(html.unescape(fields["Source"]))}:{note.line} {tags}</p>'
                '<div class="fdp-sides">'
            )
            sides = [(f"c{o + 1} " if note.kind == CLOZE else "", o) for o in note.ords]
            for prefix, o in sides:
                for side, template, back in (("Front", kind.front, False), ("Back", kind.back, True)):
                    body = _embed_images(fill(template, fields, o + 1, back), media)
                    parts.append(
                        f'<figure class="fdp-phone"><figcaption>{prefix}{side}</figcaption>'
                        f'<div class="fdp-screen card card{o + 1}">{body}</div></figure>'
                    )
            parts.append("</div></article>")
        parts.append("</section>")
    parts += ["</main>", f"<script>{PAGE_SCRIPT}</script>", "</body></html>", ""]
    return "\n".join(parts)


# The page around the cards; card styling comes only from the note type's CSS.
PAGE_CSS = f"""
.fdp {{ margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #1c1c1c; background: #e9eaee; }}
.fdp.nightMode {{ color: #e8e8e8; background: #0b0b0c; }}
.fdp-bar {{ position: sticky; top: 0; z-index: 1; display: flex; flex-wrap: wrap; align-items: center;
  gap: .3em 1.2em; padding: .6em 1em; background: inherit; border-bottom: 1px solid #8a8a8a; }}
.fdp-bar h1 {{ font-size: 1.1em; margin: 0; }}
.fdp-bar p {{ margin: 0; flex-basis: 100%; }}
.fdp-switch {{ font-weight: 600; cursor: pointer; }}
.fdp-switch input {{ width: 1.1em; height: 1.1em; vertical-align: -.15em; }}
.fdp main {{ padding: .5em 1em 3em; }}
.fdp-deck > h2 {{ font-size: 1.3em; margin: 1.2em 0 .4em; }}
.fdp-card {{ margin: 1em 0 2em; }}
.fdp-card h3 {{ margin: 0; font-size: 1.05em; }}
.fdp-card h3 a {{ color: inherit; text-decoration: none; }}
.fdp-meta {{ margin: .1em 0 .5em; }}
.fdp-tag {{ display: inline-block; padding: 0 .45em; margin-left: .25em; border: 1px solid #8a8a8a; border-radius: 1em; }}
.fdp-sides {{ display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }}
.fdp-phone {{ margin: 0; }}
.fdp-phone figcaption {{ font-weight: 600; margin-bottom: .2em; }}
.fdp-screen {{ box-sizing: border-box; width: {SCREEN_WIDTH}px; max-width: 100%; min-height: 8em; padding: .5em;
  overflow-x: auto; border: 1px solid #8a8a8a; border-radius: 14px; }}
"""

PAGE_SCRIPT = """
(function () {
  var box = document.getElementById("fdp-night");
  function apply() {
    document.body.classList.toggle("nightMode", box.checked);
    document.body.classList.toggle("night_mode", box.checked);
  }
  box.addEventListener("change", apply);
  if (window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches) box.checked = true;
  apply();
})();
"""
