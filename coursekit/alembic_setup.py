"""Where the course's Alembic migrations live, and an Alembic ``Config`` for them built in Python.

``migrations/env.py`` runs on the connection passed in ``config.attributes["connection"]`` when there
is one: on ``sqlite:///:memory:`` every new connection is a new, empty database, so Alembic must use the
notebook's (or the test's) own connection. Without one, set the option ``sqlalchemy.url`` (or ``DATABASE_URL``):
env.py refuses a command that names no database, and ``sql=True`` needs at least the dialect (``sqlite://``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(
    connection=None, script_location: Path | str = MIGRATIONS_DIR, stdout=None, url: str | None = None
) -> Config:
    """A Config for the migrations in ``script_location``; commands run on ``connection`` when one is given,
    else on ``url`` (a database, or for ``sql=True`` only its dialect: ``sqlite://``)."""
    config = Config(stdout=stdout or sys.stdout)
    config.set_main_option("script_location", str(script_location))
    if connection is not None:
        config.attributes["connection"] = connection
    if url is not None:
        config.set_main_option("sqlalchemy.url", url)
    return config
