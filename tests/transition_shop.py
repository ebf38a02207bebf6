"""Lesson 07's shop, written the way the lessons' cells write it, for the transition stepper's tests and benchmark.

The functions are lesson 07's (notebooks/07-expand-migrate-contract.ipynb: place_order_v1 ... expand), and lesson
08's (its set-up repeats them and adds compatibility_on, contract and RENAME_STEPS); tests/test_transition.py checks
that each is the same code as in both notebooks. RENAME_STEPS here also says what each undo cannot restore.
"""

import pandas as pd
from sqlalchemy import text

from coursekit.dataset import generate_orders, insert_orders, read_orders_csv
from coursekit.db import make_engine
from coursekit.exercises import first_line
from coursekit.migrations import Migrator, Step, enable_transactional_ddl
from coursekit.order_steps import CREATE_ORDERS
from coursekit.transition import ShopVersion, Transition


def place_order_v1(conn, order_id, amount):
    conn.execute(text("INSERT INTO orders (order_id, customer_id, country, ordered_at, amount) "
                      "VALUES (:order_id, 'C-000001', 'DE', '2025-12-31', :amount)"),
                 {"order_id": order_id, "amount": amount})


def read_order_v1(conn, order_id):
    return conn.execute(text("SELECT amount FROM orders WHERE order_id = :order_id"),
                        {"order_id": order_id}).scalar_one()


def update_amount_v1(conn, order_id, amount):
    conn.execute(text("UPDATE orders SET amount = :amount WHERE order_id = :order_id"),
                 {"order_id": order_id, "amount": amount})


def place_order_v2(conn, order_id, total_eur):
    conn.execute(text("INSERT INTO orders (order_id, customer_id, country, ordered_at, total_eur) "
                      "VALUES (:order_id, 'C-000001', 'DE', '2025-12-31', :total_eur)"),
                 {"order_id": order_id, "total_eur": total_eur})


def read_order_v2(conn, order_id):
    return conn.execute(text("SELECT total_eur FROM orders WHERE order_id = :order_id"),
                        {"order_id": order_id}).scalar_one()


def update_amount_v2(conn, order_id, total_eur):
    conn.execute(text("UPDATE orders SET total_eur = :total_eur WHERE order_id = :order_id"),
                 {"order_id": order_id, "total_eur": total_eur})


V1 = ShopVersion("v1", place_order_v1, read_order_v1, update_amount_v1)
V2 = ShopVersion("v2", place_order_v2, read_order_v2, update_amount_v2)

WRITES = {"v1": ("NEW-BY-V1", 11.11, "ORD-0000001", 33.33), "v2": ("NEW-BY-V2", 22.22, "ORD-0000002", 44.44)}
UNTOUCHED = "ORD-0000003"
ORIGINAL_AMOUNTS = {row[0]: row[4] for row in read_orders_csv()}


def attempt(function, *arguments):
    try:
        return function(*arguments)
    except Exception as error:  # shown in the table: which version failed, and how
        return first_line(getattr(error, "orig", error))


def compatibility_on(conn, apps):
    """Lesson 07's compatibility(apps), on a given connection (the caller rolls back)."""
    written = {}  # order -> (the version that wrote it, the price it wrote)
    for writer in apps:
        new_id, new_amount, old_id, changed_amount = WRITES[writer.name]
        attempt(writer.place_order, conn, new_id, new_amount)
        attempt(writer.update_amount, conn, old_id, changed_amount)
        written |= {new_id: (writer.name, new_amount), old_id: (writer.name, changed_amount)}
    written[UNTOUCHED] = ("(nobody)", ORIGINAL_AMOUNTS[UNTOUCHED])
    rows = [(by, reader.name, order_id, amount, attempt(reader.read_order, conn, order_id))
            for order_id, (by, amount) in written.items() for reader in apps]
    frame = pd.DataFrame(rows, columns=["written by", "read by", "order", "expected", "read"])
    return frame.assign(ok=frame["expected"] == frame["read"])


