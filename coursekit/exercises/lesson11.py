"""Lesson 11's exercise checks (see :mod:`coursekit.exercises` for how checks behave).

The learner writes a revision's ``upgrade()`` and ``downgrade()`` with Alembic's ``op``; the checks run them on
a scratch database of their own, migrated to head by the course's revisions, as Alembic would run a revision.
"""

from __future__ import annotations

import os
import traceback

from alembic import command
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import inspect

from coursekit.alembic_setup import alembic_config
from coursekit.dataset import generate_orders, insert_orders
from coursekit.db import make_engine
from coursekit.exercises import Verdict, explain_error
from coursekit.migrations import enable_transactional_ddl
from coursekit.models import metadata
from coursekit.schema import rules_frame, schema_frame
from coursekit.verify import table_fingerprint

SCRATCH_ALEMBIC_ROWS = 200  # enough for every status: about 10 of them refunded


def scratch_database_at(revision: str = "head", rows: int = SCRATCH_ALEMBIC_ROWS):
    """A fresh in-memory database migrated by the course's revisions to ``revision``, with ``rows`` orders."""
    engine = enable_transactional_ddl(make_engine("sqlite:///:memory:"))
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
        insert_orders(conn, generate_orders(rows))
        command.upgrade(alembic_config(conn), revision)
    return engine


def run_as_revision(engine, function) -> None:
    """Run ``function`` (an ``upgrade`` or ``downgrade``) with Alembic's ``op`` bound to ``engine``."""
    with engine.begin() as conn:
        context = MigrationContext.configure(conn, opts={"target_metadata": metadata, "render_as_batch": True})
        with Operations.context(context):
            function()


def _snapshot(engine, columns=("order_id", "amount")):
    """Schema, rules and fingerprint of orders; None when a learner's revision left no such table or column."""
    try:
        with engine.connect() as conn:
            fingerprint = table_fingerprint(conn, "orders", columns)
    except LookupError:
        return None
    return schema_frame(engine).to_dict("records"), rules_frame(engine).to_dict("records"), fingerprint


def _columns(engine) -> dict | None:
    """The columns of ``orders`` by name; None when the learner's revision left no such table."""
    inspector = inspect(engine)
    if not inspector.has_table("orders"):
        return None
    return {column["name"]: column for column in inspector.get_columns("orders")}


NO_ORDERS = Verdict(False, "after your upgrade there is no table `orders`: change the table, do not drop or rename it.")
NOT_NULL_WITHOUT_DEFAULT = "Cannot add a NOT NULL column with default value NULL"


def _run(engine, function, name: str) -> str | None:
    """None when ``function`` ran; else what went wrong, for the verdict."""
    try:
        run_as_revision(engine, function)
    except Exception as error:  # a learner's wrong revision is an answer to explain, not a crash
        return f"your {name}() failed: {explain_error(error)}.{_hint(engine, error)}"
    return None


def _hint(engine, error: BaseException) -> str:
    """A hint for the two mistakes an error shows for certain, else nothing."""
    if NOT_NULL_WITHOUT_DEFAULT in str(error):  # SQLite's refusal: the rows already there need a value
        return " A NOT NULL column needs a server_default, which gives the rows already there their value."
    raised_in = traceback.extract_tb(error.__traceback__)[-1].filename if error.__traceback__ else ""
    columns = _columns(engine) or {}
    if isinstance(error, KeyError) and f"{os.sep}alembic{os.sep}" in raised_in and error.args[0] not in columns:
        return f" Alembic looked for a column {error.args[0]!r}; orders has {list(columns)}."  # batch_alter_table's
    return ""


def _both_callable(upgrade, downgrade) -> Verdict | None:
    for name, function in (("upgrade", upgrade), ("downgrade", downgrade)):
        if not callable(function):
            return Verdict(False, f"define a function `{name}()` (no arguments) that uses op, and run its cell first.")
    return None


def check_currency_revision(upgrade, downgrade) -> Verdict:
    """Exercise 1: revision 0006 adds ``currency``, NOT NULL with database default 'EUR'; its downgrade undoes it."""
    if (refused := _both_callable(upgrade, downgrade)) is not None:
        return refused
    engine = scratch_database_at("head")
    before = _snapshot(engine)
    if problem := _run(engine, upgrade, "upgrade"):
        return Verdict(False, problem)
    if _columns(engine) is None:
        return NO_ORDERS
    column = _columns(engine).get("currency")
    if column is None:
        return Verdict(False, f"after your upgrade, orders has no column `currency` (it has {list(_columns(engine))}).")
    if column["nullable"]:
        return Verdict(False, "`currency` accepts NULL: add nullable=False (allowed, because it has a default).")
    if "EUR" not in str(column["default"] or ""):
        return Verdict(False, f"`currency` has database default {column['default']!r}; use server_default='EUR'.")
    with engine.connect() as conn:
        values = conn.exec_driver_sql("SELECT DISTINCT currency FROM orders").scalars().all()
    if values != ["EUR"]:
        return Verdict(False, f"existing orders read {values}; every one should read 'EUR'.")
    if problem := _run(engine, downgrade, "downgrade"):
        return Verdict(False, problem)
    if _snapshot(engine) != before:
        return Verdict(False, "after your downgrade the database is not as it was at head. Undo exactly the upgrade.")
    return Verdict(True, "upgrade adds currency for every order, downgrade gives back the schema of head.")


def _rename_not_undone(engine) -> str:
    """What the learner's downgrade left different from head, in the terms of the rename."""
    columns = _columns(engine)
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
    """Exercise 2: rename ``amount`` to ``total`` keeping every value (not autogenerate's drop + add), and back."""
    if (refused := _both_callable(upgrade, downgrade)) is not None:
        return refused
    engine = scratch_database_at("head")
    before = _snapshot(engine)
    if problem := _run(engine, upgrade, "upgrade"):
        return Verdict(False, problem)
    columns = _columns(engine)
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
    if problem := _run(engine, downgrade, "downgrade"):
        return Verdict(False, problem)
    if _snapshot(engine) != before:
        return Verdict(False, _rename_not_undone(engine))
    return Verdict(True, "every amount survives as a total; the downgrade gives back the schema and values of head.")
