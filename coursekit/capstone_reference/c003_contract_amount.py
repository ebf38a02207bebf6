"""Contract, once shop v1 is retired: drop the triggers and amount; amount_cents must be positive and not NULL.

On PostgreSQL both rules are added NOT VALID: from now on every row written is checked, but the rows already there
are not scanned while this revision holds the table's lock (which blocks the shop); c004 checks them (VALIDATE,
which lets the shop write meanwhile) and makes the column NOT NULL. SQLite checks every row as it rebuilds the table.

Revision ID: c003
Revises: c002
"""

import sqlalchemy as sa
from alembic import op

revision = "c003"
down_revision = "c002"
branch_labels = None
depends_on = None

# What squawk (the PostgreSQL migration linter) finds here that is safe in this migration, and why.
SQUAWK_WAIVERS = {
    "ban-drop-column": "only shop v1 reads or writes amount, and it is retired before this revision (the contract); "
                       "shop v2 reads amount_cents",
    "ban-drop-function": "orders_sync_amount() served only the trigger dropped just before it; nothing else calls it",
}
TIMEOUTS = ["SET LOCAL lock_timeout = '1s'", "SET LOCAL statement_timeout = '5s'"]  # this transaction only

# c001's triggers, for the downgrade (a revision does not import another: each reads alone).
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
    for statement in [f"DROP TRIGGER {name}" for name in SQLITE_TRIGGERS] if on_sqlite() else POSTGRES_UNSYNC:
        op.execute(statement)
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("amount")
        # named by the model's naming convention (coursekit/models.py): ck_orders_amount_cents_positive, ..._not_null
        batch.create_check_constraint("amount_cents_positive", "amount_cents > 0", postgresql_not_valid=True)
        batch.create_check_constraint("amount_cents_not_null", "amount_cents IS NOT NULL", postgresql_not_valid=True)


def downgrade() -> None:
    set_timeouts()
    with op.batch_alter_table("orders") as batch:
        batch.drop_constraint("amount_cents_not_null", type_="check")
        batch.drop_constraint("amount_cents_positive", type_="check")
        batch.add_column(sa.Column("amount", sa.REAL(), nullable=True))
    op.execute("UPDATE orders SET amount = amount_cents / 100.0")
    for statement in SQLITE_SYNC if on_sqlite() else POSTGRES_SYNC:
        op.execute(statement)
