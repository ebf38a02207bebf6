import math

import pandas as pd
import pytest

from coursekit.exercises.lesson14 import check_linear_operations, check_throughput
from tests.conftest import REPO
from tests.test_exercises import solutions

LESSON_09 = REPO / "notebooks" / "14-cost-versus-table-size.ipynb"
TIMINGS = pd.DataFrame(
    {"add a column": [0.0002, 0.0003], "backfill, one statement": [0.001, 0.8]}, index=pd.Index([1_000, 1_000_000])
)


def test_lesson_09_solutions_pass_their_checks():
    first, second = solutions(LESSON_09)
    namespace = {"timings": TIMINGS}
    exec(first + second, namespace)
    assert check_linear_operations(namespace["linear_operations"]).ok
    assert check_throughput(namespace["rows_per_second"], TIMINGS).ok


@pytest.mark.parametrize(
    "answer, hint",
    [(None, "give a list"), ("table rebuild", "give a list"), ([], "empty"), (["add a column"], "O(1)"),
     (["table rebuild"], "missing"), (["rebuild!"], "not operation names"), ([1, 2], "in quotes")],
)
def test_wrong_operation_lists_get_a_hint(answer, hint):
    result = check_linear_operations(answer)
    assert not result.ok and hint in result.message


@pytest.mark.parametrize(
    "answer, timings, hint",
    [(None, TIMINGS, "should be a number"), ("1e6", TIMINGS, "should be a number"), (True, TIMINGS, "a number"),
     (1_250_000.0, None, "run the measurement cell"), (1.0, pd.DataFrame(), "run the measurement cell"),
     (-5, TIMINGS, "positive"), (math.nan, TIMINGS, "positive"), (0.8 / 1_000_000, TIMINGS, "seconds per row"),
     (1_000 / 0.001, TIMINGS, "largest size")],
)
def test_wrong_throughputs_get_a_hint(answer, timings, hint):
    result = check_throughput(answer, timings)
    assert not result.ok and hint in result.message
