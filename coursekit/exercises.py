"""Auto-checks for the lessons' exercises.

Each check returns a :class:`Verdict`, shown in the notebook as one friendly line, "Correct" or
"Not yet" with what to try, and true or false in tests. A wrong answer (None, the wrong type,
SQL that fails) is a verdict, never a traceback. Checks run the learner's code on a small
scratch database of their own, so the lesson's database is never touched.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import MetaData, Table, create_engine, inspect, text

from coursekit.dataset import generate_orders, insert_orders

SCRATCH_ROWS = 10


class Verdict(NamedTuple):
    """A check's result: true when the answer is right; shows as one friendly line in a notebook."""

    ok: bool
    message: str

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        return ("✅ Correct: " if self.ok else "❌ Not yet: ") + self.message


def _first_line(error: BaseException) -> str:
    return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"


def scratch_orders_engine(rows: int = SCRATCH_ROWS):
    """A fresh in-memory database with lesson 01's two-column ``orders`` table and a few orders."""
    engine = create_engine("sqlite:///:memory:")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE orders (order_id TEXT PRIMARY KEY, amount REAL)"))
        insert_orders(conn, generate_orders(rows), columns=("order_id", "amount"))
    return engine


def _column(engine, name: str):
    return next((c for c in inspect(engine).get_columns("orders") if c["name"] == name), None)


def check_add_currency_column(add_currency_column) -> Verdict:
    """Lesson 01, exercise 1: a function that adds ``currency TEXT NOT NULL DEFAULT 'EUR'``."""
    if not callable(add_currency_column):
        return Verdict(False, "define a function `add_currency_column(conn)` and run its cell first.")
    engine = scratch_orders_engine()
    try:
        with engine.begin() as conn:
            add_currency_column(conn)
    except Exception as error:  # a learner's wrong SQL is an answer to explain, not a crash
        return Verdict(False, f"your function raised {_first_line(error)}. Did you wrap the SQL in text()?")
    column = _column(engine, "currency")
    if column is None:
        return Verdict(False, "after your function ran, orders has no column `currency`. Did it execute the ALTER?")
    if column["nullable"]:
        return Verdict(False, "`currency` accepts NULL; add NOT NULL (allowed because the column has a default).")
    if column["default"] is None or "EUR" not in str(column["default"]):
        return Verdict(False, f"`currency` has database default {column['default']!r}; it should be 'EUR'.")
    with engine.connect() as conn:
        values = conn.execute(text("SELECT DISTINCT currency FROM orders")).scalars().all()
        count = conn.execute(text("SELECT count(*) FROM orders")).scalar_one()
    if values != ["EUR"] or count != SCRATCH_ROWS:
        return Verdict(False, f"existing orders read {values} ({count} rows); every one should read 'EUR'.")
    return Verdict(True, "every existing order now reads 'EUR', and the database will fill it in for new ones.")


def check_server_default_table(orders_table) -> Verdict:
    """Lesson 01, exercise 2: a ``Table`` whose ``status`` column has a *database* default of 'pending'."""
    if not isinstance(orders_table, Table):
        return Verdict(False, f"`orders_v2` should be a sqlalchemy Table; it is {type(orders_table).__name__}.")
    if "status" not in orders_table.c:
        return Verdict(False, f"the table has columns {list(orders_table.c.keys())}; add a `status` column.")
    status = orders_table.c.status
    if status.server_default is None:
        hint = " `default=` only fills it in from Python;" if status.default is not None else ""
        return Verdict(False, f"`status` has no database default.{hint} use server_default='pending'.")
    engine = create_engine("sqlite:///:memory:")
    try:
        orders_table.to_metadata(MetaData()).create(engine)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO orders (order_id, amount) VALUES ('X-1', 9.99)"))
            stored = conn.execute(text("SELECT status FROM orders")).scalar_one()
    except Exception as error:
        return Verdict(False, f"creating the table or inserting into it failed: {_first_line(error)}")
    if stored != "pending":
        return Verdict(False, f"a row inserted with plain SQL got status {stored!r}; it should be 'pending'.")
    return Verdict(True, "the database itself fills in 'pending', whoever inserts the row.")
