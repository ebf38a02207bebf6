"""A small, UI-free migration engine: ordered steps, a version stored in the database, up and down.

It works like Alembic's ``upgrade``/``downgrade`` on a straight line of revisions: version ``k``
means steps ``1..k`` are applied. Each step runs in its own transaction together with the update
of the stored version, so where DDL is transactional (SQLite with :func:`enable_transactional_ddl`,
PostgreSQL) a step that fails leaves the database exactly as it was, and the :class:`MigrationError`
says why. MariaDB and MySQL commit implicitly around each DDL statement: there a step of several
statements that fails half-way keeps the statements before the failure, and the version stays behind.
The steps themselves are plain data (:class:`Step`); the SQL of the course's steps is in
:mod:`coursekit.order_steps`.
"""

from __future__ import annotations

import numbers
import re
import time
from collections.abc import Callable
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

VERSION_TABLE = "schema_version"


class MigrationError(Exception):
    """A migration action was refused or failed; the message says what happened and what to do."""


@dataclass(frozen=True)
class Step:
    """One migration step: SQL statements to apply it and to undo it.

    An entry may also be a function ``entry(conn)`` (a lesson's ``expand(conn)``, say): it runs on the step's
    connection, inside the step's transaction, and the SQL it sends is recorded as the step's SQL.
    ``dialects`` holds other SQL for databases that do the step differently, by dialect name:
    ``{"postgresql": (upgrade, downgrade)}``. Without an entry, ``upgrade``/``downgrade`` run.
    """

    name: str
    upgrade: tuple[str, ...]
    downgrade: tuple[str, ...]
    cannot_restore: str = ""  # what a downgrade cannot give back, said plainly
    dialects: dict = field(default_factory=dict, compare=False)

    def statements(self, direction: str, dialect: str) -> tuple[str | Callable, ...]:
        """The SQL that applies (``"upgrade"``) or undoes (``"downgrade"``) the step on ``dialect``."""
        upgrade, downgrade = self.dialects.get(dialect, (self.upgrade, self.downgrade))
        return upgrade if direction == "upgrade" else downgrade


@dataclass(frozen=True)
class Run:
    """What one step did: the direction, the versions it moved between, and the SQL it ran."""

    direction: str
    from_version: int
    to_version: int
    step: str
    sql: tuple[str, ...] = field(default=())
    seconds: float = field(default=0.0, compare=False)  # the step's transaction, BEGIN to COMMIT, as measured

    def describe(self) -> str:
        return f"{self.direction} {self.from_version} → {self.to_version}: {self.step}"


def _sqlite_begin(conn) -> None:
    """Take transactions over from Python's sqlite3 module, so DDL is transactional too.

    By default, on every Python version, the sqlite3 module only opens a transaction before
    INSERT, UPDATE, DELETE or REPLACE (Python 3.12 added an opt-in ``autocommit=False``): an
    ALTER TABLE would run, and stay, outside any transaction. This is SQLAlchemy's documented
    recipe: switch the module's own handling off and emit BEGIN.

    A connection asked for AUTOCOMMIT (``execution_options(isolation_level="AUTOCOMMIT")``, e.g.
    for VACUUM) gets no BEGIN: SQLAlchemy never commits such a connection, so a BEGIN here would
    leave its statements in a transaction that is rolled back when the connection is returned.
    """
    if conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return
    driver_connection = conn.connection.driver_connection
    if driver_connection.isolation_level is not None:
        driver_connection.isolation_level = None
    conn.exec_driver_sql("BEGIN")


def enable_transactional_ddl(engine: Engine) -> Engine:
    """On SQLite, make every transaction of ``engine`` a real one that includes DDL. Idempotent."""
    if engine.dialect.name == "sqlite" and not event.contains(engine, "begin", _sqlite_begin):
        event.listen(engine, "begin", _sqlite_begin)
    return engine


