"""Tap to answer (issue 12), driven in Chromium at 360x740 as each Anki client drives a card.

Every card's HTML comes from the real Anki: the cards are built, the package is
imported with the `anki` library, and `card.question()` / `card.answer()` give
the two sides, as in test_browser.py. Each deck is built twice: with today's
note type (the templates before tap to answer, kept in
tests/fixtures/notetype_before_tap/) and with the current one, so that a back
without a choice, and a card without JavaScript, can be compared with what
learners saw before.

The clients, emulated as the anki-persistence project describes them (the
facts are listed at the top of src/flashdeck/notetype/tap.js):

- desktop: one page for the whole session; each side's HTML replaces the
  content of `#qa` and its scripts are re-created so that they run, as Anki's
  reviewer does. Window variables and web storage survive.
- desktop-2.1.49: the same page, but web storage is refused, as Anki before
  2.1.50 did, and scripts run through a script element in the head, as the
  jQuery `html()` of older reviewers does (so `document.currentScript` is not
  next to the card).
- ankidroid: each side is a new page in the same browser context (AnkiDroid
  loads a new page for the back): window variables and sessionStorage are gone,
  localStorage is shared by the origin.
- ankimobile: each side a new document in the same tab (window variables gone,
  web storage kept), with AnkiMobile's night class; a tap on anything but a
  link, an element with a click handler or a `tappable` one shows the answer, as
  the AnkiMobile manual describes, so the test can see a tap that would flip.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import test_browser
from test_browser import MEASURE_JS, ORIGIN, PAGE_URL, VIEWPORT, reviewer_page

from ankiutil import import_apkg, new_collection
from flashdeck import notetype
from flashdeck.api import build

browser = test_browser.browser
"""The Chromium of test_browser.py (Debian's, never a download)."""

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
BEFORE = FIXTURES / "notetype_before_tap"

# The key of every shipped quiz card, from cards/hypomagnesemia.md (its '- [x]' lines).
SHIPPED_KEYS = {
    "hypomg-q1": "Thick ascending limb of the loop of Henle",
    "hypomg-q2": "TRPM6",
    "hypomg-q3": "Competitive inhibition of EGFR",
    "hypomg-q4": "Hypomagnesemia causes low intracellular Mg2+ levels which relieve inhibition of K+ secretion via ROMK channels.",
    "hypomg-q5": "Amiloride",
}
# From tests/fixtures/tap/tap.md and tests/fixtures/phone/phone.md.
FIXTURE_KEYS = {
    "tap-shuffled": "Thick ascending limb",
    "tap-nine": "Nine",
    "tap-twin-a": "TRPM6",
    "tap-twin-b": "TRPM6",
    "phone-math": "Above 2% (or 4% with normal GFR)",
    "phone-lists": "Proton pump inhibitors",
    "phone-url": "TRPM6, the apical magnesium channel of the distal convoluted tubule whose loss causes hypomagnesemia with secondary hypocalcemia",
}
KEYS = {**SHIPPED_KEYS, **FIXTURE_KEYS}
SHUFFLED = {"tap-shuffled"}
SHUFFLED_OPTIONS = ("Proximal tubule", "Thick ascending limb", "Distal convoluted tubule", "Collecting duct")

NIGHT = {
    # client: (light body class, night body class)
    "desktop": ("card card1", "card card1 isLin nightMode night_mode"),
    "ankidroid": ("card card1", "card card1 night_mode nightMode"),
    "ankimobile": ("card card1", "card card1 nightMode"),
}
CLIENTS = ["desktop", "desktop-2.1.49", "ankidroid", "ankimobile"]


@dataclass(frozen=True)
class Card:
    card_id: str
    front: str
    back: str
    before_front: str
    before_back: str
    """The two sides with today's note type (before tap to answer)."""


def _import(work: Path, cards: Path) -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, str]], Path]:
    """(multiple-choice card id -> its two sides, the same for plain cards, the media folder)."""
    report = build(cards, work / "dist")
    col = new_collection(work / "anki")
    try:
        for pkg in report.packages:
            import_apkg(col, pkg.path)
        mc, plain = {}, {}
        for cid in col.find_cards(""):
            card = col.get_card(cid)
            note = card.note()
            if "Options" not in note:
                continue  # a cloze card: no options to tap
            (mc if note["Options"].strip() else plain)[note["ID"]] = (card.question(), card.answer())
        return mc, plain, Path(col.media.dir())
    finally:
        col.close()


