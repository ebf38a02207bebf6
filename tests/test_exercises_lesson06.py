import pytest

from coursekit.exercises.lesson06 import STATUS_RULE, check_batches_needed, check_remaining_query
from tests.conftest import REPO
from tests.test_exercises import solutions

LESSON_04 = REPO / "notebooks" / "06-backfill-in-batches.ipynb"


def test_lesson_04_solutions_pass_their_checks():
    first, second = solutions(LESSON_04)
    namespace = {"STATUS_RULE": STATUS_RULE}
    exec(first + second, namespace)
    assert check_remaining_query(namespace["remaining_sql"]).ok
    assert check_batches_needed(namespace["batches_needed"]).ok


@pytest.mark.parametrize(
    "answer, hint",
    [(None, "as a string"), ("   ", "as a string"), ("SELECT count(*) FROM nowhere", "no such table: nowhere"),
     ("SELECT count(*) FROM orders", "half-done backfill"),
     ("SELECT count(*) FROM orders WHERE status = 'pending'", "half-done backfill"),
     ("DELETE FROM orders", "returns no rows")],
)
def test_wrong_queries_get_a_hint(answer, hint):
    result = check_remaining_query(answer)
    assert not result.ok and hint in result.message, result.message


@pytest.mark.parametrize(
    "answer, hint",
    [(None, "define a function"), (lambda rows, size: rows // size, "batches_needed(1, 10) returned 0"),
     (lambda rows, size: rows // size + 1, "batches_needed(0, 10) returned 1"),
     (lambda rows, size: 1 / 0, "ZeroDivisionError"), (lambda rows, size: True, "returned True")],
)
def test_wrong_batch_counts_get_a_hint(answer, hint):
    result = check_batches_needed(answer)
    assert not result.ok and hint in result.message, result.message
