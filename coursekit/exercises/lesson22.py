"""Lesson 22's exercise checks (see :mod:`coursekit.exercises` for how checks behave).

Exercise 1: the learner writes version 5 of the shop's ORM model, whose attribute ``total`` maps the column
``amount``: a rename in the code that needs no migration. The check maps it on a database of its own (the shop at
head after lesson 22's contract: no ``refunded_at``), compares it with the database as autogenerate would, runs the
version as the shop would (:func:`coursekit.orm_shop.act`) and reads every total back.
Exercise 2: the learner orders the steps that add a NOT NULL column with no constant default (``email``).
"""

from __future__ import annotations

from alembic import op
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy.orm import ColumnProperty, Mapper, Session

from coursekit.alembic_setup import run_as_revision
from coursekit.exercises import Verdict, explain_error
from coursekit.orm_shop import ACTIONS, act, describe_differences, new_shop

CHECK_ROWS = 200


def _shop_after_the_contract():
    """The shop at head with ``refunded_at`` dropped, as at the end of lesson 22's contract."""
    engine = new_shop(rows=CHECK_ROWS)
    run_as_revision(engine, lambda: op.drop_column("orders", "refunded_at"))
    return engine


def _mapper(model) -> Mapper | None:
    mapper = inspect(model, raiseerr=False) if isinstance(model, type) else None
    return mapper if isinstance(mapper, Mapper) else None


def _not_a_model(model) -> str:
    if _mapper(type(model)) is not None:
        return f"you gave an object of {type(model).__name__}; give the class itself: check_attribute_rename(OrderV5)."
    shown = repr(model)[:60] if isinstance(model, (type(None), bool, int, float, str, bytes, list, tuple, dict)) else ""
    return (f"give a class mapped by SQLAlchemy (class OrderV5(new_base()): ... with __tablename__ = \"orders\"); "
            f"you gave {type(model).__name__ if not isinstance(model, type) else 'a class it does not map'} {shown}"
            ).rstrip() + "."


def _column_names(prop) -> list[str]:
    return [column.name for column in getattr(prop, "columns", ())]


def _model_problem(mapper: Mapper) -> str | None:
    """What is wrong with the mapping itself, before any database is asked."""
    table = getattr(mapper.local_table, "name", None)
    if table != "orders":
        return f"your class maps the table {table!r}; the shop's table is `orders` (__tablename__ = \"orders\")."
    attributes = mapper.attrs.keys()
    if "total" not in attributes:
        return f"your class has no attribute `total` (it has {list(attributes)}): version 5's code says order.total."
    if "amount" in attributes:
        return "your class still has an attribute `amount` too: version 5 calls it total only."
    total = mapper.attrs["total"]
    if not isinstance(total, ColumnProperty) or not _column_names(total):
        return "`total` is not a column of the model: map it with mapped_column(\"amount\", REAL)."
    if _column_names(total) != ["amount"]:
        return (f"`total` maps a column named {_column_names(total)[0]!r}, which orders does not have: every SELECT "
                "of the model would fail. Give mapped_column the column's name: mapped_column(\"amount\", REAL).")
    return None


def _differences(mapper: Mapper, engine) -> list[str]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_server_default": True})
        return describe_differences(compare_metadata(context, mapper.local_table.metadata))


def check_attribute_rename(model) -> Verdict:
    """Exercise 1: ``OrderV5.total`` maps the column ``amount``; the database needs no migration."""
    mapper = _mapper(model)
    if mapper is None:
        return Verdict(False, _not_a_model(model))
    if problem := _model_problem(mapper):
        return Verdict(False, problem)
    try:
        engine = _shop_after_the_contract()
        if drift := _differences(mapper, engine):
            return Verdict(False, f"autogenerate finds differences between your model and the shop's table: "
                                  f"{'; '.join(drift)}. Only the attribute's name changes; the column stays as it is.")
        for action in ACTIONS:
            with Session(engine) as session:
                act(session, model, action)
                session.rollback()
        with Session(engine) as session:
            totals = session.execute(select(model.order_id, model.total).order_by(model.order_id)).all()
        with engine.connect() as conn:
            amounts = conn.exec_driver_sql("SELECT order_id, amount FROM orders ORDER BY order_id").all()
    except Exception as error:  # a learner's wrong model is an answer to explain, not a crash
        return Verdict(False, f"version 5 failed on the shop's database: {explain_error(error)}.")
    if [tuple(row) for row in totals] != [tuple(row) for row in amounts]:
        return Verdict(False, "order.total does not read each order's amount.")
    return Verdict(True, f"order.total reads and writes the column amount ({len(totals)} orders read back); "
                         "autogenerate finds nothing to migrate, so versions 3 and 5 run side by side.")


STEPS = "abcde"
NOT_NULL_ORDER = ["a", "b", "c", "d"]
WHY_NOT_BEFORE = {  # (earlier, later): what goes wrong when `later` comes before `earlier`
    ("a", "b"): "version 6's model names email before the column exists: every SELECT of Order fails with "
                "'no such column: orders.email'",
    ("b", "c"): "orders that version 5 inserts after the backfill have no e-mail (its model does not know the "
                "column), so d fails on them",
    ("c", "d"): "the older orders have no e-mail yet, so the database refuses NOT NULL (on SQLite the rebuild's "
                "copy fails: NOT NULL constraint failed)",
}


def check_not_null_order(steps) -> Verdict:
    """Exercise 2: a NOT NULL ``email`` with no constant default: a, b, c, d (and not e)."""
    if isinstance(steps, str) or not isinstance(steps, (list, tuple)):
        return Verdict(False, f"give `steps` as a list of letters, e.g. ['a', 'b']; you gave {steps!r}.")
    if not all(isinstance(letter, str) for letter in steps):
        return Verdict(False, f"each letter goes in quotes, e.g. ['a', 'b']; you gave {steps!r}.")
    letters = [letter.strip().lower() for letter in steps]
    unknown = sorted(set(letters) - set(STEPS))
    if unknown:
        return Verdict(False, f"{unknown} are not among the letters a to e.")
    if "e" in letters:
        return Verdict(False, "leave e out: DEFAULT '' gives every older order a blank e-mail. NOT NULL holds, and "
                              "the data lies: '' is no address.")
    if sorted(letters) != NOT_NULL_ORDER:
        return Verdict(False, "use each of a, b, c and d exactly once.")
    for earlier, later in zip(NOT_NULL_ORDER, NOT_NULL_ORDER[1:], strict=False):
        if letters.index(later) < letters.index(earlier):
            return Verdict(False, f"{later} before {earlier}: {WHY_NOT_BEFORE[earlier, later]}.")
    return Verdict(True, "the column exists before any model names it, every new order has an e-mail before the "
                         "backfill, and NOT NULL comes last, when no row breaks it.")
