"""Creating the lessons' engine: ``DATABASE_URL`` if set, else SQLite in memory, safe for widgets."""

from __future__ import annotations

import os

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool

DEFAULT_URL = "sqlite:///:memory:"


def database_url() -> str:
    """The database the lessons use: the ``DATABASE_URL`` environment variable, or SQLite in memory."""
    return os.environ.get("DATABASE_URL") or DEFAULT_URL


def is_memory_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")


def make_engine(url: str | None = None) -> Engine:
    """An engine for ``url`` (default :func:`database_url`).

    An in-memory SQLite database lives inside one connection, and SQLAlchemy normally gives each
    thread its own connection, so each thread its own empty database. Jupyter may run a widget's
    click handler on another thread than the cells (ipykernel 7 "subshells"), so in-memory engines
    here share one connection across threads (``StaticPool``), as SQLAlchemy's documentation advises.
    """
    url = url or database_url()
    engine = create_engine(url)
    if not is_memory_sqlite(engine):
        return engine
    engine.dispose()
    return create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})


def shares_one_connection(engine: Engine) -> bool:
    """True unless ``engine`` is in-memory SQLite with a connection per thread (see :func:`make_engine`)."""
    return not is_memory_sqlite(engine) or isinstance(engine.pool, StaticPool)
