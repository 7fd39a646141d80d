"""The "floor" of issue 7: what any Python tool must at least do, in one process.

Render every Markdown section of every card with Python-Markdown (one instance,
`reset()` between sections, the same extensions flashdeck uses) and write the
notes with genanki's own writer. No validation, sanitising, lock file or cache:
a tool doing less than this renders nothing. flashdeck's timings are reported
as ratios to this script's time on the same corpus.

    python bench/floor.py CARDS_DIR OUT.apkg
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import genanki
import markdown

# The Markdown flashdeck uses (render.EXTENSIONS; bench/run.py checks they agree), written out so
# that the floor does not pay for importing flashdeck.
EXTENSIONS = ["pymdownx.arithmatex", "pymdownx.caret", "pymdownx.tilde", "fenced_code", "codehilite", "tables", "sane_lists", "pymdownx.magiclink"]
CONFIGS = {"pymdownx.arithmatex": {"generic": True}, "codehilite": {"guess_lang": False, "css_class": "fd-code"}}
FIELDS = ["ID", "Question", "Options", "Answer", "Explanation", "References"]
_H2 = re.compile(r"^## (.*?)\s*\{#([^}]+)\}\s*$", re.M)
_OPTION = re.compile(r"^- \[[ x]\] ", re.M)


def cards(text: str):
    """(id, {section: markdown}) for each card: a plain split, no validation."""
    heads = list(_H2.finditer(text))
    for i, h in enumerate(heads):
        body = text[h.end() : heads[i + 1].start() if i + 1 < len(heads) else len(text)]
        parts = re.split(r"^### (\w+)\s*$", body, flags=re.M)
        sections = {"Question": parts[0]}
        for name, content in zip(parts[1::2], parts[2::2]):
            sections[name] = re.sub(r"^Tags:.*$", "", content, flags=re.M)
        q = sections["Question"]
        m = _OPTION.search(q)
        if m:
            sections["Question"], sections["Options"] = q[: m.start()], q[m.start() :]
        yield h.group(2), sections


def main(cards_dir: Path, out: Path) -> None:
    started = time.perf_counter()
    md = markdown.Markdown(extensions=EXTENSIONS, extension_configs=CONFIGS)
    model = genanki.Model(
        1607392319,
        "floor",
        fields=[{"name": f} for f in FIELDS],
        templates=[{"name": "Card", "qfmt": "{{Question}}{{Options}}", "afmt": "{{FrontSide}}<hr>{{Answer}}{{Explanation}}"}],
    )
    deck = genanki.Deck(2059400110, "Floor")
    for path in sorted(cards_dir.rglob("*.md")):
        for card_id, sections in cards(path.read_text(encoding="utf-8")):
            fields = [card_id]
            for name in FIELDS[1:]:
                md.reset()
                fields.append(md.convert(sections[name]) if sections.get(name, "").strip() else "")
            deck.add_note(genanki.Note(model=model, fields=fields, guid=genanki.guid_for("floor", card_id)))
    genanki.Package(deck).write_to_file(str(out))
    print(f"floor: {len(deck.notes)} notes in {time.perf_counter() - started:.2f} s", file=sys.stderr)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
