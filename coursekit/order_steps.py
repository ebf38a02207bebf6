"""The course's four-step migration of ``orders``, as plain SQL: lesson 02 prints and explains each step.

Version 0 is the table as the shop first built it (:data:`CREATE_ORDERS`, with the data set's
columns). Step 3 adds a CHECK constraint, which SQLite before 3.53 cannot add to an existing table: it rebuilds
the table (create the new shape, copy, drop, rename), all inside the step's one transaction.
PostgreSQL adds the constraint in place (the step's ``dialects`` entry). The SQL runs on both.
"""

from __future__ import annotations

from sqlalchemy import text

from coursekit.dataset import generate_orders, insert_orders
from coursekit.db import make_engine
from coursekit.migrations import Step

ALLOWED_STATUSES = ("pending", "shipped", "refunded", "cancelled")

BASE_COLUMNS = """order_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    country TEXT NOT NULL,
    ordered_at TEXT NOT NULL,
    amount REAL NOT NULL,
    shipped_at TEXT,
    refunded_at TEXT"""

COLUMN_NAMES = "order_id, customer_id, country, ordered_at, amount, shipped_at, refunded_at, status"

CREATE_ORDERS = f"CREATE TABLE orders (\n    {BASE_COLUMNS}\n)"

_STATUS_LIST = ", ".join(f"'{status}'" for status in ALLOWED_STATUSES)


def _rebuild_orders(status_column: str) -> tuple[str, ...]:
    """SQLite's table rebuild: a new table of the wanted shape, the rows copied, the old one replaced."""
    return (
        f"CREATE TABLE orders_new (\n    {BASE_COLUMNS},\n    {status_column}\n)",
        f"INSERT INTO orders_new ({COLUMN_NAMES}) SELECT {COLUMN_NAMES} FROM orders",
        "DROP TABLE orders",
        "ALTER TABLE orders_new RENAME TO orders",
    )


ORDER_STEPS = (
    Step(
        name="Add a status column",
        upgrade=("ALTER TABLE orders ADD COLUMN status TEXT NOT NULL DEFAULT 'pending'",),
        downgrade=("ALTER TABLE orders DROP COLUMN status",),
        cannot_restore="Every status is dropped with the column, including any an application wrote.",
    ),
    Step(
        name="Fill in each order's status",
        upgrade=(
            "UPDATE orders SET status = CASE"
            " WHEN refunded_at IS NOT NULL THEN 'refunded'"
            " WHEN shipped_at IS NOT NULL THEN 'shipped'"
            " ELSE 'pending' END",
        ),
        downgrade=("UPDATE orders SET status = 'pending'",),
        cannot_restore=(
            "Downgrading sets every status back to 'pending', as after step 1. A status written by hand or by "
            "the shop after the backfill is lost: the database does not remember which values the backfill wrote."
        ),
    ),
    Step(
        name="Allow only known statuses",
        upgrade=_rebuild_orders(
            f"status TEXT NOT NULL DEFAULT 'pending' CONSTRAINT ck_orders_status CHECK (status IN ({_STATUS_LIST}))"
        ),
        downgrade=_rebuild_orders("status TEXT NOT NULL DEFAULT 'pending'"),
        # PostgreSQL adds and drops a constraint in place: no rebuild (and the rebuild's new primary-key
        # index name would clash with the old one's there).
        dialects={
            "postgresql": (
                (f"ALTER TABLE orders ADD CONSTRAINT ck_orders_status CHECK (status IN ({_STATUS_LIST}))",),
                ("ALTER TABLE orders DROP CONSTRAINT ck_orders_status",),
            )
        },
    ),
    Step(
        name="Index orders by status",
        upgrade=("CREATE INDEX ix_orders_status ON orders (status)",),
        downgrade=("DROP INDEX ix_orders_status",),
    ),
)


def create_shop(url: str = "sqlite:///:memory:", rows: int = 1_000):
    """An engine on ``url`` holding ``orders`` as first built (version 0), loaded with ``rows`` generated orders.

    For tests, exercise checks and benchmarks: the lessons create their table in a cell of their own.
    """
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(CREATE_ORDERS))
        insert_orders(conn, generate_orders(rows))
    return engine
