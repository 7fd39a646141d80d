"""The note type: its contract, its templates and its CSS, checked without a browser.

tests/test_browser.py measures the same things on rendered cards in Chromium;
these run everywhere and point at the rule or colour at fault.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flashdeck import notetype
from flashdeck.notetype import codecss
from flashdeck.notetype.codecss import contrast

NIGHT_SELECTORS = {".card.nightMode", ".card.night_mode", ".nightMode .card", ".night_mode .card"}


def rules(css: str) -> list[tuple[list[str], dict[str, str]]]:
    """(selectors, declarations) of every plain rule; comments dropped."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    out = []
    for m in re.finditer(r"([^{}]+)\{([^{}]*)\}", css):
        selectors = [s.strip() for s in m.group(1).split(",")]
        decls = {}
        for d in m.group(2).split(";"):
            if ":" in d:
                k, v = d.split(":", 1)
                decls[k.strip()] = v.strip()
        out.append((selectors, decls))
    return out


def palette(night: bool) -> dict[str, str]:
    """The --fd-* colours of light or night mode, from card.css."""
    for selectors, decls in rules(notetype.BASIC.css):
        if (set(selectors) == NIGHT_SELECTORS) if night else (selectors == [".card"]):
            return {k[len("--fd-"):]: v for k, v in decls.items() if k.startswith("--fd-")}
    raise AssertionError("palette rule not found")


def test_note_type_name_id_and_fields_are_the_contract():
    assert notetype.BASIC.name == "flashdeck"
    assert notetype.BASIC.id == 1986451723
    assert notetype.BASIC.fields == ("ID", "Question", "Options", "Answer", "Explanation", "References", "Source")


def test_front_shows_question_and_options_but_nothing_of_the_answer():
    assert "{{Question}}" in notetype.BASIC.front and "{{Options}}" in notetype.BASIC.front
    for name in ("Answer", "Explanation", "References", "FrontSide"):
        assert name not in notetype.BASIC.front


def test_back_shows_question_options_answer_explanation_references_in_that_order():
    positions = [notetype.BASIC.back.index("{{" + name + "}}") for name in ("Question", "Options", "Answer", "Explanation", "References")]
    assert positions == sorted(positions)
    assert 'id="answer"' in notetype.BASIC.back  # Anki scrolls to it when the answer is shown


@pytest.mark.parametrize("part", ["front", "back", "css"])
@pytest.mark.parametrize("kind", ["basic", "cloze"])
def test_note_type_loads_nothing_from_the_network(kind, part):
    text = getattr(notetype.of(kind), part).lower()
    for needle in ("javascript:", "<link", "@import", "url(", "http:", "https:", "//", " src=", "fetch(", "xmlhttprequest", "websocket", "sendbeacon", "import("):
        assert needle not in text, f"{part} contains {needle!r}"
    assert not re.search(r"<[^>]*\son\w+\s*=", text), f"{part} has an inline event handler"


@pytest.mark.parametrize("part", ["front", "back"])
def test_the_only_script_is_tap_js_inline_and_only_on_multiple_choice_cards(part):
    template = getattr(notetype.BASIC, part)
    assert "<script" not in getattr(notetype.CLOZE, part)
    script = (Path(notetype.__file__).parent / "tap.js").read_text(encoding="utf-8").strip()
    assert template.count("<script") == 1
    assert "{{#Options}}<script>\n" + script + "\n</script>{{/Options}}" in template
    assert "<script" not in notetype.BASIC.css


def test_tap_js_holds_nothing_anki_or_the_html_parser_would_read():
    """Anki reads '{{' and '}}' as a field; '</' could end the script inside the template."""
    script = (Path(notetype.__file__).parent / "tap.js").read_text(encoding="utf-8")
    for bad in ("{{", "}}", "</"):
        assert bad not in script


@pytest.mark.parametrize("bad", ["}}", "{{", "</"])
def test_a_script_with_mustache_or_a_closing_tag_is_refused(monkeypatch, bad):
    real = notetype._read  # (reaching inside on purpose: a bad tap.js can only come from the file this reads)
    monkeypatch.setattr(notetype, "_read", lambda name: f"var x = 1; /* {bad} */" if name == "tap.js" else real(name))
    with pytest.raises(ValueError, match="tap.js must not contain"):
        notetype._with_script(real("front.html"))


def test_night_palette_rule_covers_every_clients_night_class_and_beats_ankidroids_body_rule():
    """AnkiDroid's flashcard.css has body.night_mode { color: white; background-color: black },
    which outranks a bare .card; the night rule must restate both with two-class selectors."""
    (decls,) = [d for s, d in rules(notetype.BASIC.css) if set(s) == NIGHT_SELECTORS]
    assert decls["color"] == "var(--fd-fg)"
    assert decls["background-color"] == "var(--fd-bg)"


def test_base_font_is_at_least_16px_in_a_system_font_stack():
    (decls,) = [d for s, d in rules(notetype.BASIC.css) if s == [".card"]]
    assert int(decls["font-size"].removesuffix("px")) >= 16
    assert decls["font-family"].startswith("system-ui")
    assert decls["font-family"].endswith("sans-serif")