def _cards_folder(work: Path) -> Path:
    cards = work / "cards"
    shutil.copytree(ROOT / "cards", cards)  # a copy: the build updates the lock file
    shutil.copytree(FIXTURES / "tap", cards / "tap")
    shutil.copytree(FIXTURES / "phone", cards / "phone")
    return cards


@dataclass(frozen=True)
class Deck:
    cards: dict[str, Card]
    """Every multiple-choice card, by id."""
    plain: dict[str, Card]
    media: Path


@pytest.fixture(scope="module")
def deck(tmp_path_factory) -> Deck:
    """Every card's sides with the current and with today's note type."""
    now, now_plain, media = _import(tmp_path_factory.mktemp("now"), _cards_folder(tmp_path_factory.mktemp("now-src")))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(notetype, "BASIC", replace(
            notetype.BASIC,
            front=(BEFORE / "front.html").read_text(encoding="utf-8"),
            back=(BEFORE / "back.html").read_text(encoding="utf-8"),
            css=(BEFORE / "card.css").read_text(encoding="utf-8") + "\n" + notetype._read("code.css"),  # (code.css as shipped: the fixture keeps only what tap to answer changed)
        ))
        before, before_plain, _ = _import(tmp_path_factory.mktemp("before"), _cards_folder(tmp_path_factory.mktemp("before-src")))
    assert sorted(now) == sorted(before) == sorted(KEYS), "the multiple-choice cards are not the ones this test knows"
    return Deck(
        {i: Card(i, *now[i], *before[i]) for i in now},
        {i: Card(i, *now_plain[i], *before_plain[i]) for i in now_plain},
        media,
    )


# --- the clients -------------------------------------------------------------------------

DESKTOP_SHELL = (
    '<!doctype html><html><head><meta charset="utf-8"></head>'
    '<body class="{body}"><div id="qa"></div></body></html>'
)
# Anki's reviewer: innerHTML, then each script replaced by a fresh copy so that it runs.
DESKTOP_SHOW = """
(html) => {
  const qa = document.getElementById("qa");
  qa.innerHTML = html;
  for (const old of Array.from(qa.querySelectorAll("script"))) {
    const fresh = document.createElement("script");
    fresh.textContent = old.textContent;
    old.replaceWith(fresh);
  }
}
"""
# Older reviewers (jQuery html()): the scripts run from a temporary script element in the head.
OLD_DESKTOP_SHOW = """
(html) => {
  const qa = document.getElementById("qa");
  qa.innerHTML = html;
  for (const old of Array.from(qa.querySelectorAll("script"))) {
    const run = document.createElement("script");
    run.textContent = old.textContent;
    document.head.appendChild(run).parentNode.removeChild(run);
  }
}
"""
SEEDED_RANDOM = """
(() => {
  let s = %d >>> 0;
  Math.random = () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 4294967296; };
})();
"""
# Anki desktop before 2.1.50 refuses web storage.
NO_WEB_STORAGE = """
for (const name of ["localStorage", "sessionStorage"]) {
  Object.defineProperty(window, name, { get() { throw new DOMException("refused", "SecurityError"); } });
}
"""
# AnkiMobile shows the answer on a tap unless the tapped element, or one around it, is a link,
# a button, has a click handler or the class "tappable" (AnkiMobile manual, "JavaScript").
ANKIMOBILE_TAPS = """
window.flips = 0;
document.addEventListener("click", (e) => {
  for (let n = e.target; n && n !== document; n = n.parentNode) {
    if (n.nodeName === "A" || n.nodeName === "BUTTON" || n.onclick || (n.classList && n.classList.contains("tappable"))) return;
  }
  window.flips++;
});
"""


