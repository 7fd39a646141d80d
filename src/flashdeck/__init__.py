"""flashdeck: Markdown question files -> Anki decks that keep learners' history."""

from .api import BuildReport, CheckReport, build, check
from .errors import BuildError, Diagnostic, FlashdeckError
from .session import Session
from .version import __version__

__all__ = ["build", "check", "BuildReport", "CheckReport", "Session", "BuildError", "Diagnostic", "FlashdeckError", "__version__"]
