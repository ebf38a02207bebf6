"""Lesson 01's exercise checks (see :mod:`coursekit.exercises` for how checks behave)."""

from __future__ import annotations

from sqlalchemy import MetaData, Table, create_engine, inspect, text

from coursekit.exercises import SCRATCH_ROWS, Verdict, explain_error, scratch_orders_engine

PLAIN_INSERT = "INSERT INTO orders (order_id, amount) VALUES ('X-1', 9.99)"


def _columns(engine) -> dict | None:
    """The columns of ``orders`` by name, or None when the learner's code left no such table."""
    inspector = inspect(engine)
    if not inspector.has_table("orders"):
        return None
    return {column["name"]: column for column in inspector.get_columns("orders")}


def _missing_currency(columns: dict) -> str:
    added = sorted(set(columns) - {"order_id", "amount"})
    if added:
        return f"after your function ran, orders has columns {sorted(columns)}, none named `currency`."
    return "after your function ran, orders has no column `currency`. Did it execute the ALTER?"


def check_add_currency_column(add_currency_column) -> Verdict:
    """Lesson 01, exercise 1: a function that adds ``currency TEXT NOT NULL DEFAULT 'EUR'``."""
    if not callable(add_currency_column):
        return Verdict(False, "define a function `add_currency_column(conn)` and run its cell first.")
    engine = scratch_orders_engine()
    try:
        with engine.begin() as conn:
            add_currency_column(conn)
    except Exception as error:  # a learner's wrong SQL is an answer to explain, not a crash
        return Verdict(False, f"{explain_error(error)}.")
    columns = _columns(engine)
    if columns is None:
        return Verdict(False, "after your function ran, there is no table `orders`: add the column to the table "
                              "that is there, without dropping or renaming it.")
    column = columns.get("currency")
    if column is None:
        return Verdict(False, _missing_currency(columns))
    has_default = column["default"] is not None
    if column["nullable"]:
        why = "allowed because the column has a default" if has_default else "with DEFAULT 'EUR' for the rows there"
        return Verdict(False, f"`currency` accepts NULL; add NOT NULL ({why}).")
    if not has_default or "EUR" not in str(column["default"]):
        return Verdict(False, f"`currency` has database default {column['default']!r}; it should be 'EUR'.")
    with engine.connect() as conn:
        values = conn.execute(text("SELECT DISTINCT currency FROM orders")).scalars().all()
        count = conn.execute(text("SELECT count(*) FROM orders")).scalar_one()
    if count != SCRATCH_ROWS:
        return Verdict(False, f"orders held {SCRATCH_ROWS} orders and holds {count} after your function: "
                              "adding a column keeps every order.")
    if values != ["EUR"]:
        return Verdict(False, f"existing orders read {values}; every one should read 'EUR'.")
    return Verdict(True, "every existing order now reads 'EUR', and the database will fill it in for new ones.")


def check_server_default_table(orders_table) -> Verdict:
    """Lesson 01, exercise 2: a ``Table`` whose ``status`` column has a *database* default of 'pending'."""
    if not isinstance(orders_table, Table):
        return Verdict(False, f"`orders_v2` should be a sqlalchemy Table; it is {type(orders_table).__name__}.")
    if orders_table.name != "orders":
        return Verdict(False, f"the table is named {orders_table.name!r}; it describes `orders`, so name it 'orders'.")
    if "status" not in orders_table.c:
        return Verdict(False, f"the table has columns {list(orders_table.c.keys())}; add a `status` column.")
    status = orders_table.c.status
    if status.server_default is None:
        hint = " `default=` only fills it in from Python;" if status.default is not None else ""
        return Verdict(False, f"`status` has no database default.{hint} use server_default='pending'.")
    engine = create_engine("sqlite:///:memory:")
    try:
        orders_table.to_metadata(MetaData()).create(engine)
    except Exception as error:  # e.g. a server_default that is not valid SQL
        return Verdict(False, f"creating your table failed: {explain_error(error)}.")
    try:
        with engine.begin() as conn:
            conn.execute(text(PLAIN_INSERT))
            stored = conn.execute(text("SELECT status FROM orders")).scalar_one()
    except Exception as error:  # e.g. another NOT NULL column without a default
        return Verdict(False, f"an order inserted with plain SQL, `{PLAIN_INSERT}`, was refused: "
                              f"{explain_error(error)}.")
    if stored != "pending":
        return Verdict(False, f"a row inserted with plain SQL got status {stored!r}; it should be 'pending'.")
    return Verdict(True, "the database itself fills in 'pending', whoever inserts the row.")
