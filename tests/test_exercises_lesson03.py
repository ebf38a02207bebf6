"""Lesson 03's checks: the solutions pass, and each wrong answer gets a verdict that names its own mistake."""

import numpy as np
import pytest
from sqlalchemy import create_engine, text

from coursekit.dataset import insert_orders, read_orders_csv
from coursekit.db import make_engine
from coursekit.exercises.lesson03 import check_past_the_refusal, check_steps_to_undo
from coursekit.migrations import Migrator, enable_transactional_ddl
from coursekit.order_steps import CREATE_ORDERS, ORDER_STEPS
from coursekit.stepper import MigrationStepper
from tests.conftest import REPO
from tests.test_exercises import solutions

LESSON_03 = REPO / "notebooks" / "03-up-and-down-with-the-stepper.ipynb"


@pytest.fixture
def refused():
    """The lesson's shop as exercise 2's first cell leaves it: version 2, ORD-0000007 cancelled, ORD-0000042 lost,
    and step 3 refused; the stepper on it."""
    engine = enable_transactional_ddl(make_engine("sqlite:///:memory:"))
    with engine.begin() as conn:
        conn.execute(text(CREATE_ORDERS))
        insert_orders(conn, read_orders_csv())
    stepper = MigrationStepper(Migrator(engine, ORDER_STEPS))
    stepper.migrator.go_to(2)
    stepper.write_status("ORD-0000007", "cancelled")
    stepper.write_status("ORD-0000042", "lost")
    stepper.toggles[3].value = True
    assert stepper.migrator.current() == 2 and "CHECK constraint failed" in stepper.last_message
    yield stepper
    stepper.close()
    engine.dispose()


def test_lesson_03_solutions_pass_their_checks(refused):
    first, second = solutions(LESSON_03)
    namespace = {"stepper": refused}
    exec(first + second, namespace)
    assert check_steps_to_undo(namespace["steps_to_undo"]).ok
    verdict = check_past_the_refusal(refused.migrator.engine)
    assert verdict.ok and "ORD-0000007 still cancelled" in verdict.message, verdict.message


def test_the_placeholder_answer_leaves_the_refusal(refused):
    verdict = check_past_the_refusal(refused.migrator.engine)
    assert not verdict.ok and "still says 'lost'" in verdict.message, verdict.message


def write(stepper, order, status):
    stepper.write_status(order, status)


def run_sql(stepper, sql):
    with stepper.migrator.engine.begin() as conn:
        conn.execute(text(sql))


# Each wrong way out: what the learner does on the refused shop, words the verdict must and must not contain.
WAYS_OUT = {
    "nothing": ([], ["still says 'lost'", "Act as the shop"], ["gone", "cancellation"]),
    "a status not on the list": ([lambda s: write(s, "ORD-0000042", "Pending")],
                                 ["still says 'Pending'", "pending, shipped"], ["gone"]),
    "fixed, not applied": ([lambda s: write(s, "ORD-0000042", "pending")],
                           ["version 2", "turn step 4 on (it applies step 3 too)"], ["still says"]),
    "stops at version 3": ([lambda s: write(s, "ORD-0000042", "shipped"), lambda s: s.migrator.upgrade(3)],
                           ["version 3", "turn step 4 on."], ["applies step 3 too"]),
    "deletes the order": ([lambda s: run_sql(s, "DELETE FROM orders WHERE order_id = 'ORD-0000042'"),
                           lambda s: s.migrator.upgrade()], ["1 order(s) are gone (ORD-0000042", "fix the order's"],
                          ["cancellation"]),
    "undoes step 2 and redoes it": ([lambda s: setattr(s.toggles[1], "value", False),
                                     lambda s: setattr(s.toggles[3], "value", True)],
                                    ["ORD-0000007 says", "cancellation is lost"], ["gone"]),
    "stays below version 2": ([lambda s: s.migrator.go_to(1)],
                              ["version 1", "step 2's downgrade", "cancellation is lost"], ["gone"]),
    "resets every status": ([lambda s: run_sql(s, "UPDATE orders SET status = 'pending'"),
                             lambda s: s.migrator.upgrade()], ["ORD-0000007 says 'pending'"], ["gone"]),
}


@pytest.mark.parametrize("actions, must, must_not", WAYS_OUT.values(), ids=WAYS_OUT.keys())
def test_wrong_ways_past_the_refusal_get_the_hint_for_their_mistake(refused, actions, must, must_not):
    for action in actions:
        action(refused)
    verdict = check_past_the_refusal(refused.migrator.engine)
    assert not verdict.ok, verdict.message
    assert all(word in verdict.message for word in must), verdict.message
    assert not any(word in verdict.message for word in must_not), verdict.message


@pytest.mark.parametrize(
    "answer, must",
    [(None, "pass the lesson's engine"), ("engine", "you gave str"),
     (create_engine("sqlite://"), "could not be read: the database refused the SQL `SELECT order_id FROM orders`")],
    ids=["None", "text", "no orders table"],
)
def test_what_is_not_the_shop_gets_a_verdict(answer, must):
    verdict = check_past_the_refusal(answer)
    assert not verdict.ok and must in verdict.message, verdict.message


@pytest.mark.parametrize("answer", [[3, 4], [4, 3], (3, 4), {3, 4}, [np.int64(3), np.int64(4)]],
                         ids=["list", "newest first", "tuple", "set", "numpy ints"])
def test_every_way_of_writing_the_edit_answer_is_accepted(answer):
    assert check_steps_to_undo(answer).ok


@pytest.mark.parametrize(
    "answer, words",
    [([], ("is empty", "step 5", "production", "edits step 3")), ([5], ("no step 5 to undo", "production"))],
    ids=["undo nothing", "the new step's number"],
)
def test_the_production_answer_is_named_and_the_task_it_does_not_fit_is_said(answer, words):
    """The solution recommends a new step 5 in production; the task edits step 3, and the verdict says both."""
    result = check_steps_to_undo(answer)
    assert not result.ok and all(word in result.message for word in words), result.message


def failing_numbers():
    yield 3
    yield 4 // 0


@pytest.mark.parametrize(
    "answer, must, must_not",
    [
        (None, ("as a list", "None"), ("step 5",)), ("3, 4", ("as a list",), ()), (3, ("as a list",), ()),
        ([3.0, 4], ("whole step",), ()), ([4], ("step 3 itself",), ()), ([3], ("step 4 comes after",), ()),
        ([2, 3, 4], ("can stay",), ()), ([3, 4, 9], ("do not exist", "[9]"), ("step 5",)),
        ([True, 4], ("whole step",), ()),
        (failing_numbers(), ("ZeroDivisionError", "line"), ("as a list", "whole step", "step 5")),
    ],
    ids=["None", "text", "int", "float", "only 4", "only 3", "too many", "unknown step", "bool", "raising iterable"],
)
def test_wrong_step_lists_get_the_hint_for_their_mistake(answer, must, must_not):
    result = check_steps_to_undo(answer)
    assert not result.ok, result.message
    assert all(word in result.message for word in must), result.message
    assert not any(word in result.message for word in must_not), result.message


