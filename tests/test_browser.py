"""Every card, as the real Anki renders it, on a 360x740 phone in light and night mode.

Each deck is built with `flashdeck.api.build`, imported with the real `anki`
library, and each card's `question()` / `answer()` HTML (which carries the note
type's `<style>`) is put into a page shaped like AnkiDroid's reviewer
(`card_template.html`: `<body class="card card1 night_mode nightMode">`, with
`flashcard.css`, whose `body.night_mode` rule is what makes unstyled dark text
unreadable at night). Debian's Chromium, driven by Playwright, then measures
what a learner would see. Screenshots land in a fresh temp folder of each run
(pytest's, printed at the end), or in `$FLASHDECK_SCREENSHOTS` when that is set.

MathJax is not loaded here (Anki brings its own), so math shows as TeX source;
that is still text the checks cover.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from ankiutil import import_apkg, new_collection
from flashdeck.api import build
from flashdeck.notetype.codecss import contrast

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

VIEWPORT = {"width": 360, "height": 740}
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MIN_FONT_PX = 14
MIN_CONTRAST = 4.5
ORIGIN = "http://reviewer.flashdeck.invalid"
PAGE_URL = ORIGIN + "/card.html"

# The parts of AnkiDroid's assets/flashcard.css that shape a card's page.
ANKIDROID_CSS = """
body { margin: 0px; padding: 0px; margin-bottom: 30px; }
body.night_mode { color: white; background-color: black; }
#content { margin: 0.5em; }
"""
MODES = {
    "light": "card card1",
    "night": "card card1 night_mode nightMode",
}


def reviewer_page(card_html: str, body_class: str, html_class: str = "mobile android linux js") -> str:
    return (
        f'<!doctype html><html class="{html_class}"><head><meta charset="utf-8">'
        f"<title>AnkiDroid Flashcard</title><style>{ANKIDROID_CSS}</style></head>"
        f'<body class="{body_class}"><div id="content">{card_html}</div></body></html>'
    )


@dataclass(frozen=True)
class Side:
    deck: str
    card_id: str
    side: str
    """'front' or 'back'."""
    html: str
    multiple_choice: bool

    @property
    def label(self) -> str:
        return f"{self.deck}/{self.card_id}/{self.side}"


def _chromium() -> str | None:
    path = os.environ.get("FLASHDECK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    return path if Path(path).is_file() else None


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="module")
def browser():
    path = _chromium()
    if path is None:
        message = "Debian's chromium is not installed (apt-get install chromium); the browser tests need it"
        if _in_ci():
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=LAUNCH_ARGS)
        yield b
        b.close()


class Reviewer:
    """One page, reused for every card: serves the card and its media, blocks everything else."""

    def __init__(self, browser, media_dir: Path):
        self.page = browser.new_page(viewport=VIEWPORT)
        self.media_dir = media_dir
        self.html = ""
        self.outside: list[str] = []
        self.page.route("**/*", self._route)

    def _route(self, route):
        url = route.request.url
        if url == PAGE_URL:
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=self.html)
            return
        if url.startswith(ORIGIN + "/"):
            name = url[len(ORIGIN) + 1 :]
            if "/" not in name and (self.media_dir / name).is_file():
                route.fulfill(status=200, path=str(self.media_dir / name))
                return
        self.outside.append(url)
        route.abort()

    def show(self, html: str) -> None:
        self.html = html
        self.page.goto(PAGE_URL, wait_until="load")

    def close(self) -> None:
        self.page.close()


def _import(deck: str, work: Path, cards: Path) -> tuple[list[Side], Path]:
    report = build(cards, work / "dist")
    col = new_collection(work / "anki")
    try:
        for pkg in report.packages:
            import_apkg(col, pkg.path)
        sides = []
        for cid in sorted(col.find_cards(""), key=lambda c: col.get_card(c).due):
            card = col.get_card(cid)
            note = card.note()
            mc = "Options" in note and bool(note["Options"].strip())
            name = note["ID"] if "Options" in note else f"{note['ID']}-c{card.ord + 1}"  # a cloze note: one card per number
            sides.append(Side(deck, name, "front", card.question(), mc))
            sides.append(Side(deck, name, "back", card.answer(), mc))
        return sides, Path(col.media.dir())
    finally:
        col.close()


@pytest.fixture(scope="module")
def decks(tmp_path_factory) -> dict[str, tuple[list[Side], Path]]:
    """deck name -> (every card side as Anki renders it, the collection's media folder)."""
    out = {}
    shipped = tmp_path_factory.mktemp("shipped")
    # Copied so the build's lock file update never touches the repository.
    shutil.copytree(ROOT / "cards", shipped / "cards")
    out["shipped"] = _import("shipped", shipped, shipped / "cards")
    phone = tmp_path_factory.mktemp("phone")
    shutil.copytree(FIXTURES / "phone", phone / "cards" / "phone")
    out["phone"] = _import("phone", phone, phone / "cards")
    checks = tmp_path_factory.mktemp("checks")
    shutil.copytree(FIXTURES / "browser", checks / "cards" / "browser")
    out["checks"] = _import("checks", checks, checks / "cards")
    return out


MEASURE_JS = r"""
() => {
  const parse = (c) => {
    const m = /rgba?\(([^)]*)\)/.exec(c || "");
    if (!m) return null;
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, under) => [0, 1, 2].map((i) => top[i] * top[3] + under[i] * (1 - top[3])).concat([1]);
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let bg = [255, 255, 255, 1];  // the canvas when nothing is painted
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  };
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  const hex = (c) => "#" + c.slice(0, 3).map((v) => Math.round(v).toString(16).padStart(2, "0")).join("");
  const describe = (el) => {
    const cls = el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : "";
    return el.tagName.toLowerCase() + cls + ' "' + (el.textContent || "").trim().slice(0, 40) + '"';
  };
  const texts = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (["STYLE", "SCRIPT", "NOSCRIPT", "TEMPLATE"].includes(el.tagName)) continue;
    const cs = getComputedStyle(el);
    if (cs.display === "none" || cs.visibility !== "visible" || el.getClientRects().length === 0) continue;
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (own) texts.push({ el, cs, what: describe(el) });
    for (const pseudo of ["::before", "::after"]) {
      const ps = getComputedStyle(el, pseudo);
      if (ps.content && ps.content !== "none" && ps.content !== "normal" && ps.content.replace(/["'\s]/g, "") !== "")
        texts.push({ el, cs: ps, what: describe(el) + pseudo });
    }
  }
  const problems = [];
  let checked = 0;
  for (const { el, cs, what } of texts) {
    checked++;
    const size = parseFloat(cs.fontSize);
    if (size < MIN_FONT_PX) problems.push(`${what}: font-size ${size}px < ${MIN_FONT_PX}px`);
    const bg = background(el);
    const fg0 = parse(cs.color);
    const fg = fg0[3] < 1 ? over(fg0, bg) : fg0;
    const r = ratio(fg, bg);
    if (r < MIN_CONTRAST) problems.push(`${what}: contrast ${r.toFixed(2)}:1 (${hex(fg)} on ${hex(bg)}) < ${MIN_CONTRAST}:1`);
  }
  const broken = [...document.images].filter((i) => !i.complete || i.naturalWidth === 0).map((i) => i.getAttribute("src"));
  const wide = [...document.body.querySelectorAll("*")]
    .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
    .map((e) => describe(e));
  return {
    scrollWidth: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
    innerWidth: window.innerWidth,
    problems, checked, broken, wide,
  };
}
""".replace("MIN_FONT_PX", str(MIN_FONT_PX)).replace("MIN_CONTRAST", str(MIN_CONTRAST))


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    """Where this run's screenshots go: never inside the checkout unless asked for."""
    chosen = os.environ.get("FLASHDECK_SCREENSHOTS", "").strip()
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _shot_path(shots: Path, side: Side, mode: str, n: int) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", side.card_id)
    return shots / side.deck / mode / f"{n:03d}-{safe}-{side.side}.png"


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("deck", ["shipped", "phone"])
def test_every_card_fits_the_phone_and_is_readable(browser, decks, shots, deck, mode):
    """No sideways scrolling, text >= 14 px, contrast >= 4.5:1, images load, nothing fetched from outside.

    Guards against a wide table or code block widening the page, and against
    dark link or label colours left unreadable by AnkiDroid's night rule.
    """
    sides, media_dir = decks[deck]
    assert sides, f"{deck}: no cards"
    reviewer = Reviewer(browser, media_dir)
    problems = []
    checked = 0
    try:
        for n, side in enumerate(sides):
            reviewer.show(reviewer_page(side.html, MODES[mode]))
            m = reviewer.page.evaluate(MEASURE_JS)
            checked += m["checked"]
            where = f"{side.label} ({mode})"
            if m["scrollWidth"] > m["innerWidth"]:
                problems.append(f"{where}: page is {m['scrollWidth']} px wide on a {m['innerWidth']} px screen; too wide: {m['wide'][:5]}")
            problems += [f"{where}: {p}" for p in m["problems"]]
            problems += [f"{where}: image '{src}' did not load" for src in m["broken"]]
            path = _shot_path(shots, side, mode, n // 2)
            path.parent.mkdir(parents=True, exist_ok=True)
            reviewer.page.screenshot(path=str(path), full_page=True)
        problems += [f"{deck} ({mode}): card fetched '{url}' (cards must work offline)" for url in reviewer.outside]
    finally:
        reviewer.close()
    assert checked > len(sides), "the page walk found no text: the measuring script is broken"
    assert not problems, "\n".join(problems)


STYLE_JS = r"""
(sel) => [...document.querySelectorAll(sel)].map((el) => {
  const s = getComputedStyle(el), a = getComputedStyle(el, "::after");
  const letter = getComputedStyle(el.querySelector(".fd-letter"));
  return {
    correct: el.classList.contains("fd-correct"),
    shown: el.querySelector(".fd-letter").innerText.trim() + " " + el.querySelector(".fd-text").innerText.trim(),
    look: [s.borderTopWidth, s.borderTopColor, s.backgroundColor, s.color, s.fontWeight, a.content,
           letter.backgroundColor, letter.color].join(" | "),
    border: parseFloat(s.borderTopWidth),
    after: a.content,
  };
})
"""


# The key of every multiple-choice card rendered here, as a learner reads it:
# from the seed's published solutions (1B, 2D, 3A, 4C, 5C) and the fixtures' '- [x]'.
KEYS = {
    "hypomg-q1": "B Thick ascending limb of the loop of Henle",
    "hypomg-q2": "D TRPM6",
    "hypomg-q3": "A Competitive inhibition of EGFR",
    "hypomg-q4": "C Hypomagnesemia causes low intracellular Mg2+ levels which relieve inhibition of K+ secretion via ROMK channels.",
    "hypomg-q5": "C Amiloride",
    "phone-url": "B TRPM6, the apical magnesium channel of the distal convoluted tubule whose loss causes hypomagnesemia with secondary hypocalcemia",
    "phone-math": "B Above 2% (or 4% with normal GFR)",
    "phone-lists": "B Proton pump inhibitors",
    "key-is-c": "C NKCC2 in the thick ascending limb",
}


@pytest.mark.parametrize("mode", list(MODES))
def test_front_hides_the_correct_option_and_back_marks_it(browser, decks, mode):
    """The front shows every option alike; the back marks the key, and only the key, with a tick and a thick border."""
    reviewer = Reviewer(browser, decks["phone"][1])
    seen: set[str] = set()
    try:
        for deck in ("shipped", "phone", "checks"):
            for side in decks[deck][0]:
                if not side.multiple_choice:
                    continue
                where = f"{side.label} ({mode})"
                assert side.card_id in KEYS, f"{where}: write this card's key into KEYS"
                reviewer.show(reviewer_page(side.html, MODES[mode]))
                options = reviewer.page.evaluate(STYLE_JS, ".fd-options .fd-option")
                assert KEYS[side.card_id] in [o["shown"] for o in options], f"{where}: the key is not among {options}"
                if side.side == "front":
                    assert len({o["look"] for o in options}) == 1, f"{where}: front gives the answer away"
                    # (tap to answer draws an empty radio ring there: a mark with no content, alike on every option)
                    assert all(o["after"] in ("none", "normal", '""') for o in options), f"{where}: a tick on the front"
                else:
                    ticked = [o["shown"] for o in options if "\u2713" in o["after"]]
                    bordered = [o["shown"] for o in options if o["border"] >= 2]
                    assert ticked == [KEYS[side.card_id]], f"{where}: the tick is on {ticked}"
                    assert bordered == [KEYS[side.card_id]], f"{where}: the thick border is on {bordered}"
                    (key,) = [o for o in options if o["shown"] == KEYS[side.card_id]]
                    assert len({o["look"] for o in options if o is not key}) == 1 and key["look"] not in {
                        o["look"] for o in options if o is not key
                    }, f"{where}: the key must look different from every other option, and they alike"
                seen.add(side.card_id)
    finally:
        reviewer.close()
    assert seen == set(KEYS)


NIGHT_VARIANTS = {
    # client: (html class, body class)
    "anki-desktop": ("", "card card1 isLin nightMode night_mode"),
    "ankidroid": ("mobile android linux js", "card card1 night_mode nightMode"),
    "ankidroid-dark-theme": ("mobile android linux js", "card card1 night_mode nightMode ankidroid_dark_mode"),
    "ankimobile": ("", "card card1 nightMode"),
    "older-ankidroid": ("", "card card1 night_mode"),
    "class-on-html": ("nightMode", "card card1"),
}


@pytest.mark.parametrize("client", list(NIGHT_VARIANTS))
def test_night_colours_apply_under_every_clients_night_class(browser, decks, client):
    """Each client marks night mode its own way; every one must get the dark palette."""
    html_class, body_class = NIGHT_VARIANTS[client]
    side = next(s for s in decks["phone"][0] if s.card_id == "phone-url" and s.side == "back")
    reviewer = Reviewer(browser, decks["phone"][1])
    try:
        reviewer.show(reviewer_page(side.html, "card card1", "mobile android linux js"))
        day = reviewer.page.evaluate(COLOURS_JS)
        reviewer.show(reviewer_page(side.html, body_class, html_class))
        night = reviewer.page.evaluate(COLOURS_JS)
    finally:
        reviewer.close()
    assert night["body_bg"] == "rgb(22, 22, 22)", night  # --fd-bg at night in card.css
    assert night["text"] == "rgb(232, 232, 232)", night
    assert night["link"] == "rgb(138, 184, 255)", night
    assert all(night[k] != day[k] for k in day), (day, night)


COLOURS_JS = r"""
() => ({
  body_bg: getComputedStyle(document.body).backgroundColor,
  text: getComputedStyle(document.querySelector(".fd-question")).color,
  link: getComputedStyle(document.querySelector(".fd-references a")).color,
  correct_bg: getComputedStyle(document.querySelector(".fd-back .fd-correct")).backgroundColor,
})
"""


def test_phone_fixture_really_overflows_and_is_contained(browser, decks):
    """The fixture must stress the layout: its table and code are wider than the screen
    (and scroll in their own box), its image is wider than the screen (and shrinks)."""
    sides = {s.card_id + "/" + s.side: s for s in decks["phone"][0]}
    reviewer = Reviewer(browser, decks["phone"][1])
    try:
        boxes = {}
        for key, sel in (("phone-table/front", "table"), ("phone-code/front", ".fd-code pre")):
            reviewer.show(reviewer_page(sides[key].html, MODES["light"]))
            boxes[key] = reviewer.page.evaluate(
                "(sel) => { const e = document.querySelector(sel); const s = getComputedStyle(e);"
                " return {scroll: e.scrollWidth, client: e.clientWidth, overflow: s.overflowX}; }",
                sel,
            )
        reviewer.show(reviewer_page(sides["phone-image/front"].html, MODES["light"]))
        img = reviewer.page.evaluate(
            "() => { const i = document.querySelector('img'); return {natural: i.naturalWidth, shown: i.getBoundingClientRect().width}; }"
        )
    finally:
        reviewer.close()
    for key, box in boxes.items():
        assert box["scroll"] > box["client"] and box["overflow"] == "auto", (key, box)
        assert box["client"] <= VIEWPORT["width"], (key, box)
    assert img["natural"] == 480, img  # tests/fixtures/phone/img/bars.png
    assert img["shown"] < VIEWPORT["width"], img


def test_math_reaches_anki_as_mathjax_delimiters(decks):
    """What Anki renders holds \\(...\\) and \\[...\\] with every underscore and backslash."""
    front = next(s for s in decks["phone"][0] if s.card_id == "phone-math" and s.side == "front").html
    assert r"\(\mathrm{FE_{Mg}} = \frac{U_{Mg} \times P_{Cr}}{0.7 \times P_{Mg} \times U_{Cr}} \times 100\%\)" in front
    assert r"\(x_1 * y_2 * z_3\)" in front
    assert "\\[\n\\begin{aligned}" in front
    assert r"\times 100\% \\" in front
    assert "$5 or $6" in front


def test_preview_opens_offline_and_its_switch_turns_cards_to_night(browser, shots, tmp_path):
    """The preview file loads nothing but itself, and the switch gives every card the night palette."""
    from flashdeck.preview import write

    cards = tmp_path / "cards"
    shutil.copytree(FIXTURES / "phone", cards / "phone")
    out = write(cards, tmp_path / "preview.html").path
    page = browser.new_page(viewport={"width": 1000, "height": 800}, color_scheme="light")
    requests: list[str] = []
    page.route("**/*", lambda route: (requests.append(route.request.url), route.continue_() if route.request.url.startswith("file:") else route.abort()))
    try:
        page.goto(out.as_uri(), wait_until="load")
        screens = "() => [...document.querySelectorAll('.fdp-screen')].map((e) => getComputedStyle(e).backgroundColor)"
        day = page.evaluate(screens)
        images = page.evaluate("() => [...document.images].map((i) => i.naturalWidth)")
        page.check("#fdp-night")
        night = page.evaluate(screens)
        page.screenshot(path=str(shots / "preview-night.png"))
    finally:
        page.close()
    assert requests == [out.as_uri()]
    assert len(day) == 12 and set(day) == {"rgb(255, 255, 255)"}
    assert set(night) == {"rgb(22, 22, 22)"}
    assert images == [480, 480]


HANDLERS_JS = "() => ({ ...document.documentElement.dataset })"


def _wait_and_poke(page) -> None:
    """Let every image load or fail, then click and hover the answer, as a learner's tap would."""
    page.wait_for_function("() => [...document.images].every((i) => i.complete)")
    page.hover(".fd-click-me")
    page.click(".fd-click-me")


def test_event_handlers_in_a_card_never_run(browser, decks):
    """onerror=, onload=, onclick= and onmouseover= are removed (tests/test_bad_input.py); as Anki renders
    the card in a browser, none of them runs, not even on a broken image."""
    side = next(s for s in decks["checks"][0] if s.card_id == "event-handlers" and s.side == "back")
    source = (FIXTURES / "browser" / "event_handlers.md").read_text(encoding="utf-8")
    raw = "\n".join(line for line in source.splitlines() if line.startswith(("<img", "<span")))
    reviewer = Reviewer(browser, decks["checks"][1])
    try:
        # The author's HTML as written runs every handler on this page: the check below can fail.
        reviewer.show(reviewer_page(raw, MODES["light"]))
        _wait_and_poke(reviewer.page)
        written = reviewer.page.evaluate(HANDLERS_JS)
        reviewer.show(reviewer_page(side.html, MODES["light"]))
        _wait_and_poke(reviewer.page)
        shipped = reviewer.page.evaluate(HANDLERS_JS)
        broken = reviewer.page.evaluate("() => [...document.images].filter((i) => i.naturalWidth === 0).length")
    finally:
        reviewer.close()
    assert written == {"onerror": "ran", "onload": "ran", "onclick": "ran", "onmouseover": "ran"}
    assert broken == 1, "the card must still hold the broken image whose onerror was removed"
    assert shipped == {}


IMAGE_BACKDROP_JS = "() => getComputedStyle(document.querySelector('.fd-question img')).backgroundColor"


@pytest.mark.parametrize("client", list(NIGHT_VARIANTS))
def test_images_get_a_light_backdrop_at_night_under_every_clients_night_class(browser, decks, client):
    """A transparent diagram drawn in black would vanish on the dark night background: it gets a light one."""
    html_class, body_class = NIGHT_VARIANTS[client]
    side = next(s for s in decks["phone"][0] if s.card_id == "phone-image" and s.side == "front")
    reviewer = Reviewer(browser, decks["phone"][1])
    try:
        reviewer.show(reviewer_page(side.html, "card card1", "mobile android linux js"))
        day = reviewer.page.evaluate(IMAGE_BACKDROP_JS)
        reviewer.show(reviewer_page(side.html, body_class, html_class))
        night = reviewer.page.evaluate(IMAGE_BACKDROP_JS)
    finally:
        reviewer.close()
    assert day == "rgba(0, 0, 0, 0)", day  # by day an image shows as drawn
    assert night == "rgb(244, 244, 244)", night  # --fd-img-bg at night in card.css
    black_on_backdrop = contrast("#f4f4f4", "#000000")
    assert black_on_backdrop >= MIN_CONTRAST
