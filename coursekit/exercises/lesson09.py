"""Lesson 09's exercise checks (see :mod:`coursekit.exercises` for how checks behave).

Both checks hand the learner's function a small shop of its own: an in-memory SQLite database with every column of
the data set, and, for the second check, backup files in a temporary folder that is removed afterwards.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path

from coursekit.dataset import COLUMNS, generate_orders, insert_orders
from coursekit.db import make_engine
from coursekit.exercises import Verdict, explain_error
from coursekit.verify import quote_identifier

SCRATCH_ROWS = 200  # enough for a few refunded orders
ORDERS_TABLE = (
    "CREATE TABLE orders (order_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, country TEXT NOT NULL,"
    " ordered_at TEXT NOT NULL, amount REAL, shipped_at TEXT, refunded_at TEXT)"
)
FAILING_STEPS = [
    "CREATE TABLE refunds AS SELECT order_id, customer_id, amount, refunded_at FROM orders"
    " WHERE refunded_at IS NOT NULL",
    "DELETE FROM orders WHERE refunded_at IS NOT NULL",
    "ALTER TABLE orders DROP COLUMN refunded_at",
    "ALTER TABLE refunds ADD COLUMN refund_id INTEGER PRIMARY KEY",
]
WORKING_STEPS = [
    "ALTER TABLE orders ADD COLUMN note TEXT",
    "UPDATE orders SET note = 'checked'",
    "VACUUM",
]


def scratch_shop():
    """A fresh in-memory shop (one connection shared, as in the lesson) with every column of the data set."""
    engine = make_engine("sqlite:///:memory:")
    with engine.begin() as conn:
        conn.exec_driver_sql(ORDERS_TABLE)
        insert_orders(conn, generate_orders(SCRATCH_ROWS))
    return engine


def database_contents(engine) -> tuple:
    """Everything in the database: its schema and every row of every table, in order."""
    with engine.connect() as conn:
        schema = conn.exec_driver_sql("SELECT type, name, sql FROM sqlite_schema ORDER BY type, name").all()
        tables = [name for kind, name, _ in schema if kind == "table"]
        rows = {table: conn.exec_driver_sql(f"SELECT * FROM {quote_identifier(conn, table)} ORDER BY 1").all()
                for table in tables}
    return [tuple(entry) for entry in schema], {table: [tuple(row) for row in rows[table]] for table in tables}


def _failed_step(error: BaseException) -> int | None:
    """The number of the failing step whose error this is (it escaped the learner's function), else None."""
    statement = " ".join(str(getattr(error, "statement", "") or "").split())
    if statement in FAILING_STEPS:
        return FAILING_STEPS.index(statement) + 1
    if isinstance(error, sqlite3.Error) and "Cannot add a PRIMARY KEY column" in str(error):  # sqlite3 used directly
        return len(FAILING_STEPS)
    return None


VACUUM_HINT = ("VACUUM cannot run inside a transaction, so run the steps on an AUTOCOMMIT connection (SQLite then "
               "commits each statement on its own)")


def _refused_vacuum(error: BaseException) -> bool:
    return "cannot VACUUM from within a transaction" in str(error)


def _with_failing_steps(safe_migrate) -> Verdict | None:
    engine = scratch_shop()
    before = database_contents(engine)
    try:
        result = safe_migrate(engine, list(FAILING_STEPS))
    except Exception as error:  # the learner's code failing is an answer to explain
        step = _failed_step(error)
        if step is None:
            return Verdict(False, f"with steps of which one fails, {explain_error(error)}.")
        return Verdict(False, f"step {step} failed, as it should ({explain_error(error)}), and the error left your "
                              "function: catch it, restore the snapshot and return False.")
    if result is None:
        return Verdict(False, "your function returned None: take a snapshot, run the steps, and when one fails "
                              "restore the snapshot and return False.")
    if database_contents(engine) != before:
        return Verdict(False, "after a failed step the database is not as before: restore the snapshot you took "
                              "before the first step, with backup(snapshot, engine).")
    if result is not False:
        return Verdict(False, f"the database is restored, but return False when a step failed (you returned "
                              f"{result!r}).")
    return None


def _returns_true_without_vacuum(safe_migrate) -> bool:
    """Whether the learner's function returns True for the working steps once VACUUM is left out."""
    try:
        return safe_migrate(scratch_shop(), list(WORKING_STEPS[:-1])) is True
    except Exception:  # the learner's code may raise anything
        return False


def check_safe_migrate(safe_migrate) -> Verdict:
    """Exercise 1: snapshot, each step committed on its own, restore and return False when a step fails."""
    if not callable(safe_migrate):
        return Verdict(False, "define a function `safe_migrate(engine, steps)` and run its cell first.")
    if (problem := _with_failing_steps(safe_migrate)) is not None:
        return problem
    engine = scratch_shop()
    try:
        result = safe_migrate(engine, list(WORKING_STEPS))
    except Exception as error:
        hint = f": {VACUUM_HINT}" if _refused_vacuum(error) else ""
        return Verdict(False, f"with steps that all work, {explain_error(error)}{hint}.")
    if result is not True:
        if result is False and _returns_true_without_vacuum(safe_migrate):
            return Verdict(False, f"these steps all work, yet you returned False; without the last one, VACUUM, you "
                                  f"return True. {VACUUM_HINT}, and return True.")
        return Verdict(False, f"these steps all work, yet you returned {result!r}: return True when every step ran.")
    with engine.connect() as conn:
        notes = conn.exec_driver_sql("SELECT DISTINCT note FROM orders").scalars().all()
    if notes != ["checked"]:
        return Verdict(False, f"you returned True, but the steps' changes are not there (notes: {notes!r}).")
    return Verdict(True, "a failed migration leaves the database exactly as before, a good one is kept.")


def _write_backups(engine, folder: Path) -> dict:
    """Backup files of the scratch shop, good and bad, named by what a restore test should find."""
    good = folder / "good.sqlite"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM INTO ?", (str(good),))
    changed = folder / "one-order-changed.sqlite"
    shutil.copy(good, changed)
    with sqlite3.connect(changed) as copy:
        copy.execute("UPDATE orders SET amount = amount + 1 WHERE order_id = (SELECT min(order_id) FROM orders)")
    copy.close()
    live_path, copied = folder / "live-wal.sqlite", folder / "file-copy-of-a-wal-database.sqlite"
    live = sqlite3.connect(live_path)
    live.execute("PRAGMA journal_mode = WAL")
    live.execute(ORDERS_TABLE)
    with engine.connect() as conn:
        live.executemany(f"INSERT INTO orders VALUES ({', '.join('?' * len(COLUMNS))})",
                         conn.exec_driver_sql("SELECT * FROM orders").all())
    live.commit()
    shutil.copy(live_path, copied)  # the orders are still in live-wal.sqlite-wal, not in the copied file
    live.close()
    garbage = folder / "not-a-database.sqlite"
    garbage.write_bytes(b"this is not a database\n" * 200)
    return {good: True, changed: False, copied: False, garbage: False, folder / "missing.sqlite": False}


def check_backup_is_good(backup_is_good) -> Verdict:
    """Exercise 2: True only for a file that restores to exactly the engine's orders; False, not an error, else."""
    if not callable(backup_is_good):
        return Verdict(False, "define a function `backup_is_good(path, engine)` and run its cell first.")
    engine = scratch_shop()
    with tempfile.TemporaryDirectory() as folder:
        for path, expected in _write_backups(engine, Path(folder)).items():
            try:
                answer = backup_is_good(path, engine)
            except Exception as error:  # say which file raised; for a bad one, that False is the answer
                hint = " A backup that does not restore should give False." if not expected else ""
                return Verdict(False, f"for the file {path.name}, {explain_error(error)}.{hint}")
            if not isinstance(answer, bool):
                return Verdict(False, f"return True or False; for {path.name} you returned {answer!r}.")
            if answer != expected:
                why = "it restores to the same orders" if expected else "restoring it does not give the same orders"
                return Verdict(False, f"for {path.name} you returned {answer}, but {why}.")
    return Verdict(True, "only the backup that restores to the same orders passes; the copy of a WAL database, "
                         "the changed, the broken and the missing file do not.")
