"""Lesson 04's exercise checks (see :mod:`coursekit.exercises` for how checks behave)."""

from __future__ import annotations

import re
import sqlite3
from contextlib import suppress

from sqlalchemy import create_engine

from coursekit.exercises import Verdict, explain_error

STATEMENTS = {
    "a": "ALTER TABLE orders ADD COLUMN coupon TEXT",
    "b": "ALTER TABLE orders ADD COLUMN created_at TEXT DEFAULT CURRENT_TIMESTAMP",
    "c": "ALTER TABLE orders RENAME COLUMN ordered_at TO placed_at",
    "d": "ALTER TABLE orders ADD CONSTRAINT ck_amount CHECK (amount > 0)",
    "e": "ALTER TABLE orders DROP COLUMN ordered_at",
    "f": "ALTER TABLE orders ADD COLUMN email TEXT UNIQUE",
}
ITEMS_COLUMNS = "item_id, order_id, sku, quantity"
ZERO_QUANTITY = "INSERT INTO order_items (order_id, sku, quantity) VALUES ('A', 'S3', 0)"
WRITES_ITEM_NOTES = re.compile(r"\b(DELETE\s+FROM|DROP\s+TABLE(\s+IF\s+EXISTS)?|UPDATE|INSERT\s+(OR\s+\w+\s+)?INTO|"
                               r"REPLACE\s+INTO)\s+[\"'`\[]?item_notes\b", re.I)


def _scratch_connection():
    conn = create_engine("sqlite:///:memory:").connect().execution_options(isolation_level="AUTOCOMMIT")
    conn.exec_driver_sql("PRAGMA foreign_keys = ON")
    return conn


def directly_possible() -> set[str]:
    """The letters whose statement this SQLite runs, each tried on a fresh table."""
    possible = set()
    for letter, statement in STATEMENTS.items():
        conn = _scratch_connection()
        conn.exec_driver_sql("CREATE TABLE orders (order_id TEXT PRIMARY KEY, ordered_at TEXT, amount REAL)")
        # with rows: SQLite accepts some changes on an empty table (a non-constant default) that it refuses otherwise
        conn.exec_driver_sql("INSERT INTO orders VALUES ('A', '2025-01-01', 10.0)")
        try:
            conn.exec_driver_sql(statement)
            possible.add(letter)
        except Exception:  # SQLite's refusal is the answer we are after
            pass
        conn.close()
    return possible


def check_alter_abilities(direct) -> Verdict:
    """Exercise 1: the statements SQLite's ALTER TABLE runs directly (decided by trying them)."""
    if isinstance(direct, str) or not isinstance(direct, (list, tuple, set)):
        return Verdict(False, f"give a list of letters, e.g. ['a']; you gave {direct!r}.")
    if not all(isinstance(letter, str) for letter in direct):
        return Verdict(False, f"write each letter in quotes, e.g. ['a']; you gave {direct!r}.")
    chosen = {letter.strip().lower() for letter in direct}
    if not chosen:
        return Verdict(False, f"the list is empty: {len(directly_possible())} of the six work directly on your SQLite.")
    if not chosen <= set(STATEMENTS):
        return Verdict(False, "choose among the letters a to f.")
    truth = directly_possible()
    wrong, missing = sorted(chosen - truth), sorted(truth - chosen)
    if wrong:
        return Verdict(False, f"SQLite refuses {wrong[0]}: try `{STATEMENTS[wrong[0]]}` on the shop and read why.")
    if missing:
        return Verdict(False, f"{missing[0]} works directly: `{STATEMENTS[missing[0]]}`.")
    return Verdict(True, f"{', '.join(sorted(truth))} work directly; the rest needs a rebuild.")


def _shop_for_items():
    conn = _scratch_connection()
    conn.exec_driver_sql("CREATE TABLE orders (order_id TEXT PRIMARY KEY, amount REAL)")
    conn.exec_driver_sql("CREATE TABLE order_items (item_id INTEGER PRIMARY KEY, order_id TEXT NOT NULL"
                         " REFERENCES orders ON DELETE CASCADE, sku TEXT NOT NULL, quantity INTEGER NOT NULL)")
    conn.exec_driver_sql("CREATE TABLE item_notes (note_id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL"
                         " REFERENCES order_items ON DELETE CASCADE, note TEXT NOT NULL)")
    conn.exec_driver_sql("INSERT INTO orders VALUES ('A', 10.0), ('B', 20.0)")
    conn.exec_driver_sql("INSERT INTO order_items (order_id, sku, quantity) VALUES ('A', 'S1', 1), ('A', 'S2', 2),"
                         " ('B', 'S1', 3)")
    conn.exec_driver_sql("INSERT INTO item_notes (item_id, note) VALUES (1, 'gift wrap'), (3, 'leave at the door')")
    return conn


