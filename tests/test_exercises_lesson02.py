"""Lesson 02's checks: the solutions pass, and each wrong answer gets a verdict that names its own mistake."""

import numpy as np
import pytest

from coursekit.exercises.lesson02 import check_priority_step, check_steps_to_undo
from coursekit.migrations import Step
from tests.conftest import REPO
from tests.test_exercises import solutions

LESSON_02 = REPO / "notebooks" / "02-migration-steps-up-and-down.ipynb"
ADD = "ALTER TABLE orders ADD COLUMN priority INTEGER NOT NULL DEFAULT 0"
DROP = "ALTER TABLE orders DROP COLUMN priority"
# Hints that belong to other mistakes (the Migrator's own, for the lesson's database) must not be given here.
OTHER_MISTAKES = ("Run the cell that creates", "does not look like version", "Restart & Run All", "text()")


def test_lesson_02_solutions_pass_their_checks():
    first, second = solutions(LESSON_02)
    namespace = {"Step": Step}
    exec(first + second, namespace)
    assert check_steps_to_undo(namespace["steps_to_undo"]).ok
    assert check_priority_step(namespace["priority_step"]).ok


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


class NameThatFails:
    def __str__(self):
        return ["Add a priority column"][1]


@pytest.mark.parametrize(
    "answer, must, must_not",
    [
        (None, ("should be a Step",), ()),
        (ADD, ("should be a Step", "str"), ()),
        (Step("p", (), ()), ("upgrade is empty",), ()),
        (Step("p", (ADD,), ()), ("downgrade is empty",), ()),
        (Step("p", (42,), ("x",)), ("should hold SQL as strings", "42"), ("empty",)),
        (Step("p", 42, ("x",)), ("tuple of SQL strings", "42"), ("empty",)),
        (Step("p", ("ALTR TABLE orders ADD COLUMN priority INTEGER",), (DROP,)),
         ("upgrade failed", 'near "ALTR": syntax error', "ALTR TABLE orders"), OTHER_MISTAKES),
        (Step("p", ("ALTER TABLE shop_orders ADD COLUMN priority INTEGER NOT NULL DEFAULT 0",), (DROP,)),
         ("no such table: shop_orders",), OTHER_MISTAKES),
        (Step("p", ("ALTER TABLE orders ADD COLUMN status INTEGER NOT NULL DEFAULT 0",), (DROP,)),
         ("duplicate column name: status",), OTHER_MISTAKES),
        (Step("p", ("ALTER TABLE orders ADD COLUMN priority INTEGER NOT NULL",), ("SELECT 1",)),
         ("upgrade failed", "NOT NULL column with default value NULL"), OTHER_MISTAKES),
        (Step("p", (f"{ADD}; SELECT 1",), (DROP,)), ("one statement at a time", "its own string"), OTHER_MISTAKES),
        (Step("p", ("ALTER TABLE orders ADD COLUMN priority INTEGER NOT NULL DEFAULT :zero",), (DROP,)),
         ("bind parameter 'zero'",), OTHER_MISTAKES),
        (Step("p", ("ALTER TABLE orders ADD COLUMN urgency INTEGER NOT NULL DEFAULT 0",),
              ("ALTER TABLE orders DROP COLUMN urgency",)), ("no column `priority`",), ()),
        (Step("p", ("ALTER TABLE orders ADD COLUMN priority INTEGER DEFAULT 0",), (DROP,)), ("nullable=True",), ()),
        (Step("p", ("ALTER TABLE orders ADD COLUMN priority INTEGER NOT NULL DEFAULT 10",), (DROP,)),
         ("default='10'",), ()),
        (Step("p", (ADD,), ("SELECT 1",)), ("not the one of version 4",), ()),
        (Step("p", (ADD,), ("ALTER TABLE orders DROP COLUMN nothing",)),
         ("downgrade failed", "DROP COLUMN nothing"), OTHER_MISTAKES),
        (Step("p", (ADD,), (DROP, "DELETE FROM orders WHERE order_id = 'ORD-0000001'")), ("changed the orders",), ()),
        (Step(NameThatFails(), (ADD,), (DROP,)), ("IndexError", "list index out of range", "line"),
         ("should be a Step",) + OTHER_MISTAKES),
    ],
    ids=["None", "text", "empty upgrade", "empty downgrade", "not text", "not a tuple", "syntax error",
         "unknown table", "existing column", "NOT NULL without default", "two statements in one string",
         "bind parameter", "wrong column", "nullable", "default 10", "downgrade does nothing", "downgrade fails",
         "downgrade deletes", "raising Step"],
)
def test_wrong_steps_get_the_hint_for_their_mistake(answer, must, must_not):
    result = check_priority_step(answer)
    assert not result.ok, result.message
    assert all(word in result.message for word in must), result.message
    assert not any(word in result.message for word in must_not), result.message
