"""Lesson 10's exercise checks (see :mod:`coursekit.exercises` for how checks behave).

Both checks play a trading day on a small shop of their own: a snapshot is taken, a wrong migration succeeds, then
new orders arrive and some old orders are shipped or refunded. The learner's function gets the snapshot and the shop.
"""

from __future__ import annotations

from coursekit.dataset import COLUMNS, generate_orders
from coursekit.db import make_engine
from coursekit.exercises import Verdict, explain_error
from coursekit.exercises.lesson09 import SCRATCH_ROWS, scratch_shop

NEW_ORDERS = 12  # taken after the snapshot
SHIPPED_SINCE = 3  # old orders shipped after the snapshot
REFUNDED_SINCE = 2  # old orders refunded after the snapshot
CENTS_TIMES_TEN = ["ALTER TABLE orders ADD COLUMN amount_cents INTEGER",
                   "UPDATE orders SET amount_cents = CAST(round(amount * 10) AS INTEGER)"]
ROUNDED_AMOUNTS = ["UPDATE orders SET amount = round(amount)"]  # overwrites the only copy of the cents


def _copy(engine):
    """A new in-memory database holding a copy of `engine`'s (SQLite's backup API, as in lesson 09)."""
    copy = make_engine("sqlite:///:memory:")
    with engine.connect() as source, copy.connect() as target:
        source.connection.driver_connection.backup(target.connection.driver_connection)
    return copy


def _rows(engine) -> dict:
    """Every order's values in the data set's columns, by order id."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(f"SELECT {', '.join(COLUMNS)} FROM orders").all()
    return {row[0]: tuple(row) for row in rows}


def trading_day(mistake: list[str]):
    """(snapshot, shop, changed ids): a snapshot, then `mistake` run on the shop, then a day of trade on it."""
    shop = scratch_shop()
    snapshot = _copy(shop)
    with shop.begin() as conn:
        for statement in mistake:
            conn.exec_driver_sql(statement)
        unshipped = conn.exec_driver_sql("SELECT order_id FROM orders WHERE shipped_at IS NULL ORDER BY order_id"
                                         " LIMIT ?", (SHIPPED_SINCE,)).scalars().all()
        unrefunded = conn.exec_driver_sql("SELECT order_id FROM orders WHERE shipped_at IS NOT NULL AND refunded_at"
                                          " IS NULL ORDER BY order_id LIMIT ?", (REFUNDED_SINCE,)).scalars().all()
        conn.exec_driver_sql("UPDATE orders SET shipped_at = '2026-01-02' WHERE order_id = ?",
                             [(order_id,) for order_id in unshipped])
        conn.exec_driver_sql("UPDATE orders SET refunded_at = '2026-01-02' WHERE order_id = ?",
                             [(order_id,) for order_id in unrefunded])
        new = generate_orders(SCRATCH_ROWS + NEW_ORDERS)[SCRATCH_ROWS:]
        conn.exec_driver_sql(f"INSERT INTO orders ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                             [tuple(order) for order in new])
        if "amount_cents" in " ".join(mistake):  # the application writes the new orders' cents right
            conn.exec_driver_sql("UPDATE orders SET amount_cents = CAST(round(amount * 100) AS INTEGER)"
                                 " WHERE order_id = ?", [(order[0],) for order in new])
    return snapshot, shop, {"new": [order[0] for order in new], "changed": sorted(unshipped + unrefunded)}


def _as_ids(answer):
    """The learner's answer as a sorted list of order ids, or a Verdict saying why it is not one."""
    if isinstance(answer, bool) or isinstance(answer, int):
        return Verdict(False, f"you returned {answer!r}, a number: return the order ids themselves, as a list.")
    if not isinstance(answer, (list, tuple, set, frozenset)) or not all(isinstance(item, str) for item in answer):
        return Verdict(False, f"return a list of order ids (strings such as 'ORD-0000001'); you returned "
                              f"{answer!r:.80}.")
    return sorted(set(answer))


