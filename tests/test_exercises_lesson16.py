"""Lesson 16's exercise checks: the solutions pass, the wrong answers a learner gives get a hint that names them."""

import re

import nbformat
import pytest

from coursekit.exercises.lesson16 import check_metadata_only, check_safe_not_null_order
from coursekit.order_steps import CREATE_ORDERS
from tests.conftest import REPO
from tests.test_exercises import solutions

LESSON_11 = REPO / "notebooks" / "16-online-schema-changes.ipynb"


def test_lesson_11_solutions_pass_their_checks():
    namespace = {}
    found = solutions(LESSON_11)
    assert len(found) == 2
    exec("\n".join(found), namespace)
    assert check_metadata_only(namespace["metadata_only"]).ok
    assert check_safe_not_null_order(namespace["safe_order"]).ok


@pytest.mark.parametrize(
    "answer, hint",
    [(None, "as a list"), ("a, c", "as a list"), ([], "empty"), (["a"], "c is catalogue only"), (["a", "b"], "not b"),
     (["a", "c", "d"], "not d"), (["z"], "not among"), ([1], "in quotes"), (["A", " c "], "touch no row")],
)
def test_metadata_only_answers(answer, hint):
    result = check_metadata_only(answer)
    assert hint in result.message and result.ok == (hint == "touch no row")


@pytest.mark.parametrize(
    "answer, hint",
    [(None, "as a list"), (["c", "b", "a"], "exactly once"), (["b", "c", "a", "d"], "start with the constraint"),
     (["c", "a", "b", "d"], "NULL warehouse"), (["c", "b", "d", "a"], "drop the CHECK last"), (["c", "b", "a", "d"],
     "weaker lock")],
)
def test_safe_order_answers(answer, hint):
    result = check_safe_not_null_order(answer)
    assert hint in result.message and result.ok == (hint == "weaker lock")


def test_every_set_not_null_in_the_lesson_is_on_a_nullable_column():
    # SET NOT NULL on a column that is NOT NULL already shows nothing (lesson 15 once did, with country).
    text_of_lesson = "\n".join(cell.source for cell in nbformat.read(LESSON_11, as_version=4).cells)
    targets = set(re.findall(r"ALTER COLUMN (\w+) SET NOT NULL", text_of_lesson))
    assert targets, "the lesson makes no column NOT NULL"
    declared_not_null = set(re.findall(r"(\w+) \w+ NOT NULL", CREATE_ORDERS))
    assert declared_not_null >= {"customer_id", "country"}
    assert not targets & declared_not_null, f"already NOT NULL in CREATE_ORDERS: {targets & declared_not_null}"
