"""The text of a card as the item-writing checks read it (itemcheck.py).

Markdown and HTML are reduced to what a learner reads, each character mapped back to its
line and column in the card file, then cut into words: stemmed lower-case words, numbers
(2.9, 1,000, Factor VIII) and codes (abbreviations, symbols, formulas: IgA, Mg2+, CD4), so
that the rules can compare options without mistaking 10 mg for 100 mg.
"""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass
from typing import NamedTuple

from . import scan
from .model import Card, Option, Section

OPTION_COLUMN = 7
"""Column of an option's text when Option carries none: after the canonical `- [ ] `."""


@dataclass(frozen=True, slots=True)
class Text:
    """Markdown source reduced to the text a learner reads, each character mapped back to the source."""

    source: str
    plain: str
    where: range | tuple[int, ...]
    """Offset in `source` of each character of `plain`."""
    line: int
    column: int
    """Column of `source`'s first character."""
    indent: int = 0
    """Columns dropped from the start of each continuation line (options lose their indent)."""

    def position(self, index: int) -> tuple[int, int]:
        """(line, column) in the file of `plain[index]`."""
        offset = self.where[index] if index < len(self.where) else len(self.source)
        newlines = self.source.count("\n", 0, offset)
        if not newlines:
            return self.line, self.column + offset
        return self.line + newlines, offset - self.source.rfind("\n", 0, offset) + self.indent


# Markdown and HTML that a learner never reads as text. Each alternative is bounded, so
# that no line can make the scan backtrack (the parser's promise for hostile decks).
_MARKUP = re.compile(
    r"(?P<tag></?[A-Za-z][^<>\n]{0,500}>|<https?:[^<>\s]{1,500}>|<!--.{0,500}?-->|\bhttps?://[^\s<>()\[\]]{1,2000})"
    r"|(?P<image>!\[[^\]\n]{0,500}\]\([^)\n]{0,500}\))"
    r"|\[(?P<link>[^\]\n]{0,500})\]\([^)\n]{0,500}\)"
    r"|(?P<entity>&(?:\#[0-9]{1,7}|\#[xX][0-9a-fA-F]{1,6}|[A-Za-z]{2,10});)"
    r"|(?P<command>\\[A-Za-z]{1,30})"
    r"|\\(?P<escaped>[^\n])"
    r"|(?P<marker>[*_`^~$])"
    r"|(?P<space>\s{2,}|[^\S ])"
)
# Any of these means _MARKUP has work to do; most options and many stems have none.
# (As one character class with a look back, and the URL scheme as substrings: twice as fast as the alternation.)
_NEEDS_PLAIN = re.compile(r"[<\[&\\*_`^~$\s](?:(?<! )|(?<= )\s)")


def plain(source: str) -> tuple[str, range | list[int]]:
    if _NEEDS_PLAIN.search(source) is None and "http:" not in source and "https:" not in source:
        text = source.strip(" ")
        lead = len(source) - len(source.lstrip(" "))
        return text, range(lead, lead + len(text))
    out: list[str] = []
    where: list[int] = []
    pos = 0
    for m in _MARKUP.finditer(source):
        if m.start() > pos:
            out.append(source[pos : m.start()])
            where.extend(range(pos, m.start()))
        pos = m.end()
        group = m.lastgroup
        if group == "link":
            text, offsets = plain(m.group("link"))
            out.append(text)
            where.extend(m.start("link") + o for o in offsets)
        elif group == "entity":
            char = html.unescape(m.group())
            out.append(char)
            where.extend([m.start()] * len(char))
        elif group == "escaped":
            out.append(m.group("escaped"))
            where.append(m.start("escaped"))
        elif group in ("space", "tag", "command") and out and not out[-1].endswith(" "):
            out.append(" ")
            where.append(m.start())
        # image, marker: dropped
    out.append(source[pos:])
    where.extend(range(pos, len(source)))
    text = "".join(out)
    lead = len(text) - len(text.lstrip(" "))
    text = text.strip(" ")
    return text, where[lead : lead + len(text)]


def make_text(source: str, line: int, column: int, indent: int = 0) -> Text:
    shown, where = plain(source)
    return Text(source, shown, where if isinstance(where, range) else tuple(where), line, column, indent)


def section_text(section: Section) -> Text:
    return make_text(section.text, section.line, 1)


def question_text(card: Card) -> Text:
    if card.question.line == card.line:  # the heading is the question: its text starts after "## "
        return make_text(card.question.text, card.line, 4)
    return section_text(card.question)


def option_text(option: Option) -> Text:
    # An option's continuation lines were indented by at least two spaces.
    return make_text(option.text, option.line, getattr(option, "column", None) or OPTION_COLUMN, indent=2)


# --- words -------------------------------------------------------------------------

# A word, a number (2.9, 1,000) or a chemical species with its charge (Mg2+, Cl-, K+).
TOKEN = re.compile(r"[^\W_]+(?:[.,][0-9]+)*(?:[+\u2212]+|-(?![^\W_]))?")
WORD = re.compile(r"[^\W_]+")
_NUMBER = re.compile(r"[0-9]+(?:[.,][0-9]+)*%?")
_ROMAN = re.compile(r"(?:X{0,3})(?:IX|IV|V?I{0,3})")


