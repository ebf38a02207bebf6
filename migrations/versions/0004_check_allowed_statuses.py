"""Allow only known statuses: a CHECK constraint, added in batch mode (SQLite rebuilds the table).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ALLOWED_STATUS_CHECK = "status IN ('pending', 'shipped', 'refunded', 'cancelled')"


def orders_as_of_0003() -> sa.Table:
    """The table as revision 0003 left it. Batch mode copies this shape instead of reflecting the database,
    so the same rebuild can also be written out offline (``--sql``), where there is no database to read."""
    return sa.Table(
        "orders",
        sa.MetaData(),
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=False),
        sa.Column("country", sa.Text(), nullable=False),
        sa.Column("ordered_at", sa.Text(), nullable=False),
        sa.Column("amount", sa.REAL(), nullable=False),
        sa.Column("shipped_at", sa.Text(), nullable=True),
        sa.Column("refunded_at", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False, server_default="pending"),
        sa.PrimaryKeyConstraint("order_id", name="pk_orders"),
    )


def upgrade() -> None:
    # Before SQLite 3.53, ALTER TABLE cannot add a constraint to an existing table, and Alembic refuses a plain
    # op.create_check_constraint on SQLite whatever its version. So batch mode: on SQLite it creates the new shape,
    # copies the rows, drops the old table and renames the new one, which works on every version. Other databases
    # run a plain ALTER TABLE ... ADD CONSTRAINT.
    # The name "status" becomes ck_orders_status through the naming convention (coursekit/models.py).
    with op.batch_alter_table("orders", copy_from=orders_as_of_0003()) as batch_op:
        batch_op.create_check_constraint("status", ALLOWED_STATUS_CHECK)


def downgrade() -> None:
    orders = orders_as_of_0003()
    orders.append_constraint(sa.CheckConstraint(ALLOWED_STATUS_CHECK, name="ck_orders_status"))
    with op.batch_alter_table("orders", copy_from=orders) as batch_op:
        # op.f() marks the name as final: without it the convention would make it ck_orders_ck_orders_status.
        batch_op.drop_constraint(op.f("ck_orders_status"), type_="check")
