"""Alembic's environment for the orders database: which database, which model, how to migrate it.

The database, in order of preference:

1. the SQLAlchemy Connection in ``config.attributes["connection"]`` (Alembic's cookbook recipe "Sharing a
   Connection across one or more programmatic migration commands"). Notebooks and tests pass their own: on
   ``sqlite:///:memory:`` each new connection would be a new, empty database;
2. the ``sqlalchemy.url`` option, when a Config sets it;
3. the ``DATABASE_URL`` environment variable
   (``DATABASE_URL=sqlite:///shop.db alembic -c migrations/alembic.ini upgrade head``).

With none of them the command refuses and says what to set: it used to fall back to ``sqlite:///:memory:``, so a
command that named no database "succeeded" on a throwaway one and left the real database as it was.

On its own engine (the command line), SQLite's DDL is made transactional as in lesson 02, and Alembic is told so:
one ``upgrade`` runs in one transaction, so a revision that fails half-way leaves nothing behind.

With ``--sql`` (offline mode) nothing is connected: the SQL is written out for the dialect of the connection or URL,
which must still be named (``DATABASE_URL=sqlite://`` is enough), since a script for the wrong dialect is a wrong
script. For SQLite the script is one transaction too (``BEGIN;`` ... ``COMMIT;``), to be applied with
``sqlite3 -bail``.
"""

import os
from logging.config import fileConfig

from alembic import context
from alembic.util import CommandError
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import make_url

from coursekit.migrations import enable_transactional_ddl
from coursekit.models import metadata

config = context.config

# Logging as alembic.ini says, for the command line only: a notebook or a test keeps its own logging.
if config.config_file_name is not None and "connection" not in config.attributes:
    fileConfig(config.config_file_name)


NO_DATABASE = (
    "No database named: set DATABASE_URL to the database to migrate, e.g.\n"
    "  DATABASE_URL=sqlite:///shop.db alembic -c migrations/alembic.ini upgrade head\n"
    "(a SQLite file; a server: DATABASE_URL=postgresql+psycopg://user@host:5432/shop). From Python, pass a connection "
    'in config.attributes["connection"] or set the option sqlalchemy.url.'
)
NO_DIALECT = (
    "--sql writes SQL for one kind of database, and none is named: set DATABASE_URL to say which, e.g.\n"
    "  DATABASE_URL=sqlite:// alembic -c migrations/alembic.ini upgrade head --sql   (SQLite, as lesson 12 shows)\n"
    "  DATABASE_URL=postgresql+psycopg:// alembic -c migrations/alembic.ini upgrade head --sql   (PostgreSQL)\n"
    "With --sql nothing is connected, so the URL needs no file, server or password."
)
# The head of an offline SQLite script. Without -bail the sqlite3 shell goes on after a failed statement: in 0004's
# rebuild that is DROP TABLE orders, the rename of the half-filled copy, and COMMIT (tests/test_alembic_command_line).
APPLY_WITH_BAIL = (
    "-- One transaction. Apply it with: sqlite3 -bail shop.db < upgrade.sql\n"
    "-- -bail stops at the first error, before COMMIT, and nothing changes; without it the shell goes on and commits."
)


def database_url(missing: str = NO_DATABASE) -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL")
    if not url:
        raise CommandError(missing)
    return url


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
    """Write the SQL instead of running it (``alembic upgrade head --sql``), for a reviewer to read or a DBA to run.

    On SQLite, ``transactional_ddl=True`` makes ``begin_transaction()`` write ``BEGIN;`` and ``COMMIT;`` around the
    whole script. Alembic's SQLite support assumes non-transactional DDL because Python's sqlite3 module commits
    before DDL; the script is run by the sqlite3 shell (or ``executescript``), which hands each statement to SQLite
    as written, and SQLite rolls DDL back like any other statement. So a script that stops half-way, in 0004's
    rebuild say, leaves no ``_alembic_tmp_orders`` and no changed version behind.
    """
    connection = config.attributes.get("connection")
    if connection is not None and not config.get_main_option("sqlalchemy.url"):
        dialect_name = connection.dialect.name
        target = {"dialect_name": dialect_name}
    else:
        url = database_url(missing=NO_DIALECT)
        dialect_name = make_url(url).get_backend_name()
        target = {"url": url, "dialect_opts": {"paramstyle": "named"}}
    sqlite = dialect_name == "sqlite"
    context.configure(literal_binds=True, transactional_ddl=sqlite or None, **target, **options(dialect_name))
    if sqlite:
        context.get_context().impl.static_output(APPLY_WITH_BAIL)
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