def _item_notes_problem(conn, notes_before, statements: list[str]) -> str | None:
    """What the rebuild did to item_notes, the table that references order_items, if anything."""
    notes_after = conn.exec_driver_sql("SELECT * FROM item_notes ORDER BY note_id").all()
    if notes_after != notes_before:
        held = f"item_notes held {len(notes_before)} notes and now holds {len(notes_after)}"
        wrote = next((sql for sql in statements if WRITES_ITEM_NOTES.search(sql)), None)
        if wrote is not None:
            return f"{held}: your function ran `{' '.join(wrote.split())[:80]}`. Leave item_notes as it is."
        return (f"{held}, and your function never wrote to it: with foreign keys on, DROP TABLE order_items deletes "
                "its notes through ON DELETE CASCADE. Switch them off before BEGIN.")
    schema = conn.exec_driver_sql("SELECT sql FROM sqlite_schema WHERE name = 'item_notes'").scalar_one()
    referenced = re.search(r"REFERENCES\s+(\w+)", schema.replace('"', ""))
    if referenced and referenced[1] != "order_items":
        return (f"item_notes now says REFERENCES {referenced[1]}: renaming the old table re-points the references "
                "to it. Create the new table, copy, drop the old one, then rename the new.")
    return None


def _is_open(driver) -> bool:
    try:
        driver.total_changes  # noqa: B018 - raises on a closed sqlite3 connection
    except sqlite3.ProgrammingError:
        return False
    return True


def _no_order_items(names: set[str]) -> str:
    others = sorted(names - {"orders", "item_notes"})
    ending = f"rename {others[0]} to order_items." if others else "the rebuild should end with a table of that name."
    return f"there is no order_items table afterwards (tables: {sorted(names)}): {ending}"


def check_items_rebuild(rebuild_items) -> Verdict:
    """Exercise 2: order_items rebuilt with CHECK (quantity > 0), every item kept, foreign keys intact and on."""
    if not callable(rebuild_items):
        return Verdict(False, "define a function `rebuild_items(conn)` and run its cell first.")
    conn = _shop_for_items()
    before = conn.exec_driver_sql(f"SELECT {ITEMS_COLUMNS} FROM order_items ORDER BY item_id").all()
    notes_before = conn.exec_driver_sql("SELECT * FROM item_notes ORDER BY note_id").all()
    statements: list[str] = []  # every statement SQLite runs for the learner, to say what touched item_notes
    driver = conn.connection.driver_connection
    driver.set_trace_callback(statements.append)
    try:
        rebuild_items(conn)
    except Exception as error:  # the learner's code failing is an answer to explain
        return Verdict(False, f"{explain_error(error)}.")
    finally:
        with suppress(sqlite3.ProgrammingError):  # the learner may have closed it
            driver.set_trace_callback(None)
    if conn.closed or conn.invalidated or not _is_open(driver):
        return Verdict(False, "your function closed the connection it was given: leave it open, the check reads "
                              "the rebuilt table through it.")
    if driver.in_transaction:
        return Verdict(False, "a transaction is still open: end the rebuild with COMMIT.")
    names = {row[0] for row in conn.exec_driver_sql("SELECT name FROM sqlite_schema WHERE type = 'table'")}
    if "order_items" not in names:
        return Verdict(False, _no_order_items(names))
    try:
        after = conn.exec_driver_sql(f"SELECT {ITEMS_COLUMNS} FROM order_items ORDER BY item_id").all()
    except Exception as error:  # e.g. a column renamed or left out
        return Verdict(False, f"order_items cannot be read: {explain_error(error)}.")
    if len(after) != len(before):
        return Verdict(False, f"order_items held {len(before)} items and now holds {len(after)}.")
    if after != before:
        return Verdict(False, f"order_items holds {len(after)} items, but they changed: copy every value as it was.")
    if conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() != 1:
        return Verdict(False, "foreign keys are still off: switch them on again after the COMMIT.")
    notes_problem = _item_notes_problem(conn, notes_before, statements)
    if notes_problem:
        return Verdict(False, notes_problem)
    if conn.exec_driver_sql("PRAGMA foreign_key_check").all():
        return Verdict(False, "PRAGMA foreign_key_check finds broken references.")
    schema = conn.exec_driver_sql("SELECT sql FROM sqlite_schema WHERE name = 'order_items'").scalar_one()
    if "REFERENCES orders" not in schema.replace('"', ""):
        return Verdict(False, "order_items no longer references orders: keep the foreign key in the new table.")
    try:
        conn.exec_driver_sql(ZERO_QUANTITY)
    except Exception as error:
        if "CHECK constraint failed" in str(error):
            return Verdict(True, "the CHECK refuses a quantity of 0, and every item, note and reference survived.")
        return Verdict(False, f"a new item with quantity 0 was refused, but not by a CHECK: {explain_error(error)}.")
    return Verdict(False, "a quantity of 0 was accepted: add CHECK (quantity > 0) to the new table.")
