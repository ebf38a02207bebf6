"""Lesson 02's exercise checks (see :mod:`coursekit.exercises` for how checks behave)."""

from __future__ import annotations

import numbers

from sqlalchemy import inspect

from coursekit.exercises import SCRATCH_ROWS, Verdict, explain_error
from coursekit.migrations import MigrationError, Migrator, Step
from coursekit.order_steps import ORDER_STEPS, create_shop
from coursekit.schema import rules_frame, schema_frame
from coursekit.verify import table_fingerprint

STEP_NUMBERS = {1, 2, 3, 4}
NEW_STEP_INSTEAD = (
    "Undoing nothing and adding a step 5 is the answer for a migration that has run in production; "
    "this task edits step 3 itself, on a database only you use."
)


def check_steps_to_undo(steps_to_undo) -> Verdict:
    """Exercise 1: to edit step 3 (the allowed statuses) and apply it again, undo steps 3 and 4.

    The task says step 3 is edited (the migration has not reached production), so [3, 4] is the one
    right answer; the production answer (a new step 5, nothing undone) is named when it is given.
    """
    if isinstance(steps_to_undo, (str, bytes)) or not hasattr(steps_to_undo, "__iter__"):
        return Verdict(False, f"give the step numbers as a list, e.g. [1, 2]; you gave {steps_to_undo!r}.")
    try:
        numbers_given = list(steps_to_undo)
    except Exception as error:  # noqa: BLE001 - a learner's iterable that fails is their mistake to see
        return Verdict(False, f"the list could not be read: {explain_error(error)}.")
    if not numbers_given:
        return Verdict(False, "the list is empty, but the old step 3 is still applied, and the edited one can be "
                              "applied only after the old one is undone. Which steps must be undone first? ("
                              + NEW_STEP_INSTEAD + ")")
    if not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in numbers_given):
        return Verdict(False, f"use whole step numbers 1 to 4, e.g. [1, 2]; you gave {numbers_given!r}.")
    chosen = {int(n) for n in numbers_given}
    if chosen == {5}:
        return Verdict(False, f"there is no step 5 to undo. {NEW_STEP_INSTEAD} Which steps must be undone first?")
    if not chosen <= STEP_NUMBERS:
        return Verdict(False, f"the migration has steps 1 to 4; {sorted(chosen - STEP_NUMBERS)} do not exist.")
    if 3 not in chosen:
        return Verdict(False, "the allowed statuses are written in step 3, so step 3 itself must be undone.")
    if 4 not in chosen:
        return Verdict(False, "step 4 comes after step 3, and steps are undone newest first: turn step 3 off and see.")
    if chosen & {1, 2}:
        return Verdict(False, "steps 1 and 2 can stay applied: turning step 3 off leaves the database at version 2.")
    return Verdict(True, "undo 4 then 3, edit step 3, apply both again. In production, add a step 5 instead.")


def _snapshot(engine):
    with engine.connect() as conn:
        fingerprint = table_fingerprint(conn, "orders", ("order_id", "amount"))
    return schema_frame(engine, "orders"), rules_frame(engine, "orders"), fingerprint


def _as_statements(sql) -> tuple | None:
    """The statements as a tuple (one string counts as one statement); None when ``sql`` is no sequence."""
    if isinstance(sql, str):
        return (sql,)
    if isinstance(sql, (list, tuple)):
        return tuple(sql)
    return None


def _statements_problem(direction: str, given, statements) -> str | None:
    """What is wrong with the form of an upgrade or downgrade, before anything runs; None if nothing is."""
    if statements is None:
        return (f"the {direction} should be a tuple of SQL strings, e.g. (\"...\",); it is {given!r} "
                f"({type(given).__name__}).")
    if not statements:
        example = "ALTER TABLE statement" if direction == "upgrade" else "statement that undoes it"
        return f"the {direction} is empty: give it the {example} as a tuple of strings, e.g. (\"...\",)."
    not_text = [statement for statement in statements if not isinstance(statement, str)]
    if not_text:
        return (f"the {direction} should hold SQL as strings; it holds {not_text[0]!r} "
                f"({type(not_text[0]).__name__}). Put the SQL in quotes.")
    return None


def _why_it_failed(error: Exception) -> str:
    """The database's words and the statement (or the Python error), and a hint only for the mistake it names.

    A failed step's MigrationError carries hints for the lesson's own database ("run the cell that creates
    the table"); on the check's scratch database the SQL is what failed, so the database's error is shown.
    """
    if isinstance(error, MigrationError):
        said = explain_error(error.__cause__) if error.__cause__ is not None else str(error)
    else:
        said = explain_error(error)
    said = said.rstrip(". ")
    if "one statement at a time" in said:
        said += ". Put each statement in its own string: (\"first statement\", \"second statement\")"
    return said


def check_priority_step(priority_step) -> Verdict:
    """Exercise 2: a Step adding ``priority INTEGER NOT NULL DEFAULT 0`` whose downgrade restores version 4."""
    if not isinstance(priority_step, Step):
        return Verdict(False, f"`priority_step` should be a Step(name=..., upgrade=..., downgrade=...); "
                              f"it is {type(priority_step).__name__}.")
    try:
        name, given_upgrade, given_downgrade = str(priority_step.name), priority_step.upgrade, priority_step.downgrade
    except Exception as error:  # noqa: BLE001 - a Step of the learner's own making may fail when read
        return Verdict(False, f"reading your Step failed: {explain_error(error)}.")
    upgrade, downgrade = _as_statements(given_upgrade), _as_statements(given_downgrade)
    problem = (_statements_problem("upgrade", given_upgrade, upgrade)
               or _statements_problem("downgrade", given_downgrade, downgrade))
    if problem:
        return Verdict(False, problem)
    step = Step(name, upgrade, downgrade)
    engine = create_shop(rows=SCRATCH_ROWS)
    migrator = Migrator(engine, (*ORDER_STEPS, step))
    migrator.upgrade(4)
    at_version_4 = _snapshot(engine)
    try:
        migrator.upgrade(5)
    except Exception as error:  # noqa: BLE001 - the learner's SQL: whatever it raises is explained, never a traceback
        return Verdict(False, f"the upgrade failed: {_why_it_failed(error)}.")
    column = next((c for c in inspect(engine).get_columns("orders") if c["name"] == "priority"), None)
    if column is None:
        return Verdict(False, "after the upgrade, orders has no column `priority`.")
    default = str(column["default"]).strip("'() ")
    if column["nullable"] or default != "0" or "INT" not in str(column["type"]).upper():
        return Verdict(False, f"`priority` is {column['type']}, nullable={column['nullable']}, default="
                              f"{column['default']!r}; it should be INTEGER NOT NULL DEFAULT 0.")
    try:
        migrator.downgrade(4)
    except Exception as error:  # noqa: BLE001 - as above
        return Verdict(False, f"the upgrade worked, but the downgrade failed: {_why_it_failed(error)}.")
    after = _snapshot(engine)
    if not (after[0].equals(at_version_4[0]) and after[1].equals(at_version_4[1])):
        return Verdict(False, "after the downgrade the schema is not the one of version 4: drop just the new column.")
    if after[2] != at_version_4[2]:
        return Verdict(False, "the downgrade changed the orders' ids or amounts.")
    return Verdict(True, "step 5 goes up and comes back down to exactly version 4, every order intact.")
