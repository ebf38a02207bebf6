"""Lesson 04's exercise checks (see :mod:`coursekit.exercises` for how checks behave)."""

from __future__ import annotations

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


CHANNELS = ("web", "shop", "phone")
NEW_ORDER = "INSERT INTO orders (order_id, customer_id, amount, channel) VALUES (?, 'C-1', 1.0, ?)"
CHANNEL_HINTS = {  # SQLite's words when it refuses the statement → the mistake they show
    "NOT NULL column with default value NULL": "NOT NULL needs a DEFAULT for the old rows to hold",
    "non-constant default": "the default must be a constant, such as 'web'",
    "CHECK constraint failed": "SQLite tested the CHECK on the old rows, which hold the default: make it 'web'",
    "one statement at a time": "give one ALTER TABLE statement",
}


def _orders_for_channel():
    conn = _scratch_connection()
    conn.exec_driver_sql("CREATE TABLE orders (order_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, amount REAL)")
    conn.exec_driver_sql("INSERT INTO orders VALUES ('A', 'C-1', 10.0), ('B', 'C-2', 20.0), ('C', 'C-1', 5.0)")
    return conn


def _new_order(conn, order_id: str, channel) -> str:
    """'ok', or SQLite's words refusing a new order with this channel."""
    try:
        conn.exec_driver_sql(NEW_ORDER, (order_id, channel))
    except Exception as error:  # SQLite's refusal is what we look at
        return str(getattr(error, "orig", error)).splitlines()[0]
    return "ok"


def _channel_problem(conn) -> str | None:
    """What is wrong with orders.channel after the learner's statement, if anything."""
    columns = [row[1] for row in conn.exec_driver_sql("PRAGMA table_info(orders)")]
    if not columns:
        return "there is no table orders afterwards: add a column to it, do not drop or rename it."
    if "channel" not in columns:
        return f"orders has no column channel (its columns: {columns}): ALTER TABLE orders ADD COLUMN channel …"
    old = [row[0] for row in conn.exec_driver_sql("SELECT channel FROM orders ORDER BY order_id")]
    if len(old) != 3:
        return f"orders held 3 orders and now holds {len(old)}: add the column and leave the rows alone."
    if set(old) != {"web"}:
        return f"the old orders read {sorted(set(old), key=repr)}: they hold the default, so make it DEFAULT 'web'."
    if _new_order(conn, "NEW-1", None) == "ok":
        return "a new order with channel NULL was accepted: the column needs NOT NULL."
    if _new_order(conn, "NEW-2", "fax") == "ok":
        return "a new order with channel 'fax' was accepted: add CHECK (channel IN ('web', 'shop', 'phone'))."
    for number, channel in enumerate(CHANNELS, start=3):
        said = _new_order(conn, f"NEW-{number}", channel)
        if said != "ok":
            return f"a new order with channel {channel!r} was refused ({said}): allow 'web', 'shop' and 'phone'."
    return None


def check_channel_column(statement) -> Verdict:
    """Exercise 2: one ALTER TABLE adds channel: NOT NULL, old rows 'web', only web/shop/phone accepted."""
    if not isinstance(statement, str):
        return Verdict(False, f"give the ALTER TABLE statement as a string in quotes; you gave {statement!r}.")
    if not statement.strip():
        return Verdict(False, "the string is empty: write the ALTER TABLE statement between the quotes.")
    conn = _orders_for_channel()
    try:
        conn.exec_driver_sql(statement)
    except Exception as error:  # SQLite's refusal is an answer to explain
        hint = next((f": {hint}" for words, hint in CHANNEL_HINTS.items() if words in str(error)), "")
        return Verdict(False, f"{explain_error(error).rstrip('.')}{hint}.")
    problem = _channel_problem(conn)
    if problem:
        return Verdict(False, problem)
    return Verdict(True, "one ALTER TABLE: the old orders read 'web', NULL and 'fax' are refused; no rebuild needed.")