def compatibility(engine, apps):
    """Lesson 07's compatibility(apps): the rule in a transaction that is rolled back."""
    with engine.connect() as conn:
        transaction = conn.begin()
        frame = compatibility_on(conn, apps)
        transaction.rollback()
    return frame

EXPANDED_ORDERS = """CREATE TABLE orders_new (
    order_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, country TEXT NOT NULL, ordered_at TEXT NOT NULL,
    amount REAL,  -- loosened: no NOT NULL any more
    shipped_at TEXT, refunded_at TEXT,
    total_eur REAL
)"""
OLD_COLUMNS = "order_id, customer_id, country, ordered_at, amount, shipped_at, refunded_at"


def expand_table(conn):
    conn.execute(text(EXPANDED_ORDERS))
    conn.execute(text(f"INSERT INTO orders_new ({OLD_COLUMNS}) SELECT {OLD_COLUMNS} FROM orders"))
    conn.execute(text("DROP TABLE orders"))
    conn.execute(text("ALTER TABLE orders_new RENAME TO orders"))


def insert_trigger(source, target):
    return (f"CREATE TRIGGER sync_{target}_on_insert AFTER INSERT ON orders WHEN NEW.{target} IS NULL\n"
            f"BEGIN UPDATE orders SET {target} = NEW.{source} WHERE order_id = NEW.order_id; END")


def update_trigger(source, target, guarded=True):
    guard = f" WHEN NEW.{target} IS NOT NEW.{source}" if guarded else ""
    return (f"CREATE TRIGGER sync_{target}_on_update AFTER UPDATE OF {source} ON orders{guard}\n"
            f"BEGIN UPDATE orders SET {target} = NEW.{source} WHERE order_id = NEW.order_id; END")


def sync_triggers(guarded=True):
    return [insert_trigger("amount", "total_eur"), insert_trigger("total_eur", "amount"),
            update_trigger("amount", "total_eur", guarded), update_trigger("total_eur", "amount", guarded)]


def expand(conn):
    expand_table(conn)
    for statement in sync_triggers():
        conn.execute(text(statement))


SYNC_TRIGGER_NAMES = ("sync_total_eur_on_insert", "sync_amount_on_insert",
                      "sync_total_eur_on_update", "sync_amount_on_update")


def contract(conn):
    for name in SYNC_TRIGGER_NAMES:
        conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
    conn.execute(text("ALTER TABLE orders DROP COLUMN amount"))


# The chain the lesson gives the stepper: its own functions as the steps, with a way back for each.
RENAME_STEPS = [
    Step("expand", upgrade=(expand,),
         downgrade=(*(f"DROP TRIGGER {name}" for name in SYNC_TRIGGER_NAMES),
                    "ALTER TABLE orders DROP COLUMN total_eur"),
         cannot_restore="amount stays nullable (NOT NULL comes back only with another table rebuild)."),
    Step("migrate", upgrade=("UPDATE orders SET total_eur = amount WHERE total_eur IS NULL",), downgrade=(),
         cannot_restore="The copied values stay in total_eur (setting them NULL would, through the triggers, "
                        "erase amount too)."),
    Step("contract", upgrade=(contract,),
         downgrade=("ALTER TABLE orders ADD COLUMN amount REAL", "UPDATE orders SET amount = total_eur",
                    *sync_triggers())),
]


def build_shop(rows=1_000):
    """A fresh shop in memory (lesson 07's ``build_shop``): the data set's orders, and generated ones after them."""
    engine = enable_transactional_ddl(make_engine("sqlite:///:memory:"))
    with engine.begin() as conn:
        conn.execute(text(CREATE_ORDERS))
        insert_orders(conn, read_orders_csv()[:rows])
        if rows > 1_000:
            insert_orders(conn, generate_orders(rows)[1_000:])
    return engine


def make_transition(rows=1_000, deployed=("v1",)):
    return Transition(Migrator(build_shop(rows), RENAME_STEPS), [V1, V2], rule=compatibility_on, deployed=deployed)
