import pytest

from coursekit.exercises.lesson02 import check_priority_step, check_steps_to_undo
from coursekit.migrations import Step
from tests.conftest import REPO
from tests.test_exercises import solutions

LESSON_02 = REPO / "notebooks" / "02-migration-steps-up-and-down.ipynb"


def test_lesson_02_solutions_pass_their_checks():
    first, second = solutions(LESSON_02)
    namespace = {"Step": Step}
    exec(first + second, namespace)
    assert check_steps_to_undo(namespace["steps_to_undo"]).ok
    assert check_priority_step(namespace["priority_step"]).ok


@pytest.mark.parametrize(
    "answer, hint",
    [
        (None, "as a list"), ("3, 4", "as a list"), (3, "as a list"), ([], "empty"), ([3.0, 4], "whole step"),
        ([4], "step 3 itself"), ([3], "step 4 comes after"), ([2, 3, 4], "can stay"), ([3, 4, 9], "do not exist"),
        ([True, 4], "whole step"),
    ],
)
def test_wrong_step_lists_get_a_hint(answer, hint):
    result = check_steps_to_undo(answer)
    assert not result.ok and hint in result.message


@pytest.mark.parametrize(
    "answer, hint",
    [
        (None, "should be a Step"),
        ("ALTER TABLE orders ADD COLUMN priority", "should be a Step"),
        (Step("p", (), ()), "upgrade is empty"),
        (Step("p", ("ALTER TABLE orders ADD COLUMN priority INTEGER NOT NULL DEFAULT 0",), ()), "downgrade is empty"),
        (Step("p", ("ALTER TABLE orders ADD COLUMN priority INTEGER NOT NULL",), ("SELECT 1",)), "upgrade failed"),
        (Step("p", ("ALTER TABLE orders ADD COLUMN urgency INTEGER NOT NULL DEFAULT 0",),
              ("ALTER TABLE orders DROP COLUMN urgency",)), "no column `priority`"),
        (Step("p", ("ALTER TABLE orders ADD COLUMN priority INTEGER DEFAULT 0",),
              ("ALTER TABLE orders DROP COLUMN priority",)), "nullable=True"),
        (Step("p", ("ALTER TABLE orders ADD COLUMN priority INTEGER NOT NULL DEFAULT 0",),
              ("SELECT 1",)), "not the one of version 4"),
        (Step("p", ("ALTER TABLE orders ADD COLUMN priority INTEGER NOT NULL DEFAULT 0",),
              ("ALTER TABLE orders DROP COLUMN nothing",)), "downgrade failed"),
        (Step("p", ("ALTER TABLE orders ADD COLUMN priority INTEGER NOT NULL DEFAULT 0",),
              ("ALTER TABLE orders DROP COLUMN priority", "DELETE FROM orders WHERE order_id = 'ORD-0000001'")),
         "changed the orders"),
        (Step("p", (42,), ("x",)), "upgrade is empty"),
    ],
)
def test_wrong_steps_get_a_hint(answer, hint):
    result = check_priority_step(answer)
    assert not result.ok and hint in result.message, result.message
