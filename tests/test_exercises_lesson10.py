import nbformat
import pytest

from coursekit.exercises.lesson10 import check_metadata_only, check_safe_not_null_order
from tests.conftest import REPO
from tests.test_exercises import solutions

LESSON_10 = REPO / "notebooks" / "10-migrating-a-live-server.ipynb"


def test_lesson_10_solutions_pass_their_checks():
    first, second = solutions(LESSON_10)
    namespace = {}
    exec(first + second, namespace)
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
     (["c", "a", "b", "d"], "validate before"), (["c", "b", "d", "a"], "drop the CHECK last"), (["c", "b", "a", "d"],
     "weaker lock")],
)
def test_safe_order_answers(answer, hint):
    result = check_safe_not_null_order(answer)
    assert hint in result.message and result.ok == (hint == "weaker lock")


def test_first_cell_says_how_to_start_a_missing_server(monkeypatch):
    first_cell = next(cell.source for cell in nbformat.read(LESSON_10, as_version=4).cells if cell.cell_type == "code")
    monkeypatch.setenv("POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:1/test")  # nothing listens on port 1
    with pytest.raises(RuntimeError) as raised:
        exec(first_cell, {})
    message = str(raised.value)
    assert message.startswith("No answer from PostgreSQL")
    assert "pg_ctlcluster --skip-systemctl-redirect" in message and "start-stop-daemon --start" in message
