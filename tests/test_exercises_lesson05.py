"""Lesson 05's exercises: the solutions pass their checks, and the wrong answers a learner gives get a fitting hint."""

import pytest

from coursekit.exercises.lesson05 import REBUILD_STEPS, check_items_rebuild, check_rebuild_order
from tests.conftest import REPO
from tests.test_exercises import solutions
from tests.test_exercises_lesson04 import task_items

LESSON_05 = REPO / "notebooks" / "05-sqlite-table-rebuild.ipynb"
BY_THE_BOOK = list("iehbgdjfac")


def test_lesson_05_solutions_pass_their_checks():
    first, second = solutions(LESSON_05)
    namespace = {}
    exec(first + second, namespace)
    assert check_rebuild_order(namespace["steps"]).ok
    assert check_items_rebuild(namespace["rebuild_items"]).ok


def test_the_check_and_the_index_may_swap():
    assert check_rebuild_order(list("iehbgdfjac")).ok


@pytest.mark.parametrize(
    "answer, hint",
    [(None, "give a list of letters"), ("iehbgdjfac", "give a list of letters"), ([], "the list is empty"),
     ([9], "in quotes"), ([*BY_THE_BOOK, "k"], "'k' is not one of the steps"), (["a"] * 10, "a appears 10 times"),
     (BY_THE_BOOK[:-1], "step c (`PRAGMA foreign_keys = ON`) is missing"),
     (list("eihbgdjfac"), "4 of 4 order items were deleted: foreign keys were on when DROP TABLE orders ran: "
                          "PRAGMA foreign_keys = OFF inside a transaction does nothing"),
     (list("ehbgdjfaci"), "switch them off (i) first"),
     (list("iehbgjdfac"), "step j (`CREATE INDEX ix_orders_customer ON orders (customer_id)`) failed: SQLite says "
                          "no such table: main.orders"),
     (list("iehbdgjfac"), "there is already another table or index with this name: orders"),
     (list("iebhgdjfac"), "step b (`INSERT INTO new_orders SELECT * FROM orders`) failed: SQLite says no such table"),
     (list("iehbgdjfca"), "foreign keys are off at the end: PRAGMA foreign_keys = ON (c) comes last, after COMMIT; "
                          "inside a transaction"),
     (list("ciehbgdjfa"), "it ran before PRAGMA foreign_keys = OFF"),
     (list("iehbgdjafc"), "ran after COMMIT, too late to roll back"),
     (list("iehfbgdjac"), "ran before the rows were copied"),
     (list("ihbgdejfac"), "h, b, g, d ran before BEGIN, outside the transaction")],
)
def test_wrong_orders_get_a_hint(answer, hint):
    result = check_rebuild_order(answer)
    assert not result.ok and hint in result.message, result.message


def naive_drop_with_foreign_keys_on(conn):
    conn.exec_driver_sql("BEGIN")
    conn.exec_driver_sql("CREATE TABLE new_items (item_id INTEGER PRIMARY KEY, order_id TEXT NOT NULL"
                         " REFERENCES orders, sku TEXT NOT NULL, quantity INTEGER NOT NULL CHECK (quantity > 0))")
    conn.exec_driver_sql("INSERT INTO new_items SELECT * FROM order_items WHERE quantity > 1")
    conn.exec_driver_sql("DROP TABLE order_items")
    conn.exec_driver_sql("ALTER TABLE new_items RENAME TO order_items")
    conn.exec_driver_sql("COMMIT")


def forgets_commit(conn):
    conn.exec_driver_sql("BEGIN")


def no_check(conn):
    conn.exec_driver_sql("SELECT 1")


def leaves_foreign_keys_off(conn):
    conn.exec_driver_sql("PRAGMA foreign_keys = OFF")


def drops_the_table(conn):
    conn.exec_driver_sql("DROP TABLE order_items")


NEW_ITEMS = ("CREATE TABLE {} (item_id INTEGER PRIMARY KEY, order_id TEXT NOT NULL REFERENCES orders"
             " ON DELETE CASCADE, sku TEXT NOT NULL, quantity INTEGER NOT NULL CHECK (quantity > 0))")


def full_copy_with_foreign_keys_on(conn):
    conn.exec_driver_sql("BEGIN")
    conn.exec_driver_sql(NEW_ITEMS.format("new_items"))
    conn.exec_driver_sql("INSERT INTO new_items SELECT * FROM order_items")
    conn.exec_driver_sql("DROP TABLE order_items")
    conn.exec_driver_sql("ALTER TABLE new_items RENAME TO order_items")
    conn.exec_driver_sql("COMMIT")


def renames_the_old_table_first(conn, old_name="old_items"):
    conn.exec_driver_sql("PRAGMA foreign_keys = OFF")
    conn.exec_driver_sql("BEGIN")
    conn.exec_driver_sql(f"ALTER TABLE order_items RENAME TO {old_name}")
    conn.exec_driver_sql(NEW_ITEMS.format("order_items"))
    conn.exec_driver_sql(f"INSERT INTO order_items SELECT * FROM {old_name}")
    conn.exec_driver_sql(f"DROP TABLE {old_name}")
    conn.exec_driver_sql("COMMIT")
    conn.exec_driver_sql("PRAGMA foreign_keys = ON")


def renames_to_a_name_that_starts_alike(conn):
    renames_the_old_table_first(conn, old_name="order_items_old")


def loses_the_reference(conn):
    conn.exec_driver_sql("PRAGMA foreign_keys = OFF")
    conn.exec_driver_sql("BEGIN")
    conn.exec_driver_sql("CREATE TABLE new_items (item_id INTEGER PRIMARY KEY, order_id TEXT NOT NULL,"
                         " sku TEXT NOT NULL, quantity INTEGER NOT NULL CHECK (quantity > 0))")
    conn.exec_driver_sql("INSERT INTO new_items SELECT * FROM order_items")
    conn.exec_driver_sql("DROP TABLE order_items")
    conn.exec_driver_sql("ALTER TABLE new_items RENAME TO order_items")
    conn.exec_driver_sql("COMMIT")
    conn.exec_driver_sql("PRAGMA foreign_keys = ON")


@pytest.mark.parametrize(
    "answer, hint",
    [(None, "define a function"), (lambda conn: 1 / 0, "ZeroDivisionError"), (forgets_commit, "still open"),
     (no_check, "quantity of 0 was accepted"), (leaves_foreign_keys_off, "still off"),
     (drops_the_table, "no order_items"), (naive_drop_with_foreign_keys_on, "held 3 items"),
     (loses_the_reference, "no longer references"), (full_copy_with_foreign_keys_on, "2 notes and now holds 0"),
     (renames_the_old_table_first, "REFERENCES old_items"),
     (renames_to_a_name_that_starts_alike, "REFERENCES order_items_old")],
)
def test_wrong_rebuilds_get_a_hint(answer, hint):
    result = check_items_rebuild(answer)
    assert not result.ok and hint in result.message, result.message


def test_the_task_lists_the_steps_the_check_runs():
    items = task_items(LESSON_05, "### Exercise 1")
    assert set(items) == set(REBUILD_STEPS)
    for letter, fragment in items.items():
        assert fragment.replace(" (…)", "") in REBUILD_STEPS[letter], (letter, fragment)
