"""Lesson 20's exercise checks (see :mod:`coursekit.exercises` for how checks behave).

Both run on a scratch SQLite shop of ten orders in the middle of lesson 20's move, phase 2: ``orders`` still has
``country`` and ``shipped_at`` (``country`` loosened to NULL-able), ``shipments`` has one row per order, and the
lesson's four sync triggers keep the two in step. Exercise 1 gets a shop without the triggers and with four orders
whose shipping facts differ between the tables, on purpose; exercise 2 gets the shop as it is, plus an audit trigger on
``orders`` that has nothing to do with the move and must survive the contract.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from coursekit.dataset import generate_orders, insert_orders
from coursekit.db import make_engine
from coursekit.exercises import Verdict, explain_error
from coursekit.migrations import enable_transactional_ddl
from coursekit.order_steps import CREATE_ORDERS

SCRATCH_ORDERS = 10
MOVED = ("country", "shipped_at")
CREATE_SHIPMENTS = """CREATE TABLE shipments (
    order_id   TEXT PRIMARY KEY REFERENCES orders (order_id),
    country    TEXT NOT NULL,
    shipped_at TEXT
)"""
DIFFERS = " AND (country IS NOT NEW.country OR shipped_at IS NOT NEW.shipped_at)"  # the loop guard
SYNC_TRIGGERS = {  # the lesson's four, by name
    "order_to_shipment_insert": """CREATE TRIGGER order_to_shipment_insert
    AFTER INSERT ON orders WHEN NEW.country IS NOT NULL
    BEGIN INSERT INTO shipments (order_id, country, shipped_at)
          VALUES (NEW.order_id, NEW.country, NEW.shipped_at); END""",
    "order_to_shipment_update": f"""CREATE TRIGGER order_to_shipment_update
    AFTER UPDATE OF country, shipped_at ON orders
    BEGIN UPDATE shipments SET country = NEW.country, shipped_at = NEW.shipped_at
          WHERE order_id = NEW.order_id{DIFFERS}; END""",
    "shipment_to_order_insert": f"""CREATE TRIGGER shipment_to_order_insert
    AFTER INSERT ON shipments
    BEGIN UPDATE orders SET country = NEW.country, shipped_at = NEW.shipped_at
          WHERE order_id = NEW.order_id{DIFFERS}; END""",
    "shipment_to_order_update": f"""CREATE TRIGGER shipment_to_order_update
    AFTER UPDATE OF country, shipped_at ON shipments
    BEGIN UPDATE orders SET country = NEW.country, shipped_at = NEW.shipped_at
          WHERE order_id = NEW.order_id{DIFFERS}; END""",
}
AUDIT = ("CREATE TRIGGER orders_refund_audit AFTER UPDATE OF refunded_at ON orders "
         "BEGIN INSERT INTO refund_audit (order_id, refunded_at) VALUES (NEW.order_id, NEW.refunded_at); END")
OLD_SHAPE = ("SELECT o.order_id, o.customer_id, s.country, o.ordered_at, o.amount, s.shipped_at, o.refunded_at "
             "FROM orders AS o LEFT JOIN shipments AS s USING (order_id) ORDER BY o.order_id")

# Exercise 1's planted differences: order -> (the change made in shipments, why a query may miss it)
PLANTED = {
    "ORD-0000003": ("DELETE FROM shipments WHERE order_id = 'ORD-0000003'",
                    "it has no row in shipments at all (a waiting order the backfill skipped): an inner JOIN drops "
                    "such an order; keep it with a LEFT JOIN (and s.order_id IS NULL) or NOT EXISTS"),
    "ORD-0000005": ("UPDATE shipments SET country = 'DE' WHERE order_id = 'ORD-0000005'",
                    "its country is FR in orders and DE in shipments"),
    "ORD-0000007": ("UPDATE shipments SET shipped_at = NULL WHERE order_id = 'ORD-0000007'",
                    "its shipped_at is 2025-10-24 in orders and NULL in shipments (if you compare shipped_at with "
                    "= or <>, that is never true when one side is NULL; IS NOT treats NULL as a value)"),
    "ORD-0000008": ("UPDATE shipments SET shipped_at = '2025-12-01' WHERE order_id = 'ORD-0000008'",
                    "its shipped_at is NULL in orders and 2025-12-01 in shipments (if you compare shipped_at with "
                    "= or <>, that is never true when one side is NULL; IS NOT treats NULL as a value)"),
}


def moving_shop(triggers: bool = True):
    """A scratch shop in phase 2 of the move: loosened orders, shipments backfilled, the sync triggers (if asked)."""
    engine = enable_transactional_ddl(make_engine("sqlite:///:memory:"))
    with engine.begin() as conn:
        conn.execute(text(CREATE_ORDERS.replace("country TEXT NOT NULL", "country TEXT")))
        insert_orders(conn, generate_orders(SCRATCH_ORDERS))
        conn.execute(text(CREATE_SHIPMENTS))
        conn.execute(text("INSERT INTO shipments (order_id, country, shipped_at) "
                          "SELECT order_id, country, shipped_at FROM orders"))
        if triggers:
            for statement in SYNC_TRIGGERS.values():
                conn.execute(text(statement))
    return engine


def planted_shop():
    """Exercise 1's shop: phase 2 without triggers, and the four :data:`PLANTED` differences."""
    engine = moving_shop(triggers=False)
    with engine.begin() as conn:
        for change, _ in PLANTED.values():
            conn.execute(text(change))
    return engine


