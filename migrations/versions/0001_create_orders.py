"""Create orders, with the data set's columns.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("country", sa.Text(), nullable=False),
        sa.Column("ordered_at", sa.Text(), nullable=False),
        sa.Column("amount", sa.REAL(), nullable=False),
        sa.Column("shipped_at", sa.Text(), nullable=True),
        sa.Column("refunded_at", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_orders")),
    )


def downgrade() -> None:
    # Drops the table and every order in it: a downgrade to base gives back an empty database, not the data.
    op.drop_table("orders")
