"""Lesson 03's exercise checks (see :mod:`coursekit.exercises` for how checks behave)."""

from __future__ import annotations

import numbers

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from coursekit.dataset import read_orders_csv
from coursekit.exercises import Verdict, explain_error
from coursekit.migrations import MigrationError, Migrator
from coursekit.order_steps import ALLOWED_STATUSES, ORDER_STEPS

STEP_NUMBERS = {1, 2, 3, 4}
NEW_STEP_INSTEAD = (
    "Undoing nothing and adding a step 5 is the answer for a migration that has run in production; "
    "this task edits step 3 itself, on a database only you use."
)
# Exercise 2: the shop cancels one order at version 2, a buggy release writes a status step 3 refuses into another.
CANCELLED_ORDER, LOST_ORDER = "ORD-0000007", "ORD-0000042"


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


def _read_shop(engine) -> tuple[int, set, dict]:
    """The stored version, the order ids, and the statuses of the two orders of the exercise (None: no column)."""
    version = Migrator(engine, ORDER_STEPS).current()
    with engine.connect() as conn:
        ids = {row[0] for row in conn.execute(text("SELECT order_id FROM orders"))}
        statuses = {order: None for order in (CANCELLED_ORDER, LOST_ORDER)}
        if any(column["name"] == "status" for column in inspect(conn).get_columns("orders")):
            found = conn.execute(text("SELECT order_id, status FROM orders WHERE order_id IN (:a, :b)"),
                                 {"a": CANCELLED_ORDER, "b": LOST_ORDER})
            statuses.update(dict(found.all()))
    return version, ids, statuses


def check_past_the_refusal(engine) -> Verdict:
    """Exercise 2: version 4 reached, the order that blocked step 3 fixed, no order and no cancellation lost."""
    if not isinstance(engine, Engine):
        return Verdict(False, f"pass the lesson's engine: check_past_the_refusal(engine); you gave "
                              f"{type(engine).__name__}.")
    try:
        version, ids, statuses = _read_shop(engine)
    except (MigrationError, SQLAlchemyError, LookupError) as error:
        return Verdict(False, f"the database could not be read: {explain_error(error).rstrip('. ')}. Run the "
                              "lesson's set-up cell and the exercise's first cell again.")
    gone = sorted({row[0] for row in read_orders_csv()} - ids)
    if gone:
        return Verdict(False, f"{len(gone)} order(s) are gone ({gone[0]} first): deleting a row gets past the CHECK, "
                              "but the shop has lost an order. Run the set-up cell and the exercise's first cell "
                              "again, and fix the order's status instead.")
    if version < 2:
        return Verdict(False, f"the database is at version {version}: going below version 2 ran step 2's downgrade, "
                              f"which resets every status, so {CANCELLED_ORDER}'s cancellation is lost with it "
                              "(lesson 02). Run the exercise's first cell again, and fix only the order that "
                              "blocks step 3.")
    if statuses[CANCELLED_ORDER] != "cancelled":
        return Verdict(False, f"{CANCELLED_ORDER} says {statuses[CANCELLED_ORDER]!r}: the customer's cancellation "
                              "is lost. Run the exercise's first cell again, and change only the order that "
                              "blocks step 3.")
    if version == 2 and statuses[LOST_ORDER] not in ALLOWED_STATUSES:
        return Verdict(False, f"{LOST_ORDER} still says {statuses[LOST_ORDER]!r}, which step 3's CHECK does not "
                              f"allow ({', '.join(ALLOWED_STATUSES)}): write one of those into it with Act as the "
                              "shop, then turn step 4 on.")
    if version < 4:
        also = " (it applies step 3 too)" if version == 2 else ""
        return Verdict(False, f"the database is at version {version}, and nothing blocks step 3 any more: turn "
                              f"step 4 on{also}.")
    return Verdict(True, f"version 4, every order kept, {CANCELLED_ORDER} still cancelled and {LOST_ORDER} "
                         f"{statuses[LOST_ORDER]!r}: the data was fixed, not the migration.")
