"""Lesson 02's checks: the solutions pass, and each wrong answer gets a verdict that names its own mistake."""

import nbformat
import pytest
from sqlalchemy import text

from coursekit.exercises.lesson02 import check_apply_steps, check_priority_step
from coursekit.migrations import Step
from tests.conftest import REPO
from tests.test_exercises import solutions

LESSON_02 = REPO / "notebooks" / "02-migration-steps-in-one-transaction.ipynb"
ADD = "ALTER TABLE orders ADD COLUMN priority INTEGER NOT NULL DEFAULT 0"
DROP = "ALTER TABLE orders DROP COLUMN priority"
# Hints that belong to other mistakes (the Migrator's own, for the lesson's database) must not be given here.
OTHER_MISTAKES = ("Run the cell that creates", "does not look like version", "Restart & Run All", "text()")


def lesson_cell(cell_id):
    """The source of one of the lesson's cells, by id."""
    return next(cell.source for cell in nbformat.read(LESSON_02, as_version=4).cells if cell.id == cell_id)


def lesson_namespace():
    """What the exercises can use: Step, text, and the lesson's own run_step."""
    namespace = {"Step": Step, "text": text}
    exec(lesson_cell("c005-loop"), namespace)
    return namespace


def test_lesson_02_solutions_pass_their_checks():
    first, second = solutions(LESSON_02)
    namespace = lesson_namespace()
    exec(first + second, namespace)
    assert check_priority_step(namespace["priority_step"]).ok
    assert check_apply_steps(namespace["apply_steps"]).ok


def test_the_placeholder_answers_are_not_yet_right():
    namespace = lesson_namespace()
    exec(lesson_cell("c046") + "\n" + lesson_cell("c051"), namespace)
    assert not check_priority_step(namespace["priority_step"]).ok
    assert not check_apply_steps(namespace["apply_steps"]).ok


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


run_step = lesson_namespace()["run_step"]


def one_transaction_for_all(engine, steps):
    with engine.begin() as conn:
        for version, statements in enumerate(steps, start=1):
            run_step(conn, statements, version)


def never_commits(engine, steps):
    with engine.connect() as conn:
        for version, statements in enumerate(steps, start=1):
            run_step(conn, statements, version)


def counts_from_zero(engine, steps):
    for version, statements in enumerate(steps):
        with engine.begin() as conn:
            run_step(conn, statements, version)


def stores_no_version(engine, steps):
    for statements in steps:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))


def one_transaction_a_statement(engine, steps):
    for version, statements in enumerate(steps, start=1):
        for statement in statements:
            with engine.begin() as conn:
                conn.execute(text(statement))
        with engine.begin() as conn:
            run_step(conn, [], version)


def swallows_the_failure(engine, steps):
    for version, statements in enumerate(steps, start=1):
        try:
            with engine.begin() as conn:
                run_step(conn, statements, version)
        except Exception:  # noqa: BLE001 - the mistake under test
            return


def skips_the_last_statement(engine, steps):
    for version, statements in enumerate(steps, start=1):
        with engine.begin() as conn:
            run_step(conn, statements[:-1] if version == 4 else statements, version)


def commits_each_step_itself(engine, steps):
    with engine.connect() as conn:
        for version, statements in enumerate(steps, start=1):
            run_step(conn, statements, version)
            conn.commit()


def test_committing_each_step_on_one_connection_is_right_too():
    assert check_apply_steps(commits_each_step_itself).ok


LOOP_HINTS = ("one transaction", "never committed", "no version was stored", "enumerate", "let the error through")


@pytest.mark.parametrize(
    "answer, must, must_not",
    [
        (None, ("should be a function", "NoneType"), LOOP_HINTS),
        (one_transaction_for_all, ("steps 1 and 2 were undone", "a transaction of its own"),
         ("never committed", "let the error through")),
        (never_commits, ("nothing stayed", "never committed"), ("undone", "let the error through")),
        (counts_from_zero, ("stored version is 3", "enumerate(steps, start=1)"), ("never committed",)),
        (stores_no_version, ("no version was stored", "run_step"), ("never committed",)),
        (one_transaction_a_statement, ("CREATE TABLE orders_new stayed", "one transaction"), ("undone",)),
        (swallows_the_failure, ("let the error through", "version 2"), ("undone", "orders_new")),
        (skips_the_last_statement, ("not the one the four steps make",), ("never committed",)),
    ],
    ids=["None", "one transaction for all", "never commits", "counts from 0", "no version", "a statement each",
         "swallows the failure", "skips a statement"],
)
def test_wrong_loops_get_the_hint_for_their_mistake(answer, must, must_not):
    result = check_apply_steps(answer)
    assert not result.ok, result.message
    assert all(word in result.message for word in must), result.message
    assert not any(word in result.message for word in must_not), result.message


def divides_by_zero(engine, steps):
    return 1 / 0


def raises_key_error(engine, steps):
    return {}["currency"]


def misspelled_sql(engine, steps):
    with engine.begin() as conn:
        conn.execute(text("ALTR TABLE orders ADD COLUMN x TEXT"))


def forgets_text(engine, steps):
    with engine.begin() as conn:
        conn.execute("ALTER TABLE orders ADD COLUMN x TEXT")


@pytest.mark.parametrize(
    "answer, must",
    [
        (divides_by_zero, ("ZeroDivisionError: division by zero", "`return 1 / 0`")),
        (raises_key_error, ("KeyError: 'currency'", "line")),
        (misspelled_sql, ("the database refused the SQL `ALTR TABLE orders ADD COLUMN x TEXT`", 'near "ALTR"')),
        (forgets_text, ("ObjectNotExecutableError", "takes SQL wrapped in text()")),
    ],
    ids=["1/0", "KeyError", "SQL syntax", "no text()"],
)
def test_an_unrelated_exception_in_the_loop_is_named_and_no_loop_hint_is_given(answer, must):
    result = check_apply_steps(answer)
    assert not result.ok, result.message
    assert all(word in result.message for word in must), result.message
    assert not any(hint in result.message for hint in LOOP_HINTS), result.message
