"""Lesson 21's exercise checks (see :mod:`coursekit.exercises` for how checks behave).

Exercise 1 runs on a scratch SQLite shop in the middle of renaming ``orders`` to ``purchases``: the table
``purchases`` and the view ``orders`` with the lesson's INSTEAD OF INSERT and UPDATE triggers; the learner adds the
one for DELETE. Exercise 2 asks which views PostgreSQL writes through by itself (no server needed for the check;
``tests/test_exercises_lesson21.py`` checks the answer key against a real PostgreSQL server).
"""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from coursekit.dataset import generate_orders, insert_orders
from coursekit.exercises import Verdict, explain_error
from coursekit.order_steps import CREATE_ORDERS

VIEW_COLUMNS = "order_id, customer_id, country, ordered_at, amount, shipped_at, refunded_at, status"
INSTEAD_OF_INSERT = f"""CREATE TRIGGER orders_insert INSTEAD OF INSERT ON orders
BEGIN
    INSERT INTO purchases ({VIEW_COLUMNS})
    VALUES (NEW.order_id, NEW.customer_id, NEW.country, NEW.ordered_at, NEW.amount, NEW.shipped_at,
            NEW.refunded_at, COALESCE(NEW.status, 'pending'));
END"""
INSTEAD_OF_UPDATE = """CREATE TRIGGER orders_update INSTEAD OF UPDATE ON orders
BEGIN
    UPDATE purchases SET order_id = NEW.order_id, customer_id = NEW.customer_id, country = NEW.country,
        ordered_at = NEW.ordered_at, amount = NEW.amount, shipped_at = NEW.shipped_at,
        refunded_at = NEW.refunded_at, status = NEW.status
    WHERE order_id = OLD.order_id;
END"""
SCRATCH_ORDERS = 10
ONE_ORDER = "ORD-0000002"


def renamed_engine():
    """A scratch shop after the expand phase: table ``purchases``, view ``orders``, INSTEAD OF INSERT and UPDATE."""
    engine = create_engine("sqlite:///:memory:")
    with engine.begin() as conn:
        conn.execute(text(CREATE_ORDERS.replace("CREATE TABLE orders", "CREATE TABLE purchases")))
        conn.execute(text("ALTER TABLE purchases ADD COLUMN status TEXT NOT NULL DEFAULT 'pending'"))
        insert_orders(conn, generate_orders(SCRATCH_ORDERS), table="purchases")
        conn.execute(text(f"CREATE VIEW orders AS SELECT {VIEW_COLUMNS} FROM purchases"))
        conn.execute(text(INSTEAD_OF_INSERT))
        conn.execute(text(INSTEAD_OF_UPDATE))
    return engine


def _ids(conn) -> list[str]:
    return conn.execute(text("SELECT order_id FROM purchases ORDER BY order_id")).scalars().all()


def _creation_hint(error: BaseException) -> str:
    """A hint for SQLite's refusals of a trigger in the wrong place, and only for those."""
    said = str(getattr(error, "orig", "")) if isinstance(error, DBAPIError) else ""
    if "cannot create AFTER trigger on view" in said or "cannot create BEFORE trigger on view" in said:
        return " A view takes only INSTEAD OF triggers: CREATE TRIGGER ... INSTEAD OF DELETE ON orders."
    if "cannot create INSTEAD OF trigger on table" in said:
        return " INSTEAD OF triggers go on the view, `orders`; the table `purchases` is what the trigger changes."
    return ""


def _delete_hint(error: BaseException) -> str:
    """A hint for the refusals a delete through the view meets when the trigger is wrong, and only for those."""
    said = str(getattr(error, "orig", "")) if isinstance(error, DBAPIError) else ""
    if "no such column: NEW." in said:
        return " A DELETE has no new row: in a DELETE trigger the row being deleted is OLD (OLD.order_id)."
    if "cannot modify orders because it is a view" in said:
        return " No trigger took the DELETE: make yours INSTEAD OF DELETE ON orders."
    return ""