class Client:
    """One learner's device: shows a front, lets the test tap, then shows the back."""

    def __init__(
        self, browser, kind: str, media_dir: Path, night: bool = False, javascript: bool = True, seed: int | None = None, init: str = ""
    ):
        self.kind = kind
        self.media_dir = media_dir
        family = "desktop" if kind.startswith("desktop") else kind
        self.body = NIGHT[family][1 if night else 0]
        self.context = browser.new_context(viewport=VIEWPORT, has_touch=family != "desktop", java_script_enabled=javascript)
        self.context.route("**/*", self._route)
        if kind == "desktop-2.1.49":
            self.context.add_init_script(NO_WEB_STORAGE)
        if seed is not None:
            self.context.add_init_script(SEEDED_RANDOM % seed)
        if init:
            self.context.add_init_script(init)
        self.closed = False
        self.outside: list[str] = []
        self.html = ""
        self.page = None
        if family == "desktop":
            self.page = self.context.new_page()
            self.html = DESKTOP_SHELL.format(body=self.body)
            self.page.goto(PAGE_URL, wait_until="load")

    def _route(self, route):
        url = route.request.url
        if url == PAGE_URL:
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=self.html)
            return
        name = url[len(ORIGIN) + 1 :] if url.startswith(ORIGIN + "/") else ""
        if name and "/" not in name and (self.media_dir / name).is_file():
            route.fulfill(status=200, path=str(self.media_dir / name))
            return
        self.outside.append(url)
        route.abort()

    def show(self, card_html: str):
        """Show one side as this client does; return the page."""
        if self.kind == "desktop":
            self.page.evaluate(DESKTOP_SHOW, card_html)
        elif self.kind == "desktop-2.1.49":
            self.page.evaluate(OLD_DESKTOP_SHOW, card_html)
        elif self.kind == "ankidroid":
            if self.page is not None:
                self.page.close()
            self.page = self.context.new_page()
            self.html = reviewer_page(card_html, self.body)
            self.page.goto(PAGE_URL, wait_until="load")
        else:
            if self.page is None:
                self.page = self.context.new_page()
                self.page.add_init_script(ANKIMOBILE_TAPS)
            self.html = (
                '<!doctype html><html><head><meta charset="utf-8"></head>'
                f'<body class="{self.body}"><div id="qa">{card_html}</div></body></html>'
            )
            self.page.goto(PAGE_URL, wait_until="load")
        return self.page

    def tap(self, text: str) -> None:
        """Tap (click, on desktop) the option whose text is `text`."""
        index = [o["text"] for o in options(self.page)].index(text)
        target = self.page.locator(".fd-options > li").nth(index)
        if self.kind.startswith("desktop"):
            target.click()
        else:
            target.tap()

    def flips(self) -> int:
        return self.page.evaluate("() => window.flips || 0") if self.kind == "ankimobile" else 0

    def close(self) -> None:
        """Close the device; the cards must not have fetched anything from outside."""
        if not self.closed:
            self.closed = True
            self.context.close()
            assert self.outside == [], f"{self.kind}: a card fetched {self.outside} (cards must work offline)"


@pytest.fixture
def clients(browser, deck):
    """Open a client; each is closed (and checked for fetches) at the latest when the test ends."""
    opened = []

    def open_client(kind: str, night: bool = False, javascript: bool = True, seed: int | None = None, init: str = "") -> Client:
        client = Client(browser, kind, deck.media, night, javascript, seed, init)
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        client.close()


OPTIONS_JS = r"""
() => Array.from(document.querySelectorAll(".fd-options > li")).map((li) => {
  const text = li.querySelector(".fd-text").cloneNode(true);
  for (const v of Array.from(text.querySelectorAll(".fd-verdict"))) v.remove();
  const verdict = li.querySelector(".fd-verdict");
  const s = getComputedStyle(li), after = getComputedStyle(li, "::after");
  return {
    text: text.textContent.replace(/\s+/g, " ").trim(),
    letter: li.querySelector(".fd-letter").textContent,
    role: li.getAttribute("role"),
    checked: li.getAttribute("aria-checked"),
    verdict: verdict ? verdict.textContent : null,
    after: after.content,
    afterBackground: after.backgroundColor,
    border: parseFloat(s.borderTopWidth),
    borderStyle: s.borderTopStyle,
    height: li.getBoundingClientRect().height,
  };
})
"""


def options(page) -> list[dict]:
    return page.evaluate(OPTIONS_JS)


