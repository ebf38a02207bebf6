import sqlite3

import pytest

from coursekit.exercises.lesson04 import check_alter_abilities, check_items_rebuild, directly_possible
from tests.conftest import REPO
from tests.test_exercises import solutions

LESSON_03 = REPO / "notebooks" / "04-sqlite-alter-table-and-rebuild.ipynb"


def test_lesson_03_solutions_pass_their_checks():
    first, second = solutions(LESSON_03)
    namespace = {}
    exec(first + second, namespace)
    assert check_alter_abilities(namespace["direct"]).ok
    assert check_items_rebuild(namespace["rebuild_items"]).ok


def test_the_truth_comes_from_sqlite_itself():
    # SQLite 3.53 added ALTER TABLE ... ADD CONSTRAINT ... CHECK (statement d)
    expected = {"a", "c", "e"} | ({"d"} if sqlite3.sqlite_version_info >= (3, 53) else set())
    assert directly_possible() == expected


@pytest.mark.parametrize(
    "answer, hint",
    [(None, "list of letters"), ("ace", "list of letters"), ([], "empty"), ([1], "in quotes"), (["z"], "a to f"),
     (["a", "b", "c", "e"], "refuses b"), (["a", "c"], "e works directly"), (["A", "c ", "e"], "rest needs")],
)
def test_alter_ability_answers(answer, hint):
    result = check_alter_abilities(answer)
    assert hint in result.message and result.ok == (hint == "rest needs")


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
