"""`flashdeck preview`: one offline HTML file with every card's front and back."""

from __future__ import annotations

import base64
import re

from conftest import FIXTURES

from flashdeck.cli import main
from flashdeck.preview import fill


def test_fill_shows_a_section_only_when_its_field_has_content():
    template = "{{#A}}[{{A}}]{{/A}}{{^B}}no B{{/B}}{{#B}}[{{B}}]{{/B}}"
    assert fill(template, {"A": "x", "B": ""}) == "[x]no B"
    assert fill(template, {"A": " <br> ", "B": "y"}) == "[y]"


def test_preview_writes_every_card_front_and_back(fixture_cards, tmp_path, capsys):
    cards = fixture_cards("phone")
    out = tmp_path / "site" / "preview.html"
    assert main(["preview", str(cards), "--out", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {out}: 6 cards in Fixture::Phone\n"
    page = out.read_text(encoding="utf-8")
    # tests/fixtures/phone/phone.md has six cards
    assert page.count('<div class="fd fd-front"') == 6
    assert page.count('<div class="fd fd-back"') == 6
    assert page.count('class="fdp-screen card card1"') == 12
    for card_id in ("phone-table", "phone-url", "phone-image", "phone-math", "phone-code", "phone-lists"):
        assert f'id="card-{card_id}"' in page
    # the back of the multiple-choice card states its answer
    assert '<div class="fd-answer"><div class="fd-label">Answer</div><span class="fd-letter">B</span> <span class="fd-text">Proton pump inhibitors</span></div>' in page


def test_preview_needs_nothing_from_outside_the_file(fixture_cards, tmp_path):
    cards = fixture_cards("phone")
    out = tmp_path / "preview.html"
    assert main(["preview", str(cards), "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "<link" not in page
    assert not re.search(r"<script[^>]*\bsrc=", page)
    assert "@import" not in page and "url(" not in page
    srcs = re.findall(r'<img\b[^>]*\bsrc="([^"]*)"', page)
    assert len(srcs) == 2  # the image card, front and back
    for src in srcs:
        prefix = "data:image/png;base64,"
        assert src.startswith(prefix)
        assert base64.b64decode(src[len(prefix):]) == (FIXTURES / "phone" / "img" / "bars.png").read_bytes()


def test_preview_of_cards_with_errors_reports_them_and_writes_nothing(tmp_path, capsys):
    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "broken.md").write_text("## No explanation {#broken-1}\nWhat?\n\n### Answer\nThis.\n", encoding="utf-8")
    out = tmp_path / "preview.html"
    assert main(["preview", str(cards), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{cards / 'broken.md'}:1: error: card 'broken-1' has no explanation" in err
    assert not out.exists()
