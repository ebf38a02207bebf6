"""Lesson 21's exercises: the solutions pass, wrong answers get the hint for their own mistake, and exercise 2's
answer key is what a real PostgreSQL server does (the course's own, started by the test session)."""

import os

import pytest
from sqlalchemy import create_engine, text

from coursekit.exercises import lesson21
from coursekit.exercises.lesson21 import UPDATABLE, WHY, check_auto_updatable, check_delete_trigger, renamed_engine
from coursekit.order_steps import CREATE_ORDERS
from coursekit.pgserver import postgres_url
from tests.conftest import REPO
from tests.never_crash import row, unrelated
from tests.test_exercises import solutions

LESSON_21 = REPO / "notebooks" / "21-rename-a-table-behind-a-view.ipynb"


def lesson_21_answers():
    first, second = solutions(LESSON_21)
    namespace = {"text": text}
    exec(first + second, namespace)
    return namespace


def test_lesson_21_solutions_pass_their_checks():
    answers = lesson_21_answers()
    assert check_delete_trigger(answers["make_deletable"]).ok
    assert check_auto_updatable(answers["updatable"]).ok


def delete_trigger(body, when="INSTEAD OF DELETE ON orders", name="orders_delete"):
    def make_deletable(conn):
        conn.execute(text(f"CREATE TRIGGER {name} {when} BEGIN {body}; END"))
    return make_deletable


RIGHT_BODY = "DELETE FROM purchases WHERE order_id = OLD.order_id"
uses_new = delete_trigger("DELETE FROM purchases WHERE order_id = NEW.order_id")
deletes_everything = delete_trigger("DELETE FROM purchases")
deletes_nothing = delete_trigger("SELECT 1")
after_delete = delete_trigger(RIGHT_BODY, when="AFTER DELETE ON orders")
on_the_table = delete_trigger(RIGHT_BODY, when="INSTEAD OF DELETE ON purchases")
instead_of_update = delete_trigger(RIGHT_BODY, when="INSTEAD OF UPDATE ON orders")
taken_name = delete_trigger(RIGHT_BODY, name="orders_insert")


def right_but_drops_the_insert_trigger(conn):
    delete_trigger(RIGHT_BODY)(conn)
    conn.execute(text("DROP TRIGGER orders_insert"))


def right_but_breaks_the_update(conn):
    delete_trigger(RIGHT_BODY)(conn)
    conn.execute(text("DROP TRIGGER orders_update"))
    conn.execute(text("CREATE TRIGGER orders_update INSTEAD OF UPDATE ON orders BEGIN SELECT 1; END"))


@pytest.mark.parametrize("answer, hint", [
    (None, "define a function `make_deletable(conn)`"),
    (lambda conn: None, "No trigger took the DELETE"),
    (uses_new, "in a DELETE trigger the row being deleted is OLD"),
    (deletes_everything, "purchases lost 10 of its 10 rows"),
    (deletes_nothing, "it is still in purchases"),
    (after_delete, "A view takes only INSTEAD OF triggers"),
    (on_the_table, "INSTEAD OF triggers go on the view"),
    (instead_of_update, "No trigger took the DELETE"),
    (taken_name, "trigger orders_insert already exists"),
    (right_but_drops_the_insert_trigger, "now shop v1's insert or update fails"),
    (right_but_breaks_the_update, "no longer reaches purchases"),
])
def test_wrong_delete_triggers_get_their_hint(answer, hint):
    result = check_delete_trigger(answer)
    assert not result.ok and hint in result.message, result.message


def test_a_multi_row_delete_through_the_right_trigger_removes_exactly_those_orders():
    engine = renamed_engine()
    with engine.begin() as conn:
        delete_trigger(RIGHT_BODY)(conn)
        german = conn.execute(text("SELECT order_id FROM purchases WHERE country = 'DE' ORDER BY 1")).scalars().all()
        before = conn.execute(text("SELECT count(*) FROM purchases")).scalar_one()
        conn.execute(text("DELETE FROM orders WHERE country = 'DE'"))
        after = conn.execute(text("SELECT count(*) FROM purchases")).scalar_one()
    assert german and after == before - len(german)


def test_the_scratch_shops_insert_trigger_gives_back_the_default():
    with renamed_engine().begin() as conn:
        conn.execute(text("INSERT INTO orders (order_id, customer_id, country, ordered_at, amount) "
                          "VALUES ('N-1', 'C-1', 'DE', '2026-01-12', 1.0)"))
        assert conn.execute(text("SELECT status FROM purchases WHERE order_id = 'N-1'")).scalar_one() == "pending"


@pytest.mark.parametrize("answer, hint", [
    (["a", "b", "d", "c"], "not c: it selects from two tables"),
    (["a", "b", "d", "e"], "not e: LIMIT"),
    (["a", "d"], "b is updatable too"),
    (["a", "b"], "d is updatable too"),
    (["A", " b", "D "], "a, b and d each select from one table"),
    ("a, b, d", "give `updatable` as a list of letters"),
    ([], "the list is empty"),
    (["f"], "not among the letters a to e"),
    ([1, 2], "each letter goes in quotes"),
])
def test_exercise_2_answers(answer, hint):
    result = check_auto_updatable(answer)
    assert hint in result.message and result.ok == hint.startswith("a, b and d"), result.message


