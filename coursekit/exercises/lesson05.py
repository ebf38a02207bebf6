"""Lesson 05's exercise checks (see :mod:`coursekit.exercises` for how checks behave)."""

from __future__ import annotations

import re
import sqlite3
from contextlib import suppress

from sqlalchemy import create_engine

from coursekit.exercises import Verdict, explain_error

ITEMS_COLUMNS = "item_id, order_id, sku, quantity"
ZERO_QUANTITY = "INSERT INTO order_items (order_id, sku, quantity) VALUES ('A', 'S3', 0)"
WRITES_ITEM_NOTES = re.compile(r"\b(DELETE\s+FROM|DROP\s+TABLE(\s+IF\s+EXISTS)?|UPDATE|INSERT\s+(OR\s+\w+\s+)?INTO|"
                               r"REPLACE\s+INTO)\s+[\"'`\[]?item_notes\b", re.I)


def _scratch_connection():
    conn = create_engine("sqlite:///:memory:").connect().execution_options(isolation_level="AUTOCOMMIT")
    conn.exec_driver_sql("PRAGMA foreign_keys = ON")
    return conn


REBUILD_STEPS = {  # exercise 1's steps, in the order the notebook lists them
    "a": "COMMIT",
    "b": "INSERT INTO new_orders SELECT * FROM orders",
    "c": "PRAGMA foreign_keys = ON",
    "d": "ALTER TABLE new_orders RENAME TO orders",
    "e": "BEGIN",
    "f": "PRAGMA foreign_key_check",
    "g": "DROP TABLE orders",
    "h": "CREATE TABLE new_orders (order_id TEXT NOT NULL PRIMARY KEY, customer_id TEXT NOT NULL REFERENCES customers,"
         " amount REAL NOT NULL CHECK (amount > 0))",
    "i": "PRAGMA foreign_keys = OFF",
    "j": "CREATE INDEX ix_orders_customer ON orders (customer_id)",
}
COMMIT, COPY, FOREIGN_KEYS_ON, BEGIN, CHECK_STEP, DROP, FOREIGN_KEYS_OFF = "a", "b", "c", "e", "f", "g", "i"


def _shop_for_order(broken: bool):
    """Customers, orders (with an index) and their items (ON DELETE CASCADE); ``broken``: one order names a
    customer who does not exist, which the old orders table allows."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("CREATE TABLE customers (customer_id TEXT PRIMARY KEY)")
    conn.execute("CREATE TABLE orders (order_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, amount REAL)")
    conn.execute("CREATE INDEX ix_orders_customer ON orders (customer_id)")
    conn.execute("CREATE TABLE order_items (item_id INTEGER PRIMARY KEY, order_id TEXT NOT NULL"
                 " REFERENCES orders ON DELETE CASCADE, quantity INTEGER NOT NULL)")
    conn.executemany("INSERT INTO customers VALUES (?)", [("C-1",), ("C-2",)])
    conn.executemany("INSERT INTO orders VALUES (?, ?, ?)",
                     [("A", "C-1", 10.0), ("B", "C-2", 20.0), ("C", "C-999" if broken else "C-1", 5.0)])
    conn.executemany("INSERT INTO order_items (order_id, quantity) VALUES (?, ?)", [("A", 1), ("A", 2), ("B", 1),
                                                                                    ("C", 3)])
    return conn


def _run_in_order(conn, letters) -> str | None:
    """Run the steps in the learner's order, as ``rebuild_transaction`` would: when the foreign_key_check finds a
    broken reference, roll back, switch foreign keys on and stop. Returns what failed, in SQLite's words."""
    for letter in letters:
        statement = REBUILD_STEPS[letter]
        try:
            found = conn.execute(statement).fetchall()
        except sqlite3.Error as error:
            return f"step {letter} (`{statement[:60]}`) failed: SQLite says {error}."
        if letter == CHECK_STEP and found:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            conn.execute("PRAGMA foreign_keys = ON")
            return None
    return None


def _items_lost(letters, lost: int, before: int) -> str:
    position = {letter: number for number, letter in enumerate(letters)}
    said = f"{lost} of {before} order items were deleted: foreign keys were on when DROP TABLE orders ran"
    if position[FOREIGN_KEYS_OFF] > position[DROP]:
        return f"{said}; switch them off (i) first, before BEGIN."
    if position[BEGIN] < position[FOREIGN_KEYS_OFF]:
        return f"{said}: PRAGMA foreign_keys = OFF inside a transaction does nothing, so i comes before BEGIN."
    return f"{said}: c switched them on again before the DROP; it belongs at the very end, after COMMIT."