def _order_ids(found) -> list | None:
    """The order ids a learner's function returned (strings, or rows of one column), or None if it is not such."""
    if isinstance(found, (str, bytes)) or not isinstance(found, Iterable):
        return None
    ids = []
    for item in found:
        if isinstance(item, Sequence) and not isinstance(item, str) and len(item) == 1:  # a row of one column
            item = item[0]
        if isinstance(item, str) or item is None:
            ids.append(item)
        else:
            return None
    return ids


def check_lost_in_the_move(lost_in_the_move) -> Verdict:
    """Exercise 1: the orders whose shipping facts in ``shipments`` are not those in ``orders``, NULLs included."""
    if not callable(lost_in_the_move):
        return Verdict(False, "define a function `lost_in_the_move(conn)` and run its cell first.")
    engine = planted_shop()
    try:
        with engine.connect() as conn:
            found = lost_in_the_move(conn)
            ids = _order_ids(found)
    except Exception as error:
        return Verdict(False, f"{explain_error(error)}.")
    if ids is None:
        return Verdict(False, "return the order ids as a list, e.g. ['ORD-0000003'] (`.scalars().all()` makes one "
                              f"from a query's first column); your function returned {type(found).__name__}.")
    if None in ids:
        return Verdict(False, "your list holds None: an order without a shipment has NULL in every column of "
                              "shipments after a LEFT JOIN, s.order_id too; select o.order_id.")
    if not ids:
        return Verdict(False, f"your function found no order, and {len(PLANTED)} of the check's orders differ "
                              "between orders and shipments (one of them has no shipment at all).")
    with engine.connect() as conn:
        known = set(conn.execute(text("SELECT order_id FROM orders")).scalars())
    extra = sorted(set(ids) - set(PLANTED))
    if extra:
        why = ("its shipping facts are the same in both tables" if extra[0] in known
               else "there is no such order")
        return Verdict(False, f"your list has {extra[0]}, and {why}: list only the orders whose country or "
                              "shipped_at in shipments differ from orders (or that have no shipment).")
    missed = [order_id for order_id in PLANTED if order_id not in ids]
    if missed:
        more = f" (and {len(missed) - 1} more)" if len(missed) > 1 else ""
        return Verdict(False, f"your list misses {missed[0]}{more}: {PLANTED[missed[0]][1]}.")
    twice = len(ids) - len(set(ids))
    note = f" (each listed once would be tidier: {twice} came twice)" if twice else ""
    return Verdict(True, "you found all four: the order with no shipment (a LEFT JOIN keeps it), the changed country, "
                         f"and both shipped_at that are NULL on one side only (IS NOT sees them){note}.")


def _columns(conn, table: str = "orders") -> list[str]:
    return [column["name"] for column in inspect(conn).get_columns(table)]


def _triggers(conn) -> list[str]:
    return conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name")).scalars().all()


def _drop_hint(error: BaseException) -> str:
    """A hint for SQLite's refusal to drop a column a trigger still names, and only for that."""
    said = str(getattr(error, "orig", "")) if isinstance(error, DBAPIError) else ""
    if "after drop column" in said:
        return (" A trigger still names the column, so SQLite refuses to drop it: drop the four sync triggers "
                "first, then the columns.")
    return ""


def _v2_works(conn) -> str:
    """Shop v2 places an order and ships an old one; '' when both land, else what went wrong."""
    try:
        conn.execute(text("INSERT INTO orders (order_id, customer_id, ordered_at, amount) "
                          "VALUES ('NEW-BY-V2', 'C-000001', '2026-01-12', 10.0)"))
        conn.execute(text("INSERT INTO shipments (order_id, country) VALUES ('NEW-BY-V2', 'SE')"))
        conn.execute(text("UPDATE shipments SET shipped_at = '2026-01-14' WHERE order_id = 'ORD-0000009'"))
    except Exception as error:  # the learner's contract left something behind that breaks v2
        return f"shop v2's writes fail after your contract: {explain_error(error)}"
    landed = conn.execute(text("SELECT count(*) FROM shipments WHERE (order_id = 'NEW-BY-V2' AND country = 'SE') "
                               "OR (order_id = 'ORD-0000009' AND shipped_at = '2026-01-14')")).scalar_one()
    return "" if landed == 2 else "shop v2's new shipment or its shipping day did not land in shipments"