def answer_line(page) -> tuple[str, str]:
    """(letter, text) of the back's Answer line."""
    return tuple(page.evaluate(
        "() => { const a = document.querySelector('.fd-answer');"
        " return [a.querySelector('.fd-letter').textContent, a.querySelector('.fd-text').textContent.replace(/\\s+/g, ' ').trim()]; }"
    ))


def visible_text(page) -> str:
    return page.evaluate("() => document.querySelector('.fd').innerText")


def measured(page, where: str) -> list[str]:
    """What test_browser.py checks on every card: no sideways scrolling, text size and contrast."""
    m = page.evaluate(MEASURE_JS)
    problems = [f"{where}: {p}" for p in m["problems"]]
    if m["scrollWidth"] > m["innerWidth"]:
        problems.append(f"{where}: page is {m['scrollWidth']} px wide: {m['wide'][:5]}")
    return problems


def wrong_option(card_id: str, shown: list[dict]) -> str:
    return next(o["text"] for o in shown if o["text"] != KEYS[card_id])


# --- front and back, on every client -----------------------------------------------------


@pytest.mark.parametrize("night", [False, True], ids=["light", "night"])
@pytest.mark.parametrize("kind", CLIENTS)
def test_a_wrong_tap_is_marked_beside_the_key_on_the_back(clients, deck, kind, night):
    """Front: the tapped option is checked, the others not. Back: 'Your answer' and a cross on it,
    the tick on the key, nothing on the others; readable and within the screen in both modes."""
    problems = []
    client = clients(kind, night)  # one device reviewing every card in turn
    for card in deck.cards.values():
        page = client.show(card.front)
        wrong = wrong_option(card.card_id, options(page))
        client.tap(wrong)
        front = options(page)
        assert [o["checked"] for o in front] == ["true" if o["text"] == wrong else "false" for o in front], card.card_id
        assert {o["role"] for o in front} == {"radio"}
        assert page.evaluate("() => document.querySelector('.fd-options').getAttribute('role')") == "radiogroup"
        assert client.flips() == 0, f"{card.card_id}: a tap on an option would show the answer on AnkiMobile"
        problems += measured(page, f"{kind} {card.card_id} front")
        page = client.show(card.back)
        back = {o["text"]: o for o in options(page)}
        assert back[wrong]["verdict"] == "Your answer", card.card_id
        assert "\u2717" in back[wrong]["after"], card.card_id
        key = back[KEYS[card.card_id]]
        assert key["verdict"] is None and "\u2713" in key["after"], card.card_id
        others = [o for t, o in back.items() if t not in (wrong, KEYS[card.card_id])]
        assert all(o["verdict"] is None and o["after"] in ("none", "normal") for o in others), card.card_id
        problems += measured(page, f"{kind} {card.card_id} back")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("kind", CLIENTS)
def test_tapping_the_key_after_another_option_says_your_answer_correct(clients, deck, kind):
    client = clients(kind, night=True)
    for card in deck.cards.values():
        page = client.show(card.front)
        client.tap(wrong_option(card.card_id, options(page)))
        client.tap(KEYS[card.card_id])
        assert [o["text"] for o in options(page) if o["checked"] == "true"] == [KEYS[card.card_id]]
        page = client.show(card.back)
        back = options(page)
        assert [(o["text"], o["verdict"]) for o in back if o["verdict"]] == [(KEYS[card.card_id], "Your answer, correct")], card.card_id
        assert not any("\u2717" in o["after"] for o in back), card.card_id
        assert "\u2713" in next(o["after"] for o in back if o["text"] == KEYS[card.card_id])


def _screenshot(page) -> bytes:
    return page.screenshot(full_page=True, animations="disabled")


@pytest.mark.parametrize("night", [False, True], ids=["light", "night"])
@pytest.mark.parametrize("kind", CLIENTS)
def test_without_a_tap_the_back_is_todays_back(clients, deck, kind, night):
    """Same text and, pixel for pixel, the same picture as the back before tap to answer
    (cards in fixed order; a shuffled card's back follows its front's order instead)."""
    client, today = clients(kind, night), clients(kind, night)
    for card in deck.cards.values():
        if card.card_id in SHUFFLED:
            continue
        client.show(card.front)
        page = client.show(card.back)
        text, picture = visible_text(page), _screenshot(page)
        today.show(card.before_front)
        page = today.show(card.before_back)
        assert text == visible_text(page), card.card_id
        assert picture == _screenshot(page), f"{kind} {card.card_id}: the back without a choice differs from today's"


