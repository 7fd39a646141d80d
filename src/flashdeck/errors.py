"""Errors and diagnostics that carry the place they come from.

Every problem flashdeck finds in an author's files is a `Diagnostic`: a path, a
line, an optional column, a severity and a message. Validation collects all of
them in one run; the build then raises a single `BuildError` that carries the
list. Only the CLI turns them into text for a person.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem at one place in one source file."""

    path: Path
    """The file, as reached from the folder the author named (so `cards/mg.md`)."""
    line: int
    """1-based line number; 0 when the problem is about the whole file or folder."""
    message: str
    """What is wrong and how to fix it."""
    severity: str = ERROR
    """`error` (the build stops) or `warning` (the build goes on unless --strict)."""
    column: int | None = None
    """1-based column where it helps, else None."""
    refs: tuple[int, ...] = ()
    """Other lines the message names, shown where `message` holds `ref(k)`: kept as numbers
    so that a card's findings move with the card (`placed`)."""

    def __str__(self) -> str:
        where = str(self.path)
        if self.line:
            where += f":{self.line}"
            if self.column:
                where += f":{self.column}"
        return f"{where}: {self.severity}: {self.text}"

    @property
    def text(self) -> str:
        """The message with the lines it names filled in."""
        message = self.message
        for k, line in enumerate(self.refs):
            message = message.replace(ref(k), str(line))
        return message

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def placed(self, path: Path, offset: int) -> Diagnostic:
        """This finding, counted from line 1 of a card, at `path` with the card's heading on line `offset + 1`."""
        line = self.line + offset if self.line else 0
        return replace(self, path=path, line=line, refs=tuple(r + offset for r in self.refs))

    def as_error(self) -> Diagnostic:
        return replace(self, severity=ERROR)


def ref(k: int) -> str:
    """Where a message names the line `refs[k]` (NUL never comes from an author's text: see `clip`)."""
    return f"\x00{k}\x00"


def clip(s: str, width: int = 40) -> str:
    """An author's text shortened for a message, without NULs (they mark line references)."""
    s = s.replace("\x00", "\ufffd")
    return s if len(s) <= width else s[: width - 1] + "…"


class FlashdeckError(Exception):
    """Base class of every error that is the author's to fix (not our bug)."""

    def __init__(self, path: Path | str, line: int, message: str, column: int | None = None):
        self.diagnostic = Diagnostic(Path(path), line, message, ERROR, column)
        super().__init__(str(self.diagnostic))

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return [self.diagnostic]

    def __str__(self) -> str:
        return str(self.diagnostic)


class CardError(FlashdeckError):
    """A single problem in a card source file."""


class BuildError(FlashdeckError):
    """Several problems found in one run; `str()` lists them one per line."""

    def __init__(self, diagnostics: list[Diagnostic]):
        if not diagnostics:
            raise ValueError("BuildError needs at least one diagnostic")
        self._diagnostics = sorted(diagnostics, key=sort_key)
        first = self._diagnostics[0]
        Exception.__init__(self, str(first))
        self.diagnostic = first

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return list(self._diagnostics)

    def __str__(self) -> str:
        return "\n".join(str(d) for d in self._diagnostics)


def sort_key(d: Diagnostic) -> tuple:
    return (str(d.path), d.line, d.column or 0, d.severity != ERROR, d.text)

