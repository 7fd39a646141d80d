from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(autouse=True)
def own_cache(tmp_path_factory, monkeypatch):
    """Each test gets its own build cache (never the user's): no test sees another's leftovers."""
    monkeypatch.setenv("FLASHDECK_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def fixture_cards(tmp_path):
    """Copy a folder (or single file) from tests/fixtures into a fresh cards/ folder and return it."""

    def copy(*names: str) -> Path:
        cards = tmp_path / "cards"
        cards.mkdir(exist_ok=True)
        for name in names:
            src = FIXTURES / name
            if src.is_dir():
                shutil.copytree(src, cards / src.name, dirs_exist_ok=True)
            else:
                shutil.copy2(src, cards / src.name)
        return cards

    return copy