@pytest.mark.parametrize("night", [False, True], ids=["light", "night"])
def test_without_javascript_every_card_looks_as_today(clients, deck, night):
    """Both sides of every card, scripts off, pixel for pixel as with today's note type.
    (Shown as AnkiMobile shows them, one tab for both sides: with scripts off the client's
    way of keeping state does not matter, and a tab is quicker than a new page per side.)"""
    client, old = clients("ankimobile", night, javascript=False), clients("ankimobile", night, javascript=False)
    for card in deck.cards.values():
        for side, before in (("front", "before_front"), ("back", "before_back")):
            now = client.show(getattr(card, side))
            today = old.show(getattr(card, before))
            assert visible_text(now) == visible_text(today), f"{card.card_id} {side}"
            assert _screenshot(now) == _screenshot(today), f"{card.card_id} {side}: differs from today's without JavaScript"


def test_front_options_are_tall_tap_targets_and_the_choice_is_not_shown_by_colour_alone(clients, deck):
    client = clients("ankidroid")
    for card in deck.cards.values():
        page = client.show(card.front)
        before = options(page)
        assert min(o["height"] for o in before) >= 44, card.card_id
        chosen = before[1]["text"]
        client.tap(chosen)
        after = {o["text"]: o for o in options(page)}
        others = [o for t, o in after.items() if t != chosen]
        # A thicker border and a filled radio mark, where the others have a thin border and an empty ring.
        assert after[chosen]["border"] >= 3 > max(o["border"] for o in others), card.card_id
        assert after[chosen]["afterBackground"] != "rgba(0, 0, 0, 0)", card.card_id
        assert {o["afterBackground"] for o in others} == {"rgba(0, 0, 0, 0)"}, card.card_id


def test_a_wrong_choice_on_the_back_is_dashed_and_the_key_is_solid(clients, deck):
    card = deck.cards["hypomg-q1"]
    client = clients("desktop")
    client.show(card.front)
    client.tap(Q1_WRONG)
    back = {o["text"]: o for o in options(client.show(card.back))}
    assert back[Q1_WRONG]["borderStyle"] == "dashed" and back[Q1_WRONG]["border"] >= 3
    assert back[KEYS["hypomg-q1"]]["borderStyle"] == "solid" and back[KEYS["hypomg-q1"]]["border"] >= 3


# --- keys on desktop ---------------------------------------------------------------------


def test_keys_1_to_9_and_a_to_i_choose_on_the_front_only(clients, deck):
    card = deck.cards["tap-nine"]
    client = clients("desktop")
    page = client.show(card.front)
    checked = lambda: [o["text"] for o in options(page) if o["checked"] == "true"]  # noqa: E731
    page.keyboard.press("2")
    assert checked() == ["Two"]
    page.keyboard.press("9")
    assert checked() == ["Nine"]
    page.keyboard.press("c")
    assert checked() == ["Three"]
    page.keyboard.press("Shift+I")
    assert checked() == ["Nine"]
    page.keyboard.press("j")  # no tenth option
    page.keyboard.press("Control+a")
    assert checked() == ["Nine"]
    page = client.show(card.back)
    marked = [(o["text"], o["verdict"]) for o in options(page) if o["verdict"]]
    assert marked == [("Nine", "Your answer, correct")]
    # On the back the number keys are Anki's answer buttons: nothing may change.
    page.keyboard.press("1")
    page.keyboard.press("a")
    assert [(o["text"], o["verdict"]) for o in options(page) if o["verdict"]] == marked


# --- no stale choice ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", CLIENTS)
def test_a_choice_never_reaches_another_cards_back(clients, deck, kind):
    """Twin A and Twin B have the same question and options; a choice on A's front is not B's."""
    client = clients(kind)
    client.show(deck.cards["tap-twin-a"].front)
    client.tap("ROMK")
    page = client.show(deck.cards["tap-twin-b"].back)
    assert [o["verdict"] for o in options(page)] == [None, None]


