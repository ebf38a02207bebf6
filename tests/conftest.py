"""Shared fixtures and paths for the course's tests."""

from pathlib import Path

import pytest
from sqlalchemy import create_engine

from coursekit.schema import rules_frame, schema_frame
from coursekit.verify import table_fingerprint
from tests.browser import find_chromium

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]-*.ipynb"))


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium for the browser tests; they skip, saying why, where there is none."""
    path = find_chromium()
    if path is None:
        pytest.skip("no Chromium found: install Debian's package (apt-get install chromium) to run the browser test")
    return path


@pytest.fixture
def memory_engine():
    """A fresh, empty in-memory SQLite database."""
    engine = create_engine("sqlite:///:memory:")
    yield engine
    engine.dispose()


def snapshot(engine, table="orders"):
    """What a migration test compares: the columns, the rules, and a fingerprint of every order's id and amount."""
    with engine.connect() as conn:
        fingerprint = table_fingerprint(conn, table, ("order_id", "amount"))
    return schema_frame(engine, table).to_dict("records"), rules_frame(engine, table).to_dict("records"), fingerprint
