"""Lesson 11's exercise checks (see :mod:`coursekit.exercises` for how checks behave).

Exercise 1: the learner writes a revision's ``upgrade()`` and ``downgrade()`` with Alembic's ``op``; the check runs
them on a scratch database of its own, migrated to head by the course's revisions, as Alembic would run a revision.
Exercise 2: the learner moves a database to revision 0002 with ``run_alembic``, from above and from below.
The revision helpers here (``snapshot``, ``run_revision``, ...) serve lesson 12's checks too.
"""

from __future__ import annotations

import io
import os
import traceback

from alembic.util import CommandError
from sqlalchemy import inspect

from coursekit.alembic_setup import alembic_config, run_as_revision, scratch_database_at
from coursekit.exercises import Verdict, explain_error
from coursekit.schema import rules_frame, schema_frame
from coursekit.verify import table_fingerprint

__all__ = ["check_bare_status_column", "check_currency_revision", "run_as_revision", "scratch_database_at"]


def snapshot(engine, columns=("order_id", "amount")):
    """Schema, rules and fingerprint of orders; None when a learner's revision left no such table or column."""
    try:
        with engine.connect() as conn:
            fingerprint = table_fingerprint(conn, "orders", columns)
    except LookupError:
        return None
    return schema_frame(engine).to_dict("records"), rules_frame(engine).to_dict("records"), fingerprint


def columns_of(engine) -> dict | None:
    """The columns of ``orders`` by name; None when the learner's revision left no such table."""
    inspector = inspect(engine)
    if not inspector.has_table("orders"):
        return None
    return {column["name"]: column for column in inspector.get_columns("orders")}


NO_ORDERS = Verdict(False, "after your upgrade there is no table `orders`: change the table, do not drop or rename it.")
NOT_NULL_WITHOUT_DEFAULT = "Cannot add a NOT NULL column with default value NULL"


def run_revision(engine, function, name: str, hint=None) -> str | None:
    """None when ``function`` ran; else what went wrong, for the verdict (``hint(engine, error)`` adds a hint)."""
    try:
        run_as_revision(engine, function)
    except Exception as error:  # a learner's wrong revision is an answer to explain, not a crash
        return f"your {name}() failed: {explain_error(error)}.{(hint or revision_hint)(engine, error)}"
    return None


def revision_hint(engine, error: BaseException) -> str:
    """A hint for the two mistakes an error shows for certain, else nothing."""
    if NOT_NULL_WITHOUT_DEFAULT in str(error):  # SQLite's refusal: the rows already there need a value
        return " A NOT NULL column needs a server_default, which gives the rows already there their value."
    raised_in = traceback.extract_tb(error.__traceback__)[-1].filename if error.__traceback__ else ""
    columns = columns_of(engine) or {}
    if isinstance(error, KeyError) and f"{os.sep}alembic{os.sep}" in raised_in and error.args[0] not in columns:
        return f" Alembic looked for a column {error.args[0]!r}; orders has {list(columns)}."  # batch_alter_table's
    return ""


def both_callable(upgrade, downgrade) -> Verdict | None:
    for name, function in (("upgrade", upgrade), ("downgrade", downgrade)):
        if not callable(function):
            return Verdict(False, f"define a function `{name}()` (no arguments) that uses op, and run its cell first.")
    return None