class Word(NamedTuple):  # a tuple: made for every word of every card, so cheaper than a frozen dataclass
    text: str
    """As written (plain text)."""
    start: int
    """Index in the plain text."""
    key: str
    """What comparisons use: stemmed lower case for words, the spelling itself for codes."""
    kind: str
    """'word', 'number' (digits, Roman numerals) or 'code' (abbreviations, symbols, formulas)."""


@functools.lru_cache(maxsize=2**16)
def stem(word: str) -> str:
    """Snowball's English stem (PyStemmer: the Snowball project's own C code, 3 ms to import)."""
    return _stemmer().stemWord(respell(word))


@functools.cache
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


_OE = re.compile(r"oe(?=[a-z])")
_OUR = re.compile(r"(?<=[a-z])our$")


@functools.lru_cache(maxsize=2**16)
def respell(word: str) -> str:
    """British spellings as American ones, so that oedema and edema compare equal."""
    word = _OE.sub("e", word)
    word = word.replace("ae", "e").replace("sulph", "sulf")
    return _OUR.sub("or", word)


def kind(token: str) -> str:
    if token.isalpha():
        if len(token) == 1:
            return "word" if token in "aAI" else "code"  # hepatitis B, vitamin C, α-blocker
        if token[1:].islower():
            return "word"
        return "number" if token.isupper() and _ROMAN.fullmatch(token) else "code"  # Factor VIII; IgA, NSAID
    return "number" if _NUMBER.fullmatch(token) else "code"  # 2.9, 1,000; Mg2+, HbA1c, CD4


def number(token: str) -> str:
    """One spelling per value: 1,000 = 1000, 5.0 = 5, 0,5 = 0.5."""
    token = re.sub(r",(?=[0-9]{3}(?![0-9]))", "", token).replace(",", ".")
    if "." in token:
        whole, _, part = token.partition(".")
        part = part.rstrip("0%") + ("%" if token.endswith("%") else "")
        token = whole + ("." + part if part and part != "%" else part)
    return token


@functools.lru_cache(maxsize=64)
def words(text: Text) -> tuple[Word, ...]:
    """The words of `text` (remembered: every rule of one card reads the same texts)."""
    found = []
    for m in TOKEN.finditer(text.plain):
        token = m.group()
        found.append(_make_word(Word, (token, m.start(), *_key(token))))
    return tuple(found)


_make_word = tuple.__new__
"""Word's own constructor without the Python-level `__new__` a NamedTuple adds (a third of `words`)."""


@functools.lru_cache(maxsize=2**16)
def _key(token: str) -> tuple[str, str]:
    """(key, kind) of a token, the same wherever it stands: worked out once per process."""
    sort = kind(token)
    if sort == "word":
        key = stem(token.lower())
    elif sort == "code":
        key = token.replace("\u2212", "-").lower()
    elif token.isdigit() or not token[0].isdigit():
        key = token  # a whole number or a Roman numeral
    else:
        key = number(token)
    return key, sort


# Function words, and words every item uses whatever it is about: none of them can cue an
# answer. Compared in lower case, before stemming.
STOP = frozenset(
    """
    a about above after again against all also although am among an and another any are as at
    be because been before being below between both but by can could did do does doing done down
    during each either else even ever every few for from further had has have having he her here
    hers him his how however i if in into is it its itself just least less many may me might
    more most much must my neither no nor not now of off on once one only onto or other others
    our out over own per same shall she should since so some such than that the their them then
    there these they this those though through to too under until up upon us very via was we
    were what when where whether which while who whom whose why will with within without would
    yet you your
    following likely best appropriate correct true option options answer answers patient patients
    person people man men woman women boy boys girl girls child children infant baby newborn
    year years old aged age month months week weeks day days hour hours minute minutes
    present presents presented presentation history examination exam shows show shown reveals
    revealed found finding findings diagnosis cause caused causes causing treatment treat treated
    management manage step next initial first mechanism explain explains explained describe
    describes described statement feature features associated typical typically usually often
    sign signs symptom symptoms test tests result results level levels new recent recently
    develops developed develop given give takes taken take start starts started
    """.split()
)



def content(found: tuple[Word, ...]) -> list[Word]:
    return [w for w in found if w.kind != "number" and len(w.text) > 1 and w.text.lower() not in STOP]


def answer_content(found: tuple[Word, ...]) -> list[Word]:
    # Numbers and one-letter codes count here: "Vitamin C", "About 95%".
    return [w for w in found if w.text.lower() not in STOP and (len(w.text) > 1 or w.kind != "word")]


_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)[^`\n]{1,500}?\1")


def without_code(text: Text) -> Text:
    """`text` with its code blanked: code a question quotes ("What does `print(1)` print?") is not its answer.

    Fences are closed as the parser closes them (scan.closer: a fence never closed is
    text), in one pass over the lines, so a hostile question cannot make this rescan it.
    """
    if "`" not in text.source and "~~~" not in text.source:
        return text
    lines = text.source.split("\n")
    closers, longest, pointer = scan.fence_index(lines)
    out = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m:
            end = scan.closer(m.group(1), i, closers, longest, pointer)
            if end is not None:
                out.extend(" " * len(line) for line in lines[i : end + 1])
                i = end + 1
                continue
        out.append(_CODE_SPAN.sub(lambda s: " " * len(s.group()), lines[i]))
        i += 1
    return make_text("\n".join(out), text.line, text.column, text.indent)
