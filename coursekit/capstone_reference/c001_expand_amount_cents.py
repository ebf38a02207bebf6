"""Expand: add amount_cents (nullable), loosen amount's NOT NULL, and keep the two columns in step with triggers.

Shop v1 writes only ``amount`` and shop v2 only ``amount_cents``; the triggers fill the other column, so each
version reads the other's writes. Cents are ROUNDed: ``CAST(amount * 100 AS INTEGER)`` truncates 9.20 to 919.
On PostgreSQL the revision first sets a lock_timeout: an ALTER TABLE that waits for its lock makes every shop write
queue behind it, so it gives up instead (and is run again) before the customers' writes do.

Revision ID: c001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "c001"
down_revision = None
branch_labels = None
depends_on = None

# What squawk (the PostgreSQL migration linter) finds here that is safe in this migration, and why.
SQUAWK_WAIVERS = {
    "ban-drop-not-null": "shop v1 still reads amount, and no reader sees a NULL there: for every order shop v2 writes, "
                         "the trigger below fills amount (SQLite runs its triggers after the insert, so the column "
                         "must accept NULL for that moment)",
    "prefer-bigint-over-int": "amount_cents holds one order's price: INTEGER reaches 21,474,836.47 euros, far above "
                              "any order, and the task's schema asks for INTEGER",
}
TIMEOUTS = ["SET LOCAL lock_timeout = '1s'", "SET LOCAL statement_timeout = '5s'"]  # this transaction only

SQLITE_SYNC = [
    "CREATE TRIGGER amount_cents_on_insert AFTER INSERT ON orders WHEN NEW.amount_cents IS NULL BEGIN "
    "UPDATE orders SET amount_cents = CAST(ROUND(NEW.amount * 100) AS INTEGER) WHERE order_id = NEW.order_id; END",
    "CREATE TRIGGER amount_on_insert AFTER INSERT ON orders WHEN NEW.amount IS NULL BEGIN "
    "UPDATE orders SET amount = NEW.amount_cents / 100.0 WHERE order_id = NEW.order_id; END",
    "CREATE TRIGGER amount_cents_on_update AFTER UPDATE OF amount ON orders "
    "WHEN NEW.amount_cents IS NOT CAST(ROUND(NEW.amount * 100) AS INTEGER) BEGIN "
    "UPDATE orders SET amount_cents = CAST(ROUND(NEW.amount * 100) AS INTEGER) WHERE order_id = NEW.order_id; END",
    "CREATE TRIGGER amount_on_update AFTER UPDATE OF amount_cents ON orders "
    "WHEN NEW.amount IS NOT NEW.amount_cents / 100.0 BEGIN "
    "UPDATE orders SET amount = NEW.amount_cents / 100.0 WHERE order_id = NEW.order_id; END",
]
SQLITE_TRIGGERS = ("amount_cents_on_insert", "amount_on_insert", "amount_cents_on_update", "amount_on_update")

POSTGRES_SYNC = [
    """CREATE FUNCTION orders_sync_amount() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.amount_cents IS NULL THEN NEW.amount_cents := ROUND(NEW.amount * 100); END IF;
        IF NEW.amount IS NULL THEN NEW.amount := NEW.amount_cents / 100.0; END IF;
    ELSIF NEW.amount IS DISTINCT FROM OLD.amount THEN
        NEW.amount_cents := ROUND(NEW.amount * 100);
    ELSIF NEW.amount_cents IS DISTINCT FROM OLD.amount_cents THEN
        NEW.amount := NEW.amount_cents / 100.0;
    END IF;
    RETURN NEW;
END $$""",
    "CREATE TRIGGER orders_sync_amount BEFORE INSERT OR UPDATE ON orders "
    "FOR EACH ROW EXECUTE FUNCTION orders_sync_amount()",
]
POSTGRES_UNSYNC = ["DROP TRIGGER orders_sync_amount ON orders", "DROP FUNCTION orders_sync_amount()"]


def on_sqlite() -> bool:
    return op.get_context().dialect.name == "sqlite"  # works offline (--sql) too, where there is no connection


def set_timeouts() -> None:
    """On PostgreSQL: wait at most 1 s for a lock, and stop a statement that runs longer than 5 s."""
    for statement in [] if on_sqlite() else TIMEOUTS:
        op.execute(statement)


def upgrade() -> None:
    set_timeouts()
    with op.batch_alter_table("orders") as batch:  # SQLite rebuilds the table to loosen NOT NULL
        batch.alter_column("amount", existing_type=sa.REAL(), nullable=True)
        batch.add_column(sa.Column("amount_cents", sa.Integer(), nullable=True))
    for statement in SQLITE_SYNC if on_sqlite() else POSTGRES_SYNC:
        op.execute(statement)


def downgrade() -> None:
    set_timeouts()
    for statement in [f"DROP TRIGGER {name}" for name in SQLITE_TRIGGERS] if on_sqlite() else POSTGRES_UNSYNC:
        op.execute(statement)
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("amount_cents")
        batch.alter_column("amount", existing_type=sa.REAL(), nullable=False)