QUIZ_VIEWS = {  # exercise 2's five views, as the lesson lists them
    "a": "SELECT order_id, amount FROM purchases",
    "b": "SELECT * FROM purchases WHERE country = 'DE'",
    "c": "SELECT p.order_id, p.amount, cu.name FROM purchases p JOIN customers AS cu USING (customer_id)",
    "d": "SELECT order_id, amount, amount * 100 AS amount_cents FROM purchases",
    "e": "SELECT order_id, amount FROM purchases ORDER BY ordered_at DESC LIMIT 100",
}


def test_the_quiz_lists_the_lessons_views():
    source = LESSON_21.read_text(encoding="utf-8")
    for letter, select in QUIZ_VIEWS.items():
        assert f"CREATE VIEW {letter} AS {select}" in source, letter
    assert set(QUIZ_VIEWS) == set(WHY)


@pytest.mark.server
def test_the_answer_key_is_what_postgresql_does():
    """Each view of exercise 2 on a real server: PostgreSQL runs the UPDATE of a German order through a, b and d
    by itself, refuses c and e, and refuses d's computed column (as the check's reasons say)."""
    schema = f"lesson21_quiz_{os.getpid()}"
    url = postgres_url()
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    pg = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        with pg.begin() as conn:
            conn.execute(text(CREATE_ORDERS.replace("CREATE TABLE orders", "CREATE TABLE purchases")))
            conn.execute(text("CREATE TABLE customers (customer_id TEXT PRIMARY KEY, name TEXT)"))
            conn.execute(text("INSERT INTO customers VALUES ('C-000017', 'Ada')"))
            conn.execute(text("INSERT INTO purchases (order_id, customer_id, country, ordered_at, amount) "
                              "VALUES ('ORD-0000004', 'C-000017', 'DE', '2025-01-02', 146.12)"))
            for letter, select in QUIZ_VIEWS.items():
                conn.execute(text(f"CREATE VIEW {letter} AS {select}"))
        updated, refused = set(), {}
        for letter in QUIZ_VIEWS:
            with pg.connect() as conn:
                try:
                    count = conn.execute(text(f"UPDATE {letter} SET amount = 1 WHERE order_id = 'ORD-0000004'"))
                    assert count.rowcount == 1, letter
                    updated.add(letter)
                except Exception as error:  # noqa: BLE001 - the server's refusal is what is tested
                    refused[letter] = str(getattr(error, "orig", error))
                conn.rollback()
        assert updated == UPDATABLE, refused
        assert "cannot update view" in refused["c"] and "single table" in refused["c"]
        assert "cannot update view" in refused["e"] and "LIMIT" in refused["e"]
        assert all("INSTEAD OF UPDATE trigger" in refused[letter] for letter in "ce"), refused  # the HINT
        with pg.connect() as conn, pytest.raises(Exception, match="cannot update column \"amount_cents\""):
            conn.execute(text("UPDATE d SET amount_cents = 1 WHERE order_id = 'ORD-0000004'"))
        for refusing in ("SELECT DISTINCT order_id, amount FROM purchases",  # the others e's reason names
                         "SELECT order_id, amount FROM purchases OFFSET 1",
                         "SELECT order_id, amount FROM purchases UNION ALL SELECT order_id, amount FROM purchases",
                         "SELECT customer_id AS order_id, sum(amount) AS amount FROM purchases GROUP BY 1"):
            with pg.connect() as conn, pytest.raises(Exception, match="cannot update view"):
                conn.execute(text(f"CREATE VIEW f AS {refusing}"))
                conn.execute(text("UPDATE f SET amount = 1 WHERE order_id = 'ORD-0000004'"))
    finally:
        pg.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


DELETE_HINTS = ["row being deleted is OLD", "No trigger took", "INSTEAD OF triggers go", "A view takes only"]
NEVER_CRASH = [
    *unrelated(lesson21.check_delete_trigger, "conn", DELETE_HINTS),
    row(lesson21.check_delete_trigger, uses_new, ["no such column: NEW.order_id", "the row being deleted is OLD"],
        ["No trigger took", "INSTEAD OF triggers go"], name="NEW in a DELETE trigger"),
    row(lesson21.check_delete_trigger, after_delete, ["cannot create AFTER trigger on view",
                                                      "A view takes only INSTEAD OF triggers"],
        ["row being deleted is OLD", "INSTEAD OF triggers go"], name="AFTER trigger on the view"),
    row(lesson21.check_delete_trigger, deletes_everything, ["purchases lost 10 of its 10 rows"],
        ["the database refused", "No trigger took"], name="DELETE without WHERE"),
    row(lesson21.check_delete_trigger, lambda conn: conn.execute(text("DROP VIEW orders")),
        ["no such table: orders"], ["No trigger took", "row being deleted is OLD"], name="the view dropped"),
    row(lesson21.check_auto_updatable, ["a", "c"], ["not c: it selects from two tables"], ["updatable too"]),
    row(lesson21.check_auto_updatable, ["a", "b"], ["d is updatable too", "computed column"], ["not "]),
    row(lesson21.check_auto_updatable, "abd", ["give `updatable` as a list of letters"], ["not a", "updatable too"]),
    row(lesson21.check_auto_updatable, [None], ["each letter goes in quotes"], ["not among"]),
]