def check_currency_revision(upgrade, downgrade) -> Verdict:
    """Exercise 1: revision 0006 adds ``currency``, NOT NULL with database default 'EUR'; its downgrade undoes it."""
    if (refused := both_callable(upgrade, downgrade)) is not None:
        return refused
    engine = scratch_database_at("head")
    before = snapshot(engine)
    if problem := run_revision(engine, upgrade, "upgrade"):
        return Verdict(False, problem)
    if columns_of(engine) is None:
        return NO_ORDERS
    columns = columns_of(engine)
    column = columns.get("currency")
    if column is None:
        return Verdict(False, f"after your upgrade, orders has no column `currency` (it has {list(columns)}).")
    if column["nullable"]:
        return Verdict(False, "`currency` accepts NULL: add nullable=False (allowed, because it has a default).")
    if "EUR" not in str(column["default"] or ""):
        return Verdict(False, f"`currency` has database default {column['default']!r}; use server_default='EUR'.")
    with engine.connect() as conn:
        values = conn.exec_driver_sql("SELECT DISTINCT currency FROM orders").scalars().all()
    if values != ["EUR"]:
        return Verdict(False, f"existing orders read {values}; every one should read 'EUR'.")
    if problem := run_revision(engine, downgrade, "downgrade"):
        return Verdict(False, problem)
    if snapshot(engine) != before:
        return Verdict(False, "after your downgrade the database is not as it was at head. Undo exactly the upgrade.")
    return Verdict(True, "upgrade adds currency for every order, downgrade gives back the schema of head.")


def current_revision(engine) -> str | None:
    """The revision in ``alembic_version``; None at base (no table, or no row)."""
    if not inspect(engine).has_table("alembic_version"):
        return None
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT max(version_num) FROM alembic_version").scalar_one()


def _alembic_runner(engine):
    """The notebook's ``run_alembic``, for ``engine``: each command in one transaction on its connection."""
    def run_alembic(action, *arguments, **options):
        try:
            with engine.begin() as conn:
                return action(alembic_config(conn, stdout=io.StringIO()), *arguments, **options)
        except CommandError as refusal:  # Alembic refused the learner's target: point at their call, not at env.py
            raise refusal.with_traceback(None) from None
    return run_alembic


def _target_hint(error: BaseException) -> str:
    """A hint for the two refusals a wrong target gets from Alembic, else nothing."""
    if isinstance(error, CommandError) and "Relative revision" in str(error):
        return " A relative target counts from where the database is: name the revision, 0002, instead."
    if isinstance(error, CommandError) and "not a valid downgrade target" in str(error):
        return " At 0001, revision 0002 is above: downgrade only goes down, so upgrade to it."
    return ""


BARE_STATUS_STARTS = ("head", "0001")  # above 0002 and below it
NOT_DOWN = " Nothing moved it down: an upgrade never goes down (at head, upgrade to 0002 does nothing)."


def _orders_lost(after, before: dict, start: str) -> str | None:
    """What happened to the orders on the way to 0002, or None when every order is there as it was."""
    rows = after[2]["rows"] if after else 0
    if rows == 0:
        return (f"from {start}, the database is at 0002 but has no orders (it had {before['rows']}): going through "
                "base dropped the table, and a downgrade restores the schema, not the data. Go straight to 0002.")
    if after[2] != before:
        return (f"from {start}, the database is at 0002 but its orders changed ({rows} orders, {before['rows']} "
                "before): move it with Alembic's commands only.")
    return None


def check_bare_status_column(to_bare_status) -> Verdict:
    """Exercise 2: from head and from 0001 alike, the learner's function leaves the database at 0002, orders kept."""
    if not callable(to_bare_status):
        return Verdict(False, "define a function `to_bare_status(run_alembic)` that runs Alembic commands, and run "
                              "its cell first.")
    for start in BARE_STATUS_STARTS:
        engine = scratch_database_at(start)
        before = snapshot(engine)[2]
        try:
            to_bare_status(_alembic_runner(engine))
        except Exception as error:  # a learner's wrong command is an answer to explain, not a crash
            return Verdict(False, f"on a database at {start}, your function failed: {explain_error(error)}."
                                  f"{_target_hint(error)}")
        at = current_revision(engine)
        if at != "0002":
            return Verdict(False, f"from {start}, your function left the database at {at or 'base'}, not 0002."
                                  f"{NOT_DOWN if start == 'head' and at == '0005' else ''}")
        if problem := _orders_lost(snapshot(engine), before, start):
            return Verdict(False, problem)
    return Verdict(True, "from head and from 0001 alike, the database ends at 0002 with every order.")
