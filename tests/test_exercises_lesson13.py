import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from coursekit.exercises.lesson13 import check_constraint_test, check_default_test
from tests.conftest import REPO
from tests.test_exercises import solutions

LESSON_08 = REPO / "notebooks" / "13-testing-migrations.ipynb"


def test_lesson_08_solutions_pass_their_checks():
    first, second = solutions(LESSON_08)
    namespace = {"text": text, "IntegrityError": IntegrityError}
    exec(first + second, namespace)
    assert check_constraint_test(namespace["test_unknown_status_is_refused"]).ok
    assert check_default_test(namespace["test_new_orders_read_pending"]).ok


def passes_always(engine):
    pass


def fails_always(engine):
    raise AssertionError("always")


def refused_with_pytest_raises(engine):
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("INSERT INTO orders (order_id, customer_id, country, ordered_at, amount, status)"
                          " VALUES ('X', 'C', 'DE', '2025-01-01', 1.0, 'lost')"))


def refuses_a_known_status(engine):
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("UPDATE orders SET status = 'cancelled'"))


def crashes_on_the_good_database(engine):
    with engine.connect() as conn:
        conn.execute(text("SELECT nothing FROM orders"))


@pytest.mark.parametrize(
    "answer, hint",
    [
        (None, "define a test function"),
        (passes_always, "cannot catch that"),
        (fails_always, "your test failed"),
        (refuses_a_known_status, "your test failed"),
        (crashes_on_the_good_database, "your test stopped with an error"),
    ],
)
def test_wrong_constraint_tests_get_a_hint(answer, hint):
    result = check_constraint_test(answer)
    assert not result.ok and hint in result.message, result.message


def test_a_constraint_test_with_pytest_raises_is_right():
    assert check_constraint_test(refused_with_pytest_raises).ok


def no_nulls_only(engine):
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM orders WHERE status IS NULL")).scalar_one() == 0


def status_column_exists(engine):
    with engine.connect() as conn:
        conn.execute(text("SELECT status FROM orders"))


def new_order_not_null(engine):
    with engine.connect() as conn:
        conn.execute(text("INSERT INTO orders (order_id, customer_id, country, ordered_at, amount)"
                          " VALUES ('ORD-T', 'C', 'DE', '2025-01-01', 1.0)"))
        status = conn.execute(text("SELECT status FROM orders WHERE order_id = 'ORD-T'")).scalar_one()
        conn.rollback()
    assert status is not None


@pytest.mark.parametrize(
    "answer, hint",
    [
        (42, "define a test function"),
        (status_column_exists, "where status has no database default"),
        (no_nulls_only, "whose default is 'new'"),
        (new_order_not_null, "whose default is 'new'"),
        (fails_always, "your test failed"),
    ],
)
def test_wrong_default_tests_get_a_hint(answer, hint):
    result = check_default_test(answer)
    assert not result.ok and hint in result.message, result.message
