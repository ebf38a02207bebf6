"""Migrate: fill amount_cents for the orders written before the expand, ROUNDed to the cent.

Revision ID: c002
Revises: c001
"""

from alembic import op

revision = "c002"
down_revision = "c001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE orders SET amount_cents = CAST(ROUND(amount * 100) AS INTEGER) WHERE amount_cents IS NULL")


def downgrade() -> None:
    """Nothing to undo: amount still holds every order's price, and c001's downgrade drops amount_cents."""