def check_lost_by_restore(lost_by_restore) -> Verdict:
    """Exercise 1: the orders a restore of the snapshot would throw away or change back: new ones and changed ones."""
    if not callable(lost_by_restore):
        return Verdict(False, "define a function `lost_by_restore(snapshot, engine)` and run its cell first.")
    snapshot, shop, since = trading_day(CENTS_TIMES_TEN)
    try:
        answer = lost_by_restore(snapshot, shop)
    except Exception as error:  # the learner's code failing is an answer to explain
        hint = (" The snapshot has no amount_cents: compare only the columns it has (COLUMNS)."
                if "amount_cents" in str(error) else "")
        return Verdict(False, f"{explain_error(error)}.{hint}")
    ids = _as_ids(answer)
    if isinstance(ids, Verdict):
        return ids
    expected = sorted(since["new"] + since["changed"])
    extra = [order_id for order_id in ids if order_id not in expected]
    if extra and len(ids) == len(_rows(shop)):
        return Verdict(False, f"you returned all {len(ids)} orders: compare each order on the snapshot's columns "
                              "(COLUMNS); the shop's amount_cents, which the snapshot has not, makes every row differ.")
    if extra:
        return Verdict(False, f"{extra[0]} is the same in the snapshot and in the shop: a restore loses nothing of it "
                              f"({len(extra)} such orders in your answer).")
    missing_new = [order_id for order_id in since["new"] if order_id not in ids]
    if missing_new:
        return Verdict(False, f"a restore throws away the {len(since['new'])} orders taken since the snapshot; "
                              f"{len(missing_new)} are missing from your answer, e.g. {missing_new[0]}.")
    missing_changed = [order_id for order_id in since["changed"] if order_id not in ids]
    if missing_changed:
        return Verdict(False, f"you found the new orders, but not the {len(missing_changed)} old ones shipped or "
                              f"refunded since the snapshot, e.g. {missing_changed[0]}: a restore undoes those "
                              "changes too. Compare each order's values, not only its id.")
    return Verdict(True, f"{len(since['new'])} new orders and {len(since['changed'])} changed ones: what a restore "
                         "would cost, counted before deciding.")


def check_repair_amounts(repair_amounts) -> Verdict:
    """Exercise 2: the amounts put back from the snapshot, into the shop as it is now (nothing written since lost)."""
    if not callable(repair_amounts):
        return Verdict(False, "define a function `repair_amounts(snapshot, engine)` and run its cell first.")
    snapshot, shop, since = trading_day(ROUNDED_AMOUNTS)
    right = {order_id: row[4] for order_id, row in _rows(snapshot).items()}
    expected = {order_id: row[:4] + (right.get(order_id, row[4]),) + row[5:] for order_id, row in _rows(shop).items()}
    try:
        repair_amounts(snapshot, shop)
    except Exception as error:  # the learner's code failing is an answer to explain
        return Verdict(False, f"{explain_error(error)}.")
    try:
        repaired = _rows(shop)
    except Exception as error:  # the learner's function may have dropped or renamed the table
        return Verdict(False, f"after your function the shop's orders cannot be read: {explain_error(error)}.")
    gone = [order_id for order_id in since["new"] if order_id not in repaired]
    if gone:
        return Verdict(False, f"{len(gone)} orders taken since the snapshot are gone, e.g. {gone[0]}: a restore "
                              "throws them away. Copy only the amounts from the snapshot into the shop as it is now.")
    undone = [order_id for order_id in since["changed"] if repaired.get(order_id, ())[5:] != expected[order_id][5:]]
    if undone:
        return Verdict(False, f"{len(undone)} orders shipped or refunded since the snapshot are undone, e.g. "
                              f"{undone[0]}: copy only the amount from the snapshot, not the whole row.")
    wrong = [order_id for order_id, row in sorted(expected.items()) if repaired.get(order_id) != row]
    if wrong:
        now, row = repaired.get(wrong[0]), expected[wrong[0]]
        holds = "is missing" if now is None else f"holds amount {now[4]!r}"
        source = "the snapshot's" if wrong[0] in right else "its own, written after the snapshot,"
        return Verdict(False, f"{len(wrong)} orders are not right yet, e.g. {wrong[0]}: it {holds}; it should hold "
                              f"{source} amount {row[4]!r} and every other value as it is in the shop.")
    extra = sorted(set(repaired) - set(expected))
    if extra:
        return Verdict(False, f"the shop now holds orders it did not, e.g. {extra[0]}: change amounts only.")
    return Verdict(True, f"every amount is right again, and the {len(since['new'])} new orders and "
                         f"{len(since['changed'])} shipments and refunds of the day are kept.")
