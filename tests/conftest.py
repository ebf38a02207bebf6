"""Shared fixtures and paths for the course's tests."""

from pathlib import Path

import pytest
from sqlalchemy import create_engine

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]-*.ipynb"))


@pytest.fixture
def memory_engine():
    """A fresh, empty in-memory SQLite database."""
    engine = create_engine("sqlite:///:memory:")
    yield engine
    engine.dispose()