def _foreign_keys_left_off(letters) -> str:
    position = {letter: number for number, letter in enumerate(letters)}
    said = "foreign keys are off at the end: PRAGMA foreign_keys = ON (c) comes last, after COMMIT"
    if position[BEGIN] < position[FOREIGN_KEYS_ON] < position[COMMIT]:
        return f"{said}; inside a transaction it does nothing."
    return f"{said}; it ran before PRAGMA foreign_keys = OFF."


def _broken_committed(letters) -> str:
    position = {letter: number for number, letter in enumerate(letters)}
    said = "on a shop where one order names a customer who does not exist, the rebuild was committed anyway"
    if position[CHECK_STEP] > position[COMMIT]:
        return f"{said}: PRAGMA foreign_key_check ran after COMMIT, too late to roll back."
    if position[CHECK_STEP] < position[COPY]:
        return f"{said}: PRAGMA foreign_key_check ran before the rows were copied into the new table, so it found none."
    outside = [letter for letter in letters[:position[BEGIN]] if letter != FOREIGN_KEYS_OFF]
    return (f"{said}: {', '.join(outside)} ran before BEGIN, outside the transaction, so ROLLBACK could not undo "
            "them. BEGIN comes right after foreign keys are switched off.")


def _order_problem(order) -> str | None:
    """What is wrong with the answer's form: not a list, letters missing, unknown or repeated."""
    if isinstance(order, str) or not isinstance(order, (list, tuple)):
        return f"give a list of letters in the order you would run them, e.g. ['i', 'e', ...]; you gave {order!r}."
    if not all(isinstance(letter, str) for letter in order):
        return f"write each letter in quotes, e.g. ['i', 'e']; you gave {order!r}."
    letters = [letter.strip().lower() for letter in order]
    if not letters:
        return "the list is empty: put all ten letters, a to j, in the order you would run them."
    unknown = [letter for letter in letters if letter not in REBUILD_STEPS]
    if unknown:
        return f"{unknown[0]!r} is not one of the steps: choose among the letters a to j."
    repeated = next((letter for letter in letters if letters.count(letter) > 1), None)
    if repeated:
        return f"{repeated} appears {letters.count(repeated)} times: every step runs once."
    missing = sorted(set(REBUILD_STEPS) - set(letters))
    if missing:
        return f"step {missing[0]} (`{REBUILD_STEPS[missing[0]][:60]}`) is missing: the rebuild needs all ten."
    return None


def check_rebuild_order(order) -> Verdict:
    """Exercise 1: the rebuild's steps in an order that keeps every item and rolls back a broken reference.

    The order is run on two small shops: a clean one, and one where an order names a missing customer."""
    problem = _order_problem(order)
    if problem:
        return Verdict(False, problem)
    letters = [letter.strip().lower() for letter in order]
    clean = _shop_for_order(broken=False)
    items_before = clean.execute("SELECT count(*) FROM order_items").fetchone()[0]
    failure = _run_in_order(clean, letters)
    if failure:
        return Verdict(False, failure)
    if clean.in_transaction:
        return Verdict(False, "a transaction is still open at the end: BEGIN (e) must come before COMMIT (a).")
    items_after = clean.execute("SELECT count(*) FROM order_items").fetchone()[0]
    if items_after != items_before:
        return Verdict(False, _items_lost(letters, items_before - items_after, items_before))
    if clean.execute("PRAGMA foreign_keys").fetchone()[0] != 1:
        return Verdict(False, _foreign_keys_left_off(letters))
    broken = _shop_for_order(broken=True)
    failure = _run_in_order(broken, letters)
    if failure:
        return Verdict(False, f"on a shop where one order names a missing customer, {failure}")
    if "CHECK" in broken.execute("SELECT sql FROM sqlite_schema WHERE name = 'orders'").fetchone()[0]:
        return Verdict(False, _broken_committed(letters))
    return Verdict(True, "every item is kept, and where an order names a missing customer the rebuild rolls back, "
                         "leaving the old table as it was.")


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