@pytest.mark.parametrize("kind", CLIENTS)
def test_a_choice_is_used_by_one_back_only(clients, deck, kind):
    """Shown again (a later review's back without its front), the back is today's."""
    card = deck.cards["hypomg-q5"]
    client = clients(kind)
    client.show(card.front)
    client.tap("Omeprazole")
    assert [o["verdict"] for o in options(client.show(card.back))] == [None, None, None, "Your answer"]
    assert [o["verdict"] for o in options(client.show(card.back))] == [None, None, None, None]


@pytest.mark.parametrize("kind", CLIENTS)
def test_a_front_left_without_its_back_leaves_nothing_for_the_next_review(clients, deck, kind):
    card = deck.cards["hypomg-q5"]
    client = clients(kind)
    client.show(card.front)
    client.tap("Omeprazole")
    client.show(card.front)  # the next review of the same card: no tap this time
    assert [o["verdict"] for o in options(client.show(card.back))] == [None, None, None, None]


# --- failures leave today's card -----------------------------------------------------------

Q1_OPTIONS = ["Proximal convoluted tubule", "Thick ascending limb of the loop of Henle", "Distal convoluted tubule", "Connecting tubule and cortical collecting duct"]
Q1_WRONG = Q1_OPTIONS[3]
DAMAGE = {
    "not JSON": lambda s: "{",
    "another card": lambda s: {**s, "k": s["k"] + "x"},
    "order with a repeat": lambda s: {**s, "o": [0, 0, 1, 2]},
    "order too short": lambda s: {**s, "o": [0, 1, 2]},
    "choice out of range": lambda s: {**s, "c": 4},
    "choice not a number": lambda s: {**s, "c": "3"},
    "no time": lambda s: {k: v for k, v in s.items() if k != "t"},
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_stored_choice_leaves_todays_back(clients, deck, damage):
    card = deck.cards["hypomg-q1"]
    client = clients("ankidroid")
    page = client.show(card.front)
    client.tap(Q1_WRONG)
    state = page.evaluate("() => JSON.parse(localStorage.getItem('flashdeck-tap'))")
    assert (state["c"], state["o"]) == (3, [0, 1, 2, 3])  # the fourth option, options in the written order
    bad = DAMAGE[damage](state)
    page.evaluate(
        "(t) => { for (const s of [localStorage, sessionStorage]) s.setItem('flashdeck-tap', t); }",
        bad if isinstance(bad, str) else json.dumps(bad),
    )
    back = options(client.show(card.back))
    assert [(o["text"], o["verdict"]) for o in back] == [(t, None) for t in Q1_OPTIONS]


BROKEN_DOM = """
const set = Element.prototype.setAttribute;
Element.prototype.setAttribute = function (name, value) {
  if (name === "role") throw new Error("broken");
  return set.call(this, name, value);
};
"""


def test_a_script_error_on_the_front_leaves_todays_front(clients, deck):
    """Halfway through making the options buttons the script fails: the front must look as
    it did before tap to answer, not half-interactive."""
    card = deck.cards["tap-shuffled"]
    page = clients("ankidroid", init=BROKEN_DOM).show(card.front)
    today = clients("ankidroid").show(card.before_front)
    assert [o["text"] for o in options(page)] == list(SHUFFLED_OPTIONS)
    assert _screenshot(page) == _screenshot(today)


# --- shuffle ------------------------------------------------------------------------------

def _review_shuffled(client: Client, card: Card, review: int) -> list[str]:
    """One review of the shuffled card: the shown order, checked against the back."""
    page = client.show(card.front)
    front = options(page)
    assert sorted(o["text"] for o in front) == sorted(SHUFFLED_OPTIONS)
    assert [o["letter"] for o in front] == ["A", "B", "C", "D"]
    chosen = front[review % 4]["text"]
    client.tap(chosen)
    page = client.show(card.back)
    back = options(page)
    assert [o["text"] for o in back] == [o["text"] for o in front], f"review {review}: the back's order is not the front's"
    assert [o["letter"] for o in back] == ["A", "B", "C", "D"]
    key_at = [o["text"] for o in back].index("Thick ascending limb")
    assert "\u2713" in back[key_at]["after"]
    assert not any(re.search("[\u2713\u2717]", o["after"]) for n, o in enumerate(back) if n != key_at and o["text"] != chosen)
    assert answer_line(page) == ("ABCD"[key_at], "Thick ascending limb")
    assert [o["text"] for o in back if o["verdict"]] == [chosen]
    return [o["text"] for o in front]


def test_shuffled_options_take_every_position_and_the_back_follows_the_front(clients, deck):
    """60 reviews on one desktop: every option in every place; letters A-D in the shown order
    on both sides; the tick, the Answer line and the learner's mark follow the option's text."""
    client = clients("desktop", seed=7919)
    seen = set()
    for review in range(60):
        seen.update((text, n) for n, text in enumerate(_review_shuffled(client, deck.cards["tap-shuffled"], review)))
    every = {(t, n) for t in SHUFFLED_OPTIONS for n in range(4)}
    assert seen == every, f"never seen: {sorted(every - seen)}"


@pytest.mark.parametrize("kind", ["ankidroid", "ankimobile"])
def test_a_shuffled_order_reaches_a_back_that_is_a_new_page(clients, deck, kind):
    """The phones load a new page for the back: the order must travel in web storage."""
    orders = set()
    for review in range(12):
        client = clients(kind, seed=review + 1)  # each page starts the seeded random numbers afresh
        orders.add(tuple(_review_shuffled(client, deck.cards["tap-shuffled"], review)))
        client.close()
    assert len(orders) >= 6, orders


def test_without_web_storage_a_shuffled_card_keeps_its_order_and_still_carries_the_choice(clients, deck):
    """Anki desktop before 2.1.50: only the window carries the choice, and that cannot be
    checked on the front, so the options stay in the written order."""
    card = deck.cards["tap-shuffled"]
    for _ in range(5):
        client = clients("desktop-2.1.49")
        page = client.show(card.front)
        assert [o["text"] for o in options(page)] == list(SHUFFLED_OPTIONS)
        client.tap("Collecting duct")
        page = client.show(card.back)
        assert [(o["text"], o["letter"]) for o in options(page)] == list(zip(SHUFFLED_OPTIONS, "ABCD"))
        assert answer_line(page) == ("B", "Thick ascending limb")
        assert [o["text"] for o in options(page) if o["verdict"]] == ["Collecting duct"]


# --- the note type --------------------------------------------------------------------------


def test_screenshots_of_a_choice_and_its_back_in_light_and_night(clients, deck, tmp_path_factory):
    """Pictures to look at (issue 12 asks for them); written to pytest's temp folder, never the repository."""
    folder = tmp_path_factory.mktemp("tap-screenshots")
    card = deck.cards["hypomg-q2"]
    for night in (False, True):
        client = clients("ankidroid", night)
        page = client.show(card.front)
        client.tap("CLDN16")
        mode = "night" if night else "light"
        page.screenshot(path=str(folder / f"{mode}-front.png"))
        page = client.show(card.back)
        page.screenshot(path=str(folder / f"{mode}-back.png"))
        page.screenshot(path=str(folder / f"{mode}-back-whole.png"), full_page=True)
    print(f"screenshots in {folder}")
    assert len(list(folder.iterdir())) == 6


def test_plain_cards_carry_no_script_and_look_as_today(deck):
    """The script is inside {{#Options}}: a card without options gets exactly today's HTML
    but for the card's id on its outer element."""
    assert deck.plain
    for card in deck.plain.values():
        for now, before in ((card.front, card.before_front), (card.back, card.before_back)):
            body, today = now.split("</style>", 1)[1], before.split("</style>", 1)[1]
            assert "<script" not in body.lower()
            assert re.sub(r' data-fd-card="[^"]*"', "", body, count=1).strip() == today.strip()
            assert f'data-fd-card="{card.card_id}"' in body


def test_ankimobile_emulation_flips_on_a_tap_outside_the_options(clients, deck):
    """The check that taps on options do not flip is only worth something if other taps do."""
    client = clients("ankimobile")
    client.show(deck.cards["hypomg-q1"].front)
    client.page.locator(".fd-question").tap()
    assert client.flips() == 1
