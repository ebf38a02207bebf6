"""Lesson 06's exercise checks (see :mod:`coursekit.exercises` for how checks behave).

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
from coursekit.exercises import Verdict, first_line
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


def check_safe_migrate(safe_migrate) -> Verdict:
    """Exercise 1: snapshot, each step committed on its own, restore and return False when a step fails."""
    if not callable(safe_migrate):
        return Verdict(False, "define a function `safe_migrate(engine, steps)` and run its cell first.")
    engine = scratch_shop()
    before = database_contents(engine)
    try:
        result = safe_migrate(engine, list(FAILING_STEPS))
    except Exception as error:  # the learner's code failing is an answer to explain
        return Verdict(False, f"with a failing step your function raised {first_line(error)}; catch it, restore "
                              "the snapshot and return False.")
    if result is None:
        return Verdict(False, "your function returned None: take a snapshot, run the steps, and when one fails "
                              "restore the snapshot and return False.")
    if database_contents(engine) != before:
        return Verdict(False, "after a failed step the database is not as before: restore the snapshot you took "
                              "before the first step, with backup(snapshot, engine).")
    if result is not False:
        return Verdict(False, f"the database is restored, but return False when a step failed (you returned "
                              f"{result!r}).")
    engine = scratch_shop()
    try:
        result = safe_migrate(engine, list(WORKING_STEPS))
    except Exception as error:
        return Verdict(False, f"with steps that all work your function raised {first_line(error)}.")
    if result is not True:
        return Verdict(False, f"these steps all work (the last is VACUUM), yet you returned {result!r}: VACUUM "
                              "cannot run inside a transaction, so run the steps on an AUTOCOMMIT connection (SQLite "
                              "then commits each statement on its own), and return True.")
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
            except Exception as error:  # a bad backup should give False, so say which file raised
                return Verdict(False, f"for the file {path.name} your function raised {first_line(error)}; "
                                      "a backup that does not restore should give False.")
            if not isinstance(answer, bool):
                return Verdict(False, f"return True or False; for {path.name} you returned {answer!r}.")
            if answer != expected:
                why = "it restores to the same orders" if expected else "restoring it does not give the same orders"
                return Verdict(False, f"for {path.name} you returned {answer}, but {why}.")
    return Verdict(True, "only the backup that restores to the same orders passes; the copy of a WAL database, "
                         "the changed, the broken and the missing file do not.")
