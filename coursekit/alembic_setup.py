"""Where the course's Alembic migrations live, and an Alembic ``Config`` for them built in Python.

``migrations/env.py`` runs on the connection passed in ``config.attributes["connection"]`` when there
is one: on ``sqlite:///:memory:`` every new connection is a new, empty database, so Alembic must use the
notebook's (or the test's) own connection. Without one, set the option ``sqlalchemy.url`` (or ``DATABASE_URL``):
env.py refuses a command that names no database, and ``sql=True`` needs at least the dialect (``sqlite://``).

``scratch_database_at`` and ``run_as_revision`` are for the exercise checks of lessons 11 to 13: a database of the
check's own at a revision, and a learner's ``upgrade()`` run with Alembic's ``op`` bound to it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.operations import Operations

from coursekit.dataset import generate_orders, insert_orders
from coursekit.db import make_engine
from coursekit.migrations import enable_transactional_ddl
from coursekit.models import metadata

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
SCRATCH_ALEMBIC_ROWS = 200  # enough for every status: about 10 of them refunded


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


def scratch_database_at(revision: str = "head", rows: int = SCRATCH_ALEMBIC_ROWS):
    """A fresh in-memory database migrated by the course's revisions to ``revision``, with ``rows`` orders."""
    engine = enable_transactional_ddl(make_engine("sqlite:///:memory:"))
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
        insert_orders(conn, generate_orders(rows))
        command.upgrade(alembic_config(conn), revision)
    return engine


def run_as_revision(engine, function) -> None:
    """Run ``function`` (an ``upgrade`` or ``downgrade``) with Alembic's ``op`` bound to ``engine``."""
    with engine.begin() as conn:
        context = MigrationContext.configure(conn, opts={"target_metadata": metadata, "render_as_batch": True})
        with Operations.context(context):
            function()
