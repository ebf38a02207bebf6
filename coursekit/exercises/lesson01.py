"""Lesson 01's exercise checks (see :mod:`coursekit.exercises` for how checks behave)."""

from __future__ import annotations

from sqlalchemy import MetaData, Table, create_engine, inspect, text

from coursekit.exercises import SCRATCH_ROWS, Verdict, first_line, scratch_orders_engine


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
        return Verdict(False, f"your function raised {first_line(error)}. Did you wrap the SQL in text()?")
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
        return Verdict(False, f"creating the table or inserting into it failed: {first_line(error)}")
    if stored != "pending":
        return Verdict(False, f"a row inserted with plain SQL got status {stored!r}; it should be 'pending'.")
    return Verdict(True, "the database itself fills in 'pending', whoever inserts the row.")
