"""Backfill status from shipped_at and refunded_at (a data migration: no schema change).

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A refunded order was shipped first, so the refund is tested first.
    op.execute(
        "UPDATE orders SET status = CASE"
        " WHEN refunded_at IS NOT NULL THEN 'refunded'"
        " WHEN shipped_at IS NOT NULL THEN 'shipped'"
        " ELSE 'pending' END"
    )


def downgrade() -> None:
    # What this cannot give back: every status goes back to 'pending', as revision 0002 left it. A status written
    # after the backfill (by hand, or by the shop, e.g. 'cancelled') is lost: the database does not remember
    # which values the backfill wrote.
    op.execute("UPDATE orders SET status = 'pending'")
