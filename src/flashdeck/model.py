"""The plain data that flows through the pipeline.

discover (Bundle) -> scan (Chunk) -> parse (Card) -> validate (Diagnostic)
-> render (Rendered) -> lock (Entry) -> package (Note) -> write.

A card's per-card steps (parse, validate, render) see only the card's own
text, so their result (`CardResult`) is kept with lines counted from the
card's heading: a card that moves within its file keeps its cache entry.
`Placed` puts a result back at its place in this build.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import Diagnostic

BASIC = "basic"
"""Question/answer or multiple choice: the `flashdeck` note type."""
CLOZE = "cloze"
"""Cloze deletions: the `flashdeck cloze` note type, one Anki card per deletion number."""


@dataclass(frozen=True, slots=True)
class Section:
    """A block of Markdown source with the line its first line sits on."""

    text: str
    """Markdown source, without the heading that introduced it."""
    line: int
    """Line of the first line of `text`."""


@dataclass(frozen=True, slots=True)
class Option:
    """One answer option of a multiple-choice card."""

    letter: str
    """A, B, C … in the order written."""
    text: str
    """Markdown source of the option."""
    correct: bool
    line: int


@dataclass(frozen=True, slots=True)
class Deletion:
    """One `{{cN::text}}` or `{{cN::text::hint}}` of a cloze card, as written."""

    number: int
    text: str
    """Markdown source of what the deletion hides."""
    hint: str | None
    line: int
    column: int
    """Column of `{{`."""


@dataclass(frozen=True, slots=True)
class Facts:
    """What the parser noticed in a card that is not the card itself; validate.py judges it."""

    bad_id: str | None = None
    """The text of `{#…}` when it is not a valid id ('' for `{#}`)."""
    unknown_sections: tuple[tuple[int, str], ...] = ()
    """(line, heading text) of `###` sections the format does not know."""
    repeated_sections: tuple[tuple[int, str, int], ...] = ()
    """(line, heading text, line of the first one)."""
    section_lines: tuple[tuple[str, int], ...] = ()
    """(answer|explanation|references, line of its heading)."""
    bad_tags: tuple[tuple[int, str], ...] = ()
    option_like: tuple[int, str] | None = None
    """(line, text) of the first line that looks like an option the format does not know."""
    stray_items: tuple[int, ...] = ()
    """Lines of list items without a box inside the option list."""
    text_after_options: int | None = None
    unknown_directives: tuple[tuple[int, str], ...] = ()
    cloze_problems: tuple[tuple[int, int, str, str], ...] = ()
    """(line, column, problem name, text) from the cloze scanner (cloze.py)."""


@dataclass(frozen=True, slots=True)
class Card:
    """One card as the author wrote it (Markdown source, not yet rendered)."""

    id: str | None
    """The stable id from `{#id}`: the card's identity in Anki. None when missing or invalid."""
    title: str
    """The H2 heading text without the id."""
    path: Path
    """Source file."""
    line: int
    """Line of the H2 heading."""
    deck: str
    """Full Anki deck name, `Parent::Child`."""
    question: Section
    options: tuple[Option, ...] = ()
    answer: Section | None = None
    """The `### Answer` section (question/answer cards)."""
    explanation: Section | None = None
    references: Section | None = None
    tags: tuple[str, ...] = ()
    """Front-matter tags followed by the card's own `Tags:` line, without repeats."""
    id_column: int | None = None
    """Column of `{#` in the heading line, for messages about the id."""
    shuffle: bool = False
    """Show the options in a new order at each review (`shuffle: true` in front matter, or a
    `<!-- flashdeck: shuffle -->` / `<!-- flashdeck: no-shuffle -->` directive in the card)."""
    allow: frozenset[str] = frozenset()
    """Item-writing checks silenced for this card on purpose (`<!-- flashdeck: allow NAME -->`)."""
    deletions: tuple[Deletion, ...] = ()
    """Cloze deletions in the question, outside code."""
    empty: bool = False
    """A heading with no body."""
    facts: Facts = Facts()

    @property
    def kind(self) -> str:
        return CLOZE if self.deletions and not self.options and self.answer is None else BASIC

    @property
    def correct_options(self) -> tuple[Option, ...]:
        return tuple(o for o in self.options if o.correct)

    @property
    def label(self) -> str:
        """How messages name this card: its id, else its heading."""
        return f"card '{self.id}'" if self.id else f"card '{self.title or '(untitled)'}'"


@dataclass(frozen=True, slots=True)
class Chunk:
    """One card's lines in its file, as the scanner cut them: from its heading to the next."""

    line: int
    """Line of the heading."""
    text: bytes
    """The card's bytes (UTF-8, LF line ends)."""


@dataclass(frozen=True, slots=True)
class FileContext:
    """What every card of one file shares, and what its output depends on besides its own text."""

    path: Path
    rel: str
    """Path below the cards folder (the Source field)."""
    deck: str
    tags: tuple[str, ...] = ()
    shuffle: bool = False


@dataclass(frozen=True, slots=True)
class CardResult:
    """A card after the per-card steps; lines relative to its heading (line 1); fields kept apart (store.py)."""

    id: str | None
    title: str
    kind: str
    tags: tuple[str, ...]
    problems: tuple[Diagnostic, ...]
    """Parser, validation and sanitizer findings, paths empty, lines relative."""
    rendered: bool
    """Whether the fields were rendered (a card with errors is not)."""
    images: tuple[str, ...] = ()
    """Image sources the fields show, as written (media.py packages them)."""
    hashes: str = ""
    """The lock's short hash of each content field and the tags (lock.field_hashes); empty until known."""
    digest: str = ""
    """SHA-256 of the fields as packaged: what a package's bytes depend on."""
    cloze: tuple[tuple[int, str], ...] = ()
    """(number, plain text it hides) for cloze cards."""
    id_column: int | None = None
    bad_id: str | None = None
    """The text of `{#…}` when it is not a valid id."""

    @property
    def ords(self) -> tuple[int, ...]:
        """Anki's template ordinals of the card's cards: 0, or one per deletion number."""
        return tuple(n - 1 for n, _ in self.cloze) if self.kind == CLOZE else (0,)


@dataclass(frozen=True, slots=True)
class Placed:
    """A card's result at its place in this build."""

    key: str
    """Cache key of the card (its text and everything its output depends on)."""
    result: CardResult
    path: Path
    line: int
    deck: str
    package: str
    rel: str


@dataclass(frozen=True, slots=True)
class Note:
    """One note as packaged: a live card's rendered fields, or a retired card's notice."""

    id: str
    kind: str
    deck: str
    title: str
    fields: tuple[str, ...]
    """In the order of the note type's fields."""
    tags: tuple[str, ...]
    ords: tuple[int, ...] = (0,)
    path: Path = Path()
    line: int = 0
