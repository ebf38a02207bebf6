"""Add status, NOT NULL with a database default of 'pending'.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A constant server default gives every existing row a value, so NOT NULL is allowed (lesson 01).
    op.add_column("orders", sa.Column("status", sa.Text(), nullable=False, server_default="pending"))


def downgrade() -> None:
    # Every status is dropped with the column, including any an application wrote.
    # (SQLite 3.35 and newer drop a column in place; nothing else refers to status at this revision.)
    op.drop_column("orders", "status")