def check_delete_trigger(make_deletable) -> Verdict:
    """Exercise 1: an INSTEAD OF DELETE trigger on the view ``orders``, so shop v1's deletes reach ``purchases``."""
    if not callable(make_deletable):
        return Verdict(False, "define a function `make_deletable(conn)` and run its cell first.")
    engine = renamed_engine()
    with engine.connect() as conn:
        before = _ids(conn)
    try:
        with engine.begin() as conn:
            make_deletable(conn)
    except Exception as error:
        return Verdict(False, f"{explain_error(error)}.{_creation_hint(error)}")
    delete_one = f"DELETE FROM orders WHERE order_id = '{ONE_ORDER}'"
    try:
        with engine.begin() as conn:
            conn.execute(text(delete_one))
    except Exception as error:
        return Verdict(False, f"shop v1's delete through the view failed: {explain_error(error)}.{_delete_hint(error)}")
    with engine.connect() as conn:
        after = _ids(conn)
    expected = [order_id for order_id in before if order_id != ONE_ORDER]
    if ONE_ORDER in after and len(after) == len(before):
        return Verdict(False, f"shop v1 deleted {ONE_ORDER} through the view, and it is still in purchases: the "
                              "trigger must DELETE FROM purchases the row being deleted "
                              "(WHERE order_id = OLD.order_id).")
    if after != expected:
        lost = len(before) - len(after)
        return Verdict(False, f"shop v1 deleted one order through the view, and purchases lost {lost} of its "
                              f"{len(before)} rows: the trigger's DELETE needs WHERE order_id = OLD.order_id.")
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO orders (order_id, customer_id, country, ordered_at, amount) "
                              "VALUES ('NEW-BY-V1', 'C-000001', 'DE', '2026-01-12', 9.5)"))
            conn.execute(text("UPDATE orders SET amount = 7.25 WHERE order_id = 'ORD-0000003'"))
            kept = conn.execute(text("SELECT count(*) FROM purchases WHERE (order_id = 'NEW-BY-V1' AND status = "
                                     "'pending') OR (order_id = 'ORD-0000003' AND amount = 7.25)")).scalar_one()
    except Exception as error:
        return Verdict(False, f"the deletes work, but now shop v1's insert or update fails: {explain_error(error)}.")
    if kept != 2:
        return Verdict(False, "the deletes work, but shop v1's insert or update no longer reaches purchases: leave "
                              "the INSTEAD OF INSERT and UPDATE triggers as they were.")
    return Verdict(True, "shop v1's DELETE through the view removes exactly that order from purchases (OLD is the "
                         "row being deleted), and its inserts and updates still work.")


WHY = {
    "a": "it selects plain columns of one table: PostgreSQL turns the UPDATE into one on purchases",
    "b": "a WHERE is allowed: the UPDATE reaches the rows the view shows (a German order here)",
    "c": "it selects from two tables (a join): only a view of one table (or view) is automatically updatable",
    "d": "the view is updatable, only its computed column amount_cents is not; amount is a plain column",
    "e": "LIMIT makes a view not automatically updatable (so do GROUP BY, DISTINCT, OFFSET, UNION)",
}
UPDATABLE = {"a", "b", "d"}


def check_auto_updatable(updatable) -> Verdict:
    """Exercise 2: of the five views, PostgreSQL writes through a, b and d by itself (no trigger)."""
    if isinstance(updatable, str) or not isinstance(updatable, (list, tuple, set)):
        return Verdict(False, f"give `updatable` as a list of letters, e.g. ['a']; you gave {updatable!r}.")
    if not all(isinstance(letter, str) for letter in updatable):
        return Verdict(False, f"each letter goes in quotes, e.g. ['a']; you gave {updatable!r}.")
    letters = {letter.strip().lower() for letter in updatable}
    unknown = sorted(letters - set(WHY))
    if unknown:
        return Verdict(False, f"{unknown} are not among the letters a to e.")
    if not letters:
        return Verdict(False, "the list is empty: PostgreSQL writes through three of the five views by itself.")
    wrong = sorted(letters - UPDATABLE)
    if wrong:
        return Verdict(False, f"not {wrong[0]}: {WHY[wrong[0]]}.")
    missing = sorted(UPDATABLE - letters)
    if missing:
        return Verdict(False, f"{missing[0]} is updatable too: {WHY[missing[0]]}.")
    return Verdict(True, "a, b and d each select from one table with no GROUP BY, DISTINCT or LIMIT; c joins two "
                         "tables and e has a LIMIT, so those need INSTEAD OF triggers, as on SQLite.")
