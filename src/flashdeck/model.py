"""The plain data that flows through the pipeline.

discover -> parse (SourceFile -> Card) -> validate -> render (Card -> Note)
-> package -> write. Every card keeps the path and line it came from so any
later step can point an author at it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Section:
    """A block of Markdown source with the line its first line sits on."""

    text: str
    """Markdown source, dedented, without the heading that introduced it."""
    line: int
    """1-based line of the first line of `text` in the source file."""


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
class Card:
    """One card as the author wrote it (Markdown source, not yet rendered)."""

    id: str | None
    """The stable id from `{#id}`: the card's identity in Anki. None when missing."""
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
    """The `### Answer` section (plain cards only)."""
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

    @property
    def is_multiple_choice(self) -> bool:
        return bool(self.options)

    @property
    def correct_options(self) -> tuple[Option, ...]:
        return tuple(o for o in self.options if o.correct)

    @property
    def label(self) -> str:
        """How messages name this card: its id, else its heading."""
        return f"card '{self.id}'" if self.id else f"card '{self.title}'"


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One parsed Markdown file."""

    path: Path
    deck: str
    cards: tuple[Card, ...]


@dataclass(frozen=True, slots=True)
class Note:
    """One card rendered to the HTML fields of the flashdeck note type."""

    id: str
    deck: str
    title: str
    """The card's heading (plain text), for summaries and retired notes."""
    fields: tuple[str, ...]
    """In the order of `notetype.FIELDS`."""
    tags: tuple[str, ...]
    path: Path
    line: int
    retired: bool = False

