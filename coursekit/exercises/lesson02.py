"""Lesson 02's exercise checks (see :mod:`coursekit.exercises` for how checks behave)."""

from __future__ import annotations

from sqlalchemy import inspect

from coursekit.exercises import SCRATCH_ROWS, Verdict
from coursekit.migrations import MigrationError, Migrator, Step
from coursekit.order_steps import ORDER_STEPS, create_shop
from coursekit.schema import rules_frame, schema_frame
from coursekit.verify import table_fingerprint


def check_steps_to_undo(steps_to_undo) -> Verdict:
    """Exercise 1: the steps to undo before step 3 (the allowed statuses) can change are 3 and 4."""
    if isinstance(steps_to_undo, (str, bytes)) or not hasattr(steps_to_undo, "__iter__"):
        return Verdict(False, f"give the step numbers as a list, e.g. [1, 2]; you gave {steps_to_undo!r}.")
    numbers = list(steps_to_undo)
    if not numbers:
        return Verdict(False, "the list is empty. Which step holds the allowed statuses, and which come after it?")
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers):
        return Verdict(False, f"use whole step numbers 1 to 4, e.g. [1, 2]; you gave {numbers!r}.")
    chosen = set(numbers)
    if not chosen <= {1, 2, 3, 4}:
        return Verdict(False, f"the migration has steps 1 to 4; {sorted(chosen - {1, 2, 3, 4})} do not exist.")
    if 3 not in chosen:
        return Verdict(False, "the allowed statuses are written in step 3, so step 3 itself must be undone.")
    if 4 not in chosen:
        return Verdict(False, "step 4 comes after step 3, and steps are undone newest first: turn step 3 off and see.")
    if chosen & {1, 2}:
        return Verdict(False, "steps 1 and 2 can stay applied: turning step 3 off leaves the database at version 2.")
    return Verdict(True, "undo 4 then 3, change step 3, apply both again. In production, add a step 5 instead.")


def _snapshot(engine):
    with engine.connect() as conn:
        fingerprint = table_fingerprint(conn, "orders", ("order_id", "amount"))
    return schema_frame(engine, "orders"), rules_frame(engine, "orders"), fingerprint


def _as_statements(sql) -> tuple[str, ...] | None:
    if isinstance(sql, str):
        return (sql,)
    if isinstance(sql, (list, tuple)) and all(isinstance(statement, str) for statement in sql):
        return tuple(sql)
    return None


def check_priority_step(priority_step) -> Verdict:
    """Exercise 2: a Step adding ``priority INTEGER NOT NULL DEFAULT 0`` whose downgrade restores version 4."""
    if not isinstance(priority_step, Step):
        return Verdict(False, f"`priority_step` should be a Step(name=..., upgrade=..., downgrade=...); "
                              f"it is {type(priority_step).__name__}.")
    upgrade, downgrade = _as_statements(priority_step.upgrade), _as_statements(priority_step.downgrade)
    if not upgrade:
        return Verdict(False, "the upgrade is empty: give it the ALTER TABLE statement as a tuple of strings.")
    if not downgrade:
        return Verdict(False, "the downgrade is empty: a step must say how to undo itself.")
    step = Step(priority_step.name, upgrade, downgrade)
    engine = create_shop(rows=SCRATCH_ROWS)
    migrator = Migrator(engine, (*ORDER_STEPS, step))
    try:
        migrator.upgrade(4)
        at_version_4 = _snapshot(engine)
        migrator.upgrade(5)
    except MigrationError as error:
        return Verdict(False, f"the upgrade failed: {error}")
    column = next((c for c in inspect(engine).get_columns("orders") if c["name"] == "priority"), None)
    if column is None:
        return Verdict(False, "after the upgrade, orders has no column `priority`.")
    if column["nullable"] or "0" not in str(column["default"]) or "INT" not in str(column["type"]).upper():
        return Verdict(False, f"`priority` is {column['type']}, nullable={column['nullable']}, default="
                              f"{column['default']!r}; it should be INTEGER NOT NULL DEFAULT 0.")
    try:
        migrator.downgrade(4)
    except MigrationError as error:
        return Verdict(False, f"the upgrade worked, but the downgrade failed: {error}")
    after = _snapshot(engine)
    if not (after[0].equals(at_version_4[0]) and after[1].equals(at_version_4[1])):
        return Verdict(False, "after the downgrade the schema is not the one of version 4: drop just the new column.")
    if after[2] != at_version_4[2]:
        return Verdict(False, "the downgrade changed the orders' ids or amounts.")
    return Verdict(True, "step 5 goes up and comes back down to exactly version 4, every order intact.")