def check_contract_shipping(contract_shipping) -> Verdict:
    """Exercise 2: the contract refuses while v1 runs; with v2 alone it drops the sync triggers, then the columns."""
    if not callable(contract_shipping):
        return Verdict(False, "define a function `contract_shipping(conn, running)` and run its cell first.")
    engine = moving_shop()
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE refund_audit (order_id TEXT, refunded_at TEXT)"))
        conn.execute(text(AUDIT))
        old_shape = conn.execute(text(OLD_SHAPE)).all()
    try:
        with engine.begin() as conn:
            contract_shipping(conn, ["v2"])
    except Exception as error:
        return Verdict(False, f"with only v2 running, {explain_error(error)}.{_drop_hint(error)}")
    try:
        with engine.connect() as conn:
            left = [column for column in MOVED if column in _columns(conn)]
            triggers = _triggers(conn)
            rebuilt = conn.execute(text(OLD_SHAPE)).all() if not left else []
    except Exception as error:  # noqa: BLE001 - e.g. a table dropped: the verdict says what the check met
        return Verdict(False, "after your contract the check cannot rebuild the orders from orders and shipments: "
                              f"{explain_error(error)}. Drop only the sync triggers and the two columns.")
    if left:
        return Verdict(False, f"with only v2 running, orders still has {left[0]} after your contract: drop "
                              f"{' and '.join(MOVED)}, both moved to shipments.")
    if "orders_refund_audit" not in triggers:
        return Verdict(False, "your contract dropped orders_refund_audit too, the audit of refunds, which has "
                              "nothing to do with the move: drop only the four sync triggers, by name.")
    kept = [name for name in SYNC_TRIGGERS if name in triggers]
    if kept:
        return Verdict(False, f"the sync trigger {kept[0]} is still there after your contract; drop all four.")
    if [tuple(row) for row in rebuilt] != [tuple(row) for row in old_shape]:
        return Verdict(False, "the orders rebuilt from orders and shipments after your contract are not the ones "
                              "before it: the contract may drop columns and triggers, never change a value.")
    with engine.connect() as conn:
        transaction = conn.begin()  # the shop at work after the contract, rolled back
        broken = _v2_works(conn)
        conn.execute(text("UPDATE orders SET refunded_at = '2026-01-20' WHERE order_id = 'ORD-0000001'"))
        audited = conn.execute(text("SELECT count(*) FROM refund_audit")).scalar_one()
        transaction.rollback()
    if broken:
        return Verdict(False, f"{broken}.")
    if not audited:
        return Verdict(False, "after your contract, a refund is no longer audited: leave orders_refund_audit as it "
                              "was.")
    return _refuses_while_v1_runs(contract_shipping)


def _refuses_while_v1_runs(contract_shipping) -> Verdict:
    engine = moving_shop()
    try:
        with engine.begin() as conn:
            contract_shipping(conn, ["v1", "v2"])
    except Exception:  # noqa: BLE001 - a refusal, whatever its type: what matters is that nothing changed
        refused = True
    else:
        refused = False
    with engine.connect() as conn:
        left = [column for column in MOVED if column in _columns(conn)]
        triggers = [name for name in SYNC_TRIGGERS if name in _triggers(conn)]
    if len(left) < len(MOVED):
        v1 = ("INSERT INTO orders (order_id, customer_id, country, ordered_at, amount) "
              "VALUES ('NEW-BY-V1', 'C-000001', 'FR', '2026-01-12', 10.0)")
        try:
            with engine.begin() as conn:
                conn.execute(text(v1))
            said = "a trigger it needs is gone"
        except Exception as error:  # noqa: BLE001 - the outage the verdict describes
            said = explain_error(error)
        return Verdict(False, "with v1 still running (running = ['v1', 'v2']) your contract ran anyway, and shop "
                              f"v1's next order fails: {said}. Check `running` first and refuse (raise an exception "
                              "that says why) while 'v1' is in it.")
    if len(triggers) < len(SYNC_TRIGGERS):
        return Verdict(False, "with v1 still running your contract dropped sync triggers, so v1's writes no longer "
                              "reach shipments: check `running` before anything else.")
    if not refused:
        return Verdict(False, "with v1 still running your contract changed nothing, right, but it returned quietly: "
                              "raise an exception that says why, so the deploy stops and nobody records the contract "
                              "as done.")
    return Verdict(True, "with v1 running the contract refuses and changes nothing; with v2 alone it drops the four "
                         "sync triggers (the audit trigger stays) and then country and shipped_at, and every order "
                         "rebuilt from the two tables is what it was.")

