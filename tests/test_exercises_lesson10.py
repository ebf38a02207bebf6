"""Lesson 10's exercise checks: the solutions pass, wrong answers get a hint (exercise 3 needs PostgreSQL)."""

import nbformat
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from coursekit.exercises.lesson10 import check_metadata_only, check_safe_not_null_order, check_try_migration
from tests.conftest import REPO
from tests.servers import POSTGRES_URL, unreachable
from tests.test_exercises import solutions

LESSON_10 = REPO / "notebooks" / "10-migrating-a-live-server.ipynb"
needs_postgres = pytest.mark.skipif(bool(unreachable(POSTGRES_URL)), reason=unreachable(POSTGRES_URL) or "")


def solution_namespace():
    namespace = {"text": text, "DBAPIError": DBAPIError}  # what the notebook has imported by then
    exec("\n".join(solutions(LESSON_10)), namespace)
    return namespace


def test_lesson_10_has_three_solutions():
    assert len(solutions(LESSON_10)) == 3


def test_lesson_10_solutions_pass_their_checks():
    namespace = solution_namespace()
    assert check_metadata_only(namespace["metadata_only"]).ok
    assert check_safe_not_null_order(namespace["safe_order"]).ok


@pytest.mark.server
@needs_postgres
def test_exercise_3_solution_passes():
    verdict = check_try_migration(solution_namespace()["try_migration"])
    assert verdict.ok, verdict.message


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


def without_timeout(engine, sql):
    try:
        with engine.begin() as conn:
            conn.execute(text(sql))
        return "done"
    except DBAPIError as error:
        if error.orig.sqlstate == "55P03":
            return "busy"
        raise


def waits_forever(engine, sql):
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL lock_timeout = 0"))
        conn.execute(text(sql))
    return "done"


def lets_the_timeout_escape(engine, sql):
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL lock_timeout = '200ms'"))
        conn.execute(text(sql))
    return "done"


def busy_on_every_error(engine, sql):
    try:
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL lock_timeout = '200ms'"))
            conn.execute(text(sql))
        return "done"
    except DBAPIError:
        return "busy"


def never_commits(engine, sql):
    try:
        with engine.connect() as conn:
            conn.execute(text("SET LOCAL lock_timeout = '200ms'"))
            conn.execute(text(sql))
        return "done"
    except DBAPIError as error:
        if error.orig.sqlstate == "55P03":
            return "busy"
        raise


@pytest.mark.server
@needs_postgres
@pytest.mark.parametrize(
    "answer, hint",
    [(without_timeout, "your function waited"), (waits_forever, "your function waited"),
     (lets_the_timeout_escape, "escaped"), (busy_on_every_error, "should raise"), (never_commits, "committed"),
     (lambda engine, sql: "busy", "'done'"), (lambda engine, sql: None, "returned None")],
)
def test_exercise_3_wrong_answers_get_a_hint(answer, hint):
    verdict = check_try_migration(answer)
    assert not verdict.ok and hint in verdict.message, verdict.message


@pytest.mark.parametrize("answer", [None, "try_migration", 42])
def test_exercise_3_needs_a_function_and_no_server_to_say_so(answer):
    verdict = check_try_migration(answer)
    assert not verdict.ok and "define a function" in verdict.message


def test_exercise_3_without_a_server_says_how_to_get_one(monkeypatch):
    monkeypatch.setenv("POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:1/test")  # nothing listens on port 1
    verdict = check_try_migration(lambda engine, sql: "done")
    assert not verdict.ok and "no PostgreSQL server" in verdict.message and "first cell" in verdict.message
