"""Alembic's environment for the orders database: which database, which model, how to migrate it.

The database, in order of preference:

1. the SQLAlchemy Connection in ``config.attributes["connection"]`` (Alembic's cookbook recipe "Sharing a
   Connection across one or more programmatic migration commands"). Notebooks and tests pass their own: on
   ``sqlite:///:memory:`` each new connection would be a new, empty database;
2. the ``sqlalchemy.url`` option, when a Config sets it;
3. the ``DATABASE_URL`` environment variable;
4. ``sqlite:///:memory:``: a throwaway database that disappears when the command ends. On the command line, set
   ``DATABASE_URL`` (``DATABASE_URL=sqlite:///shop.db alembic -c migrations/alembic.ini upgrade head``).

On its own engine (the command line), SQLite's DDL is made transactional as in lesson 02, and Alembic is told so:
one ``upgrade`` runs in one transaction, so a revision that fails half-way leaves nothing behind.

With ``--sql`` (offline mode) nothing is connected: the SQL is written out for the same dialect instead.
"""

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool

from coursekit.migrations import enable_transactional_ddl
from coursekit.models import metadata

config = context.config

# Logging as alembic.ini says, for the command line only: a notebook or a test keeps its own logging.
if config.config_file_name is not None and "connection" not in config.attributes:
    fileConfig(config.config_file_name)


def database_url() -> str:
    return config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL") or "sqlite:///:memory:"


def options(dialect_name: str) -> dict:
    """What every run shares: the model autogenerate compares with, and how it writes revisions.

    ``render_as_batch`` only makes *autogenerate* write ``op.batch_alter_table`` blocks on SQLite; the revisions in
    ``versions/`` use ``op.batch_alter_table`` themselves where they need a table rebuild.
    """
    return {
        "target_metadata": metadata,
        "render_as_batch": dialect_name == "sqlite",
        "compare_type": True,
        "compare_server_default": True,
    }


def run_migrations_offline() -> None:
    """Write the SQL instead of running it (``alembic upgrade head --sql``), for a reviewer to read."""
    connection = config.attributes.get("connection")
    if connection is not None and not config.get_main_option("sqlalchemy.url"):
        dialect_name = connection.dialect.name
        context.configure(dialect_name=dialect_name, literal_binds=True, **options(dialect_name))
    else:
        url = database_url()
        dialect_name = url.split(":", 1)[0].split("+", 1)[0]
        context.configure(url=url, literal_binds=True, dialect_opts={"paramstyle": "named"}, **options(dialect_name))
    with context.begin_transaction():
        context.run_migrations()


def run_on(connection, **extra) -> None:
    context.configure(connection=connection, **options(connection.dialect.name), **extra)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on(connection)  # the caller's connection and transaction: the caller commits
        return
    # Our own engine (the command line). Python's sqlite3 module opens no transaction before CREATE/ALTER/DROP, so a
    # rebuild's first CREATE TABLE commits at once, and Alembic assumes so on SQLite ("Will assume non-transactional
    # DDL"): a failed revision would leave its half-done rebuild (_alembic_tmp_orders) behind.
    # enable_transactional_ddl (lesson 02) makes the DDL transactional, and transactional_ddl=True tells Alembic: the
    # whole upgrade is one transaction, rolled back as a whole on failure.
    engine = enable_transactional_ddl(create_engine(database_url(), poolclass=pool.NullPool))
    transactional = {"transactional_ddl": True} if engine.dialect.name == "sqlite" else {}
    with engine.connect() as connection:
        run_on(connection, **transactional)
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
