"""The capstone's model: the ``orders`` table as the shop declares it once the money is in cents (after the contract).

The grader compares the database at the learner's head with this model the way ``alembic check`` does (Alembic's
``compare_metadata``): a column, type, NULL rule or index that differs is a difference to fix, in the revisions or,
where the revisions are right, in the model. CHECK constraints are not compared by Alembic; the goal check tries
``amount_cents > 0`` on the table itself.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, Integer, MetaData, Table, Text

from coursekit.models import NAMING_CONVENTION

metadata = MetaData(naming_convention=NAMING_CONVENTION)

orders = Table(
    "orders",
    metadata,
    Column("order_id", Text, primary_key=True),
    Column("customer_id", Text, nullable=False),
    Column("country", Text, nullable=False),
    Column("ordered_at", Text, nullable=False),
    Column("shipped_at", Text),
    Column("refunded_at", Text),
    Column("amount_cents", Integer, nullable=False),
    CheckConstraint("amount_cents > 0", name="amount_cents_positive"),  # ck_orders_amount_cents_positive
)