class Migrator:
    """Moves one database between the versions ``0..len(steps)`` of an ordered list of steps."""

    def __init__(self, engine: Engine, steps: list[Step] | tuple[Step, ...], version_table: str = VERSION_TABLE):
        if not isinstance(engine, Engine):
            raise MigrationError(
                f"Migrator needs a SQLAlchemy Engine, got {type(engine).__name__}: run the cell that creates "
                "the engine first (e.g. engine = make_engine()), then pass it in."
            )
        if not steps:
            raise MigrationError("A migration needs at least one Step.")
        if not isinstance(version_table, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", version_table):
            raise MigrationError(
                f"{version_table!r} cannot name the version table: use letters, digits and _ (e.g. schema_version)."
            )
        self.engine = enable_transactional_ddl(engine)
        self.steps = tuple(steps)
        self.version_table = version_table
        self.history: list[Run] = []

    @property
    def head(self) -> int:
        """The newest version: every step applied."""
        return len(self.steps)

    def current(self) -> int:
        """The version stored in the database (0 when no step has ever run)."""
        with self.engine.connect() as conn:
            return self._stored_version(conn)

    def _stored_version(self, conn) -> int:
        if not inspect(conn).has_table(self.version_table):
            return 0
        stored = conn.execute(text(f"SELECT version FROM {self._quoted_version_table(conn)}")).scalar()
        if stored is None:
            return 0
        with suppress(TypeError, ValueError):
            if int(stored) == stored and 0 <= int(stored) <= self.head:
                return int(stored)
        raise MigrationError(
            f"The table {self.version_table} says version {stored!r}, but this migration has versions 0 to "
            f"{self.head}: it was changed by hand. Store the version the schema is at (UPDATE {self.version_table} "
            "SET version = ...), or Restart & Run All to start again."
        )

    def _quoted_version_table(self, conn) -> str:
        return conn.dialect.identifier_preparer.quote(self.version_table)

    def check_version(self, version) -> int:
        """``version`` as an int in ``0..head``, or a MigrationError that says which versions exist."""
        if isinstance(version, bool) or not isinstance(version, numbers.Integral) or not 0 <= version <= self.head:
            raise MigrationError(
                f"There is no version {version!r}: this migration has versions 0 (no step applied) to {self.head}."
            )
        return int(version)

    def upgrade(self, to: int | None = None) -> list[Run]:
        """Apply the steps after the current version, up to ``to`` (default: every step)."""
        target = self.head if to is None else self.check_version(to)
        now = self.current()
        if target < now:
            raise MigrationError(
                f"The database is at version {now}, past {target}: use downgrade({target}) to go back."
            )
        return [self._run(version, "upgrade") for version in range(now + 1, target + 1)]

    def downgrade(self, to: int = 0) -> list[Run]:
        """Undo steps, newest first, down to version ``to`` (default: undo every step)."""
        target = self.check_version(to)
        now = self.current()
        if target > now:
            raise MigrationError(f"The database is at version {now}, before {target}: use upgrade({target}).")
        return [self._run(version, "downgrade") for version in range(now, target, -1)]

    def go_to(self, version: int) -> list[Run]:
        """Upgrade or downgrade, whichever reaches ``version``."""
        target = self.check_version(version)
        return self.upgrade(target) if target >= self.current() else self.downgrade(target)

    def reset(self) -> list[Run]:
        """Undo every step: back to version 0."""
        return self.downgrade(0)

    def _run(self, version: int, direction: str) -> Run:
        """Run one step's statements and store the new version, all in one transaction (timed, commit included)."""
        step = self.steps[version - 1]
        new_version = version if direction == "upgrade" else version - 1
        old_version = version - 1 if direction == "upgrade" else version
        try:
            with self.engine.connect() as conn, _sqlite_foreign_keys_off(conn) as checks_foreign_keys:
                started = time.perf_counter()
                with conn.begin():
                    sql = self._apply(conn, version, direction)
                    if checks_foreign_keys:
                        _refuse_broken_references(conn, f"Step {version} ({step.name}) failed to {direction}",
                                                  old_version)
                    self._store_version(conn, new_version)
                seconds = time.perf_counter() - started
        except DBAPIError as error:
            reason = str(error.orig).splitlines()[0]
            raise MigrationError(
                f"Step {version} ({step.name}) failed to {direction} and was rolled back: {reason}. "
                f"The database is unchanged, still at version {old_version}." + _hint(reason, old_version)
            ) from error
        except MigrationError:
            raise
        except Exception as error:  # a step that is a function can also fail in Python (a typo, a NameError)
            raise MigrationError(
                f"Step {version} ({step.name}) failed to {direction} and was rolled back: {type(error).__name__}: "
                f"{error}. The database is unchanged, still at version {old_version}: fix the step's function, "
                "run its cell again, then retry."
            ) from error
        run = Run(direction, old_version, new_version, step.name, sql, seconds)
        self.history.append(run)
        return run

    def _apply(self, conn, version: int, direction: str) -> tuple[str, ...]:
        """Run step ``version``'s statements (or functions) on ``conn``; the SQL that ran, in order."""
        sql = []
        for entry in self.steps[version - 1].statements(direction, conn.dialect.name):
            if callable(entry):
                with recording(conn) as sent:
                    entry(conn)
                sql += sent
            else:
                conn.execute(text(entry))
                sql.append(entry)
        return tuple(sql)

    def rehearse(self, version: int, look: Callable):
        """Move to ``version`` in a transaction that is then rolled back; ``look(conn)`` sees the database there.

        Returns what ``look`` returned. The database is left as it was, whatever happened. A step that fails
        raises the database's error (the real move would fail the same way and say so).
        """
        target = self.check_version(version)
        with self.engine.connect() as conn, _sqlite_foreign_keys_off(conn):
            transaction = conn.begin()
            try:
                now = self._stored_version(conn)
                for step_version in range(now + 1, target + 1):
                    self._apply(conn, step_version, "upgrade")
                for step_version in range(now, target, -1):
                    self._apply(conn, step_version, "downgrade")
                return look(conn)
            finally:
                transaction.rollback()

    def _store_version(self, conn, version: int) -> None:
        table = self._quoted_version_table(conn)
        conn.execute(text(f"CREATE TABLE IF NOT EXISTS {table} (version INTEGER NOT NULL)"))
        if conn.execute(text(f"UPDATE {table} SET version = :version"), {"version": version}).rowcount == 0:
            conn.execute(text(f"INSERT INTO {table} (version) VALUES (:version)"), {"version": version})


@contextmanager
def recording(conn):
    """Collect the SQL sent on ``conn`` inside the block (a list, filled as statements are sent)."""
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    event.listen(conn, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(conn, "before_cursor_execute", record)


@contextmanager
def _sqlite_foreign_keys_off(conn):
    """SQLite's rule for changing a table's shape: foreign keys off around the transaction, checked before commit.

    With ``PRAGMA foreign_keys=ON``, the rebuild's ``DROP TABLE orders`` would delete (ON DELETE CASCADE) or
    refuse to drop the rows other tables point at. The pragma cannot change inside a transaction, so it is
    switched off on the step's connection before BEGIN and back on after. Yields whether it was on.
    """
    if conn.dialect.name != "sqlite":
        yield False
        return
    driver_connection = conn.connection.driver_connection
    was_on = bool(driver_connection.execute("PRAGMA foreign_keys").fetchone()[0])
    if was_on:
        driver_connection.execute("PRAGMA foreign_keys = OFF")
    try:
        yield was_on
    finally:
        if was_on:
            with suppress(Exception):  # a connection that died mid-step is discarded by the pool anyway
                driver_connection.execute("PRAGMA foreign_keys = ON")


def _refuse_broken_references(conn, what_failed: str, stored_version: int) -> None:
    """Before commit: every foreign key still points at a row, or the step is rolled back (SQLite)."""
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        child, _, parent, _ = broken[0]
        raise MigrationError(
            f"{what_failed} and was rolled back: it would leave {len(broken)} row(s) of {child} pointing at no row "
            f"of {parent}. The database is unchanged, still at version {stored_version}."
        )


def _hint(reason: str, stored_version: int) -> str:
    """What to do next, for the failures a learner meets most."""
    lowered = reason.lower()
    if "no such table" in lowered or "does not exist" in lowered:
        return " Run the cell that creates and loads the orders table first."
    if "check constraint" in lowered:
        return " Some rows hold a value the new rule forbids: fix those rows, then try again."
    if "duplicate column" in lowered or "already exists" in lowered or "no such index" in lowered \
            or "no such column" in lowered:
        return (
            f" The database does not look like version {stored_version}: a cell changed it outside the migrator"
            " (or the table was rebuilt after the version was stored). Restart & Run All to start again from"
            " the table as first built."
        )
    return ""
