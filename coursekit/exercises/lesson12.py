"""Lesson 12's exercise checks (see :mod:`coursekit.exercises` for how checks behave).

The learner writes a revision's ``upgrade()`` and ``downgrade()`` with Alembic's ``op``; the checks run them on a
scratch database of their own at head, as Alembic would run a revision (lesson 11's helpers). On SQLite a constraint
changes only in batch mode, and the naming convention of ``coursekit.models`` names every constraint.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from coursekit.alembic_setup import scratch_database_at
from coursekit.exercises import Verdict
from coursekit.exercises.lesson11 import NO_ORDERS, both_callable, columns_of, revision_hint, run_revision, snapshot
from coursekit.schema import rules_frame
from coursekit.verify import table_fingerprint


def _rename_not_undone(engine) -> str:
    """What the learner's downgrade left different from head, in the terms of the rename."""
    columns = columns_of(engine)
    if columns is None:
        return "after your downgrade there is no table `orders`: rename total back to amount."
    if "total" in columns or "amount" not in columns:
        return f"after your downgrade orders has columns {list(columns)}: rename total back to amount."
    with engine.connect() as conn:
        if conn.exec_driver_sql("SELECT count(amount) FROM orders").scalar_one() == 0:
            return "after your downgrade every amount is NULL: rename total back to amount, drop + add loses them."
    return ("after your downgrade the database is not as at head (its schema, rules or amounts differ): "
            "rename total back to amount and change nothing else.")


def check_rename_revision(upgrade, downgrade) -> Verdict:
    """Exercise 1: rename ``amount`` to ``total`` keeping every value (not autogenerate's drop + add), and back."""
    if (refused := both_callable(upgrade, downgrade)) is not None:
        return refused
    engine = scratch_database_at("head")
    before = snapshot(engine)
    if problem := run_revision(engine, upgrade, "upgrade"):
        return Verdict(False, problem)
    columns = columns_of(engine)
    if columns is None:
        return NO_ORDERS
    if "total" not in columns:
        return Verdict(False, f"after your upgrade, orders has no column `total` (it has {list(columns)}).")
    if "amount" in columns:
        return Verdict(False, "`amount` is still there: rename it rather than adding a second column.")
    with engine.connect() as conn:
        totals = table_fingerprint(conn, "orders", ("order_id", "total"))
        filled = conn.exec_driver_sql("SELECT count(total) FROM orders").scalar_one()
    if totals != before[2] and filled == 0:
        return Verdict(False, "the totals are not the old amounts: a rename keeps every value, drop + add loses them.")
    if totals != before[2]:
        return Verdict(False, "the totals are not the old amounts: a rename keeps every value as it was.")
    if problem := run_revision(engine, downgrade, "downgrade"):
        return Verdict(False, problem)
    if snapshot(engine) != before:
        return Verdict(False, _rename_not_undone(engine))
    return Verdict(True, "every amount survives as a total; the downgrade gives back the schema and values of head.")


AMOUNT_CHECK = "ck_orders_amount_not_negative"
NO_ALTER_OF_CONSTRAINTS = "No support for ALTER of constraints in SQLite dialect"
NEEDS_A_NAME = "requires that constraint is explicitly named"


def _constraint_hint(engine, error: BaseException) -> str:
    """A hint for the mistakes an error shows for certain: no batch mode, no name, the prefix given twice."""
    message = str(error)
    if NO_ALTER_OF_CONSTRAINTS in message:
        return ' On SQLite, Alembic changes a constraint only in batch mode: with op.batch_alter_table("orders").'
    if NEEDS_A_NAME in message:
        return " The naming convention needs a name to build on: give the constraint one (amount_not_negative)."
    if "No such constraint: 'ck_orders_ck_orders_" in message:
        return (" The naming convention put ck_orders_ before a name that had it already: pass the short name, or"
                f' op.f("{AMOUNT_CHECK}") to mark the full name as final.')
    return revision_hint(engine, error)


def _refuses(engine, amount: float) -> bool:
    """Whether orders refuses an order with ``amount`` (tried in a transaction that is rolled back)."""
    with engine.connect() as conn, conn.begin() as transaction:
        try:
            conn.exec_driver_sql(
                "INSERT INTO orders (order_id, customer_id, country, ordered_at, amount)"
                " VALUES ('ORD-CHECK', 'C-1', 'DE', '2026-01-01', ?)", (amount,))
        except IntegrityError:
            return True
        finally:
            transaction.rollback()
    return False


def _rules_problem(engine) -> str | None:
    """What is wrong with the rules on orders after the upgrade, or None."""
    rules = rules_frame(engine).set_index("rule")["definition"].to_dict()
    if "check ck_orders_status" not in rules:
        return "after your upgrade the CHECK ck_orders_status is gone: add your rule, keep the others."
    if f"check {AMOUNT_CHECK}" not in rules:
        return f"after your upgrade orders has no CHECK named {AMOUNT_CHECK} (its rules: {list(rules)})."
    rule = rules[f"check {AMOUNT_CHECK}"]
    if not _refuses(engine, -0.01):
        return f"orders still accepts an amount of -0.01: {AMOUNT_CHECK} says {rule!r}."
    if _refuses(engine, 0):
        return f"orders refuses an amount of 0, which is not negative: {AMOUNT_CHECK} says {rule!r}."
    return None


def check_amount_check_revision(upgrade, downgrade) -> Verdict:
    """Exercise 2: a CHECK amount_not_negative (ck_orders_amount_not_negative), added and dropped in batch mode."""
    if (refused := both_callable(upgrade, downgrade)) is not None:
        return refused
    engine = scratch_database_at("head")
    before = snapshot(engine)
    if problem := run_revision(engine, upgrade, "upgrade", _constraint_hint):
        return Verdict(False, problem)
    if columns_of(engine) is None:
        return NO_ORDERS
    if problem := _rules_problem(engine):
        return Verdict(False, problem)
    with engine.connect() as conn:
        if table_fingerprint(conn, "orders", ("order_id", "amount")) != before[2]:
            return Verdict(False, "after your upgrade the orders are not as they were: add the rule, change no row.")
    if problem := run_revision(engine, downgrade, "downgrade", _constraint_hint):
        return Verdict(False, problem)
    if snapshot(engine) != before:
        left = rules_frame(engine)["rule"].tolist() if columns_of(engine) is not None else "no table orders"
        return Verdict(False, f"after your downgrade the database is not as at head (rules on orders: {left}): drop "
                              f"{AMOUNT_CHECK} and change nothing else.")
    return Verdict(True, f"{AMOUNT_CHECK} refuses a negative amount, ck_orders_status stays, and the downgrade drops "
                         "it by name.")
