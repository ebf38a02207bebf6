"""Migrate: fill amount_cents for the orders written before the expand, ROUNDed to the cent.

Revision ID: c002
Revises: c001
"""

from alembic import op

revision = "c002"
down_revision = "c001"
branch_labels = None
depends_on = None

TIMEOUTS = ["SET LOCAL lock_timeout = '1s'", "SET LOCAL statement_timeout = '5s'"]  # this transaction only


def on_sqlite() -> bool:
    return op.get_context().dialect.name == "sqlite"  # works offline (--sql) too, where there is no connection


def set_timeouts() -> None:
    """On PostgreSQL: wait at most 1 s for a lock, and stop a statement that runs longer than 5 s."""
    for statement in [] if on_sqlite() else TIMEOUTS:
        op.execute(statement)


def upgrade() -> None:
    set_timeouts()
    op.execute("UPDATE orders SET amount_cents = CAST(ROUND(amount * 100) AS INTEGER) WHERE amount_cents IS NULL")


def downgrade() -> None:
    """Nothing to undo: amount still holds every order's price, and c001's downgrade drops amount_cents."""
