"""flashdeck: Markdown question files -> Anki decks that keep learners' history."""

__version__ = "0.1.0"

from .api import build, check  # noqa: E402
from .errors import BuildError, Diagnostic, FlashdeckError  # noqa: E402

__all__ = ["build", "check", "BuildError", "Diagnostic", "FlashdeckError", "__version__"]
