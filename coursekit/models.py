"""The ``orders`` table as the application declares it today: Alembic's ``target_metadata`` for autogenerate.

The migrations in ``migrations/versions/`` build this shape step by step; a test checks that the
database at the newest revision (*head*) and this model agree. Revisions never import this module:
a revision is frozen history, while the model keeps changing.
"""

from __future__ import annotations

from sqlalchemy import REAL, CheckConstraint, Column, MetaData, Table, Text

# Every constraint and index gets a predictable name, so a later migration (or a downgrade) can name it to drop it.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ALLOWED_STATUSES = ("pending", "shipped", "refunded", "cancelled")
ALLOWED_STATUS_CHECK = "status IN (" + ", ".join(f"'{status}'" for status in ALLOWED_STATUSES) + ")"

metadata = MetaData(naming_convention=NAMING_CONVENTION)

orders = Table(
    "orders",
    metadata,
    Column("order_id", Text, primary_key=True),
    Column("customer_id", Text, nullable=False),
    Column("country", Text, nullable=False),
    Column("ordered_at", Text, nullable=False),
    Column("amount", REAL, nullable=False),
    Column("shipped_at", Text),
    Column("refunded_at", Text),
    Column("status", Text, nullable=False, server_default="pending", index=True),
    CheckConstraint(ALLOWED_STATUS_CHECK, name="status"),  # named ck_orders_status by the convention
)