def test_tap_to_answer_styles_apply_only_once_the_script_has_run():
    """Without JavaScript a card must look as before tap to answer (issue 12): every rule added
    since (tests/fixtures/notetype_before_tap/card.css) hangs on .fd-tap / .fd-answered, which
    tap.js sets, or on .fd-verdict, which it makes; the palettes only gain new colours."""
    before = Path(__file__).resolve().parent / "fixtures" / "notetype_before_tap" / "card.css"
    old = {tuple(s): d for s, d in rules(before.read_text(encoding="utf-8"))}
    added = 0
    for selectors, decls in rules(notetype.BASIC.css):
        if tuple(selectors) in old:
            kept = old[tuple(selectors)]
            assert {k: v for k, v in decls.items() if k in kept} == kept, f"{selectors[0]}: a rule of today's note type changed"
            assert all(k.startswith("--fd-") for k in decls if k not in kept), f"{selectors[0]}: gained more than colours"
            continue
        if all(".fd-code ." in sel for sel in selectors):
            continue  # code.css, generated
        if all(".cloze" in sel for sel in selectors):
            continue  # cloze deletions (issue 11): only cloze notes, which came after, have them
        added += 1
        for sel in selectors:
            assert re.search(r"\.fd-(tap|answered|verdict)\b", sel), f"'{sel}' applies without the script"
    assert added >= 8


def test_correct_option_is_styled_only_on_the_back():
    for selectors, _decls in rules(notetype.BASIC.css):
        for sel in selectors:
            if "fd-correct" in sel:
                assert sel.startswith(".fd-back "), f"'{sel}' would mark the answer on the front"


def test_correct_option_is_marked_by_a_tick_and_a_thicker_border_not_colour_alone():
    found = {tuple(s): d for s, d in rules(notetype.BASIC.css)}
    after = found[(".fd-back .fd-correct::after",)]
    assert after["content"].startswith('"\\2713"')
    border = found[(".fd-back .fd-correct",)]["border"]
    plain = found[(".fd-option",)]["border"]
    assert border.split()[0] == "3px" and plain.split()[0] == "1px"


# Which text colour sits on which background, by the --fd-* names in card.css.
TEXT_ON = [
    ("fg", "bg"), ("muted", "bg"), ("link", "bg"),
    ("fg", "surface"), ("muted", "surface"), ("link", "surface"),
    ("fg", "code-bg"), ("fg", "letter-bg"),
    ("correct-fg", "correct-bg"), ("correct-letter", "correct-border"),
    # tap to answer: the chosen option on the front, a wrong choice on the back and its label
    ("fg", "choice-bg"), ("fg", "wrong-bg"), ("wrong-fg", "wrong-bg"),
]


@pytest.mark.parametrize("night", [False, True], ids=["light", "night"])
@pytest.mark.parametrize("text,background", TEXT_ON)
def test_text_colours_reach_4_5_to_1_on_their_backgrounds(night, text, background):
    colours = palette(night)
    ratio = contrast(colours[text], colours[background])
    assert ratio >= 4.5, f"--fd-{text} {colours[text]} on --fd-{background} {colours[background]}: {ratio:.2f}:1"


def test_code_css_backgrounds_match_the_card_css():
    assert palette(False)["code-bg"] == codecss.LIGHT_CODE_BG
    assert palette(True)["code-bg"] == codecss.NIGHT_CODE_BG


def _code_rules(night: bool):
    for selectors, decls in rules(notetype.BASIC.css):
        if not all(".fd-code ." in s for s in selectors):
            continue
        if all(s.startswith((".nightMode ", ".night_mode ")) for s in selectors) == night:
            yield selectors, decls


@pytest.mark.parametrize("night", [False, True], ids=["light", "night"])
def test_code_token_colours_reach_4_5_to_1_on_the_code_background(night):
    bg = codecss.NIGHT_CODE_BG if night else codecss.LIGHT_CODE_BG
    seen = 0
    for selectors, decls in _code_rules(night):
        colour = decls.get("color")
        if colour and colour.startswith("#"):
            seen += 1
            assert contrast(colour, bg) >= 4.5, f"{selectors[0]}: {colour} on {bg}"
    assert seen >= 5


def test_every_highlighted_token_has_a_night_rule_for_each_property_it_sets():
    """A light colour left active at night would be dark text on a dark box."""

    def by_class(night):
        out = {}
        for selectors, decls in _code_rules(night):
            for s in selectors:
                out[s.rsplit(".", 1)[1]] = decls
        return out

    light, night = by_class(False), by_class(True)
    assert {"k", "s", "c1", "nf", "mi"} <= light.keys()
    for cls, decls in light.items():
        assert cls in night, f".{cls} has no night rule"
        assert set(decls) <= set(night[cls]), f".{cls}: night rule lacks {set(decls) - set(night[cls])}"


def test_contrast_helper_matches_wcag_reference_values():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
