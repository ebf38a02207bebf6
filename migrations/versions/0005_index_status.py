"""Index orders by status, for the warehouse's "orders to pack" query.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_orders_status"), "orders", ["status"])


def downgrade() -> None:
    op.drop_index(op.f("ix_orders_status"), table_name="orders")
