"""Lesson 18's exercises: the solutions pass their checks, the wrong answers a learner gives get a hint that names
them, and the lesson's own rebuild (``add_customer_key``, taken from the notebook) leaves the shop as it was when any
of its statements fails."""

import ast

import nbformat
import pytest
from sqlalchemy import text

from coursekit.customers import load_customers
from coursekit.dataset import COLUMNS, insert_orders, read_orders_csv
from coursekit.exercises.lesson18 import ORPHANS, check_fix_and_constrain, check_orphans_query
from coursekit.order_steps import CREATE_ORDERS
from coursekit.verify import table_fingerprint
from tests.conftest import REPO
from tests.never_crash import row, unrelated
from tests.test_exercises import solutions

LESSON_18 = REPO / "notebooks" / "18-a-foreign-key-to-data-that-breaks-it.ipynb"
FROM_THE_LESSON = {"NEW_ORDERS", "add_customer_key"}  # what exercise 2's solution may use


def lesson_definitions() -> dict:
    """NEW_ORDERS and add_customer_key as the notebook's cells define them (only those statements are run)."""
    nodes = []
    for cell in nbformat.read(LESSON_18, as_version=4).cells:
        if cell.cell_type != "code" or cell.source.lstrip().startswith("%"):
            continue
        for node in ast.parse(cell.source).body:
            names = {node.name} if isinstance(node, ast.FunctionDef) else {
                target.id for target in getattr(node, "targets", []) if isinstance(target, ast.Name)}
            if names & FROM_THE_LESSON:
                nodes.append(node)
    namespace = {}
    exec(compile(ast.Module(body=nodes, type_ignores=[]), str(LESSON_18), "exec"), namespace)
    assert FROM_THE_LESSON <= set(namespace), "the lesson no longer defines NEW_ORDERS and add_customer_key"
    return namespace


LESSON = lesson_definitions()
NEW_ORDERS, add_customer_key = LESSON["NEW_ORDERS"], LESSON["add_customer_key"]


def test_lesson_18_solutions_pass_their_checks():
    first, second = solutions(LESSON_18)
    namespace = dict(LESSON)
    exec(first + second, namespace)
    assert check_orphans_query(namespace["orphans_sql"]).ok
    assert check_fix_and_constrain(namespace["fix_and_constrain"]).ok


# --- Exercise 1 -----------------------------------------------------------------------------------------------------

LEFT_JOIN = "SELECT o.order_id FROM orders o LEFT JOIN customers c ON c.customer_id = o.customer_id"
NOT_IN = "SELECT order_id FROM orders WHERE customer_id NOT IN (SELECT customer_id FROM customers)"


@pytest.mark.parametrize(
    "answer, hint",
    [(f"{LEFT_JOIN} WHERE c.customer_id IS NULL", "name customers that do not exist"),
     ("SELECT order_id FROM orders o WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.customer_id = o.customer_id)",
      "name customers that do not exist"),
     (NOT_IN[:-1] + " WHERE customer_id IS NOT NULL)", "name customers that do not exist"),
     (NOT_IN, "x NOT IN (a list holding a NULL) is never true"),
     (LEFT_JOIN, "your query also lists ORD-1, ORD-3, ORD-5, ORD-7: ORD-1 names C-1, who is a customer"),
     ("SELECT o.order_id FROM orders o JOIN customers c ON c.customer_id = o.customer_id", "also lists"),
     (f"{LEFT_JOIN} WHERE c.customer_id IS NULL AND o.customer_id = 'C-7'", "your query misses ORD-4: ORD-4 names C-8"),
     ("SELECT c.customer_id FROM customers c LEFT JOIN orders o ON o.customer_id = c.customer_id"
      " WHERE o.order_id IS NULL", "your query lists customer ids (C-4, None)"),
     (f"{LEFT_JOIN} JOIN orders again ON again.customer_id = o.customer_id WHERE c.customer_id IS NULL",
      "ORD-2 appears 2 times"),
     ("SELEC order_id FROM orders", 'near "SELEC": syntax error'),
     ("DELETE FROM orders", "returns no rows"),
     ("", "as a string"), (None, "as a string"), (42, "as a string")],
)
def test_orphans_query_answers(answer, hint):
    result = check_orphans_query(answer)
    assert hint in result.message, result.message
    assert result.ok == (hint == "name customers that do not exist"), result.message


def test_the_not_in_hint_is_only_for_not_in():
    message = check_orphans_query(f"{LEFT_JOIN} WHERE c.customer_id IS NULL AND 1 = 0").message
    assert "NOT IN" not in message and "misses ORD-2" in message


# --- Exercise 2 -----------------------------------------------------------------------------------------------------

ANTI_JOIN = "NOT EXISTS (SELECT 1 FROM customers c WHERE c.customer_id = o.customer_id)"
PLACEHOLDER = "INSERT INTO customers VALUES ('C-DELETED', 'Deleted customer', 'deleted@invalid', '2025-01-01')"
AUDIT = ("CREATE TABLE repointed_orders (order_id TEXT PRIMARY KEY, old_customer_id TEXT NOT NULL)",
         f"INSERT INTO repointed_orders SELECT o.order_id, o.customer_id FROM orders o WHERE {ANTI_JOIN}")
REPOINT = "UPDATE orders SET customer_id = 'C-DELETED' WHERE order_id IN (SELECT order_id FROM repointed_orders)"


def in_a_transaction(*statements):
    def answer(conn):
        conn.exec_driver_sql("BEGIN")
        for statement in statements:
            conn.exec_driver_sql(statement)
        conn.exec_driver_sql("COMMIT")
    return answer


def then_rebuild(fix):
    def answer(conn):
        fix(conn)
        add_customer_key(conn)
    return answer


def the_rebuild_written_out(conn):  # a right answer that does not use the lesson's function: one transaction
    conn.exec_driver_sql("PRAGMA foreign_keys = OFF")
    conn.exec_driver_sql("BEGIN")
    for statement in (*AUDIT, PLACEHOLDER, REPOINT, NEW_ORDERS, "INSERT INTO new_orders SELECT * FROM orders",
                      "DROP TABLE orders", "ALTER TABLE new_orders RENAME TO orders"):
        conn.exec_driver_sql(statement)
    assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    conn.exec_driver_sql("COMMIT")
    conn.exec_driver_sql("PRAGMA foreign_keys = ON")


def by_a_new_column(conn):  # ADD COLUMN ... REFERENCES, copied, the old column dropped: customer_id accepts NULL
    in_a_transaction(*AUDIT, PLACEHOLDER, REPOINT)(conn)
    for statement in ("ALTER TABLE orders ADD COLUMN customer_ref TEXT REFERENCES customers",
                      "UPDATE orders SET customer_ref = customer_id", "ALTER TABLE orders DROP COLUMN customer_id",
                      "ALTER TABLE orders RENAME COLUMN customer_ref TO customer_id"):
        conn.exec_driver_sql(statement)


def placeholder_per_id(conn):  # the lesson's own fix: right for the lesson, not what this exercise asks
    conn.exec_driver_sql("INSERT INTO customers SELECT o.customer_id, 'Deleted customer', 'deleted-' || "
                         f"o.customer_id || '@invalid', min(o.ordered_at) FROM orders o WHERE {ANTI_JOIN}"
                         " GROUP BY o.customer_id")
    add_customer_key(conn)


def leaves_foreign_keys_off(conn):
    then_rebuild(in_a_transaction(*AUDIT, PLACEHOLDER, REPOINT))(conn)
    conn.exec_driver_sql("PRAGMA foreign_keys = OFF")


def forgets_commit(conn):
    conn.exec_driver_sql("BEGIN")
    for statement in (*AUDIT, PLACEHOLDER, REPOINT):
        conn.exec_driver_sql(statement)


def closes_the_connection(conn):
    conn.close()


def rebuild_refused_by_its_own_check(conn):  # no fix at all: add_customer_key raises, and the check says so
    add_customer_key(conn)


RIGHT = "no order or value lost"
WRONG_FIXES = {
    "deletes the orphans": (then_rebuild(in_a_transaction(f"DELETE FROM orders AS o WHERE {ANTI_JOIN}")),
                            "3 of 7 orders are gone (ORD-2, ORD-4, ORD-6)"),
    "re-points every order": (then_rebuild(in_a_transaction(*AUDIT, PLACEHOLDER,
                                                            "UPDATE orders SET customer_id = 'C-DELETED'")),
                              "ORD-1 belonged to C-1, who exists, and now names 'C-DELETED'"),
    "no placeholder": (in_a_transaction(*AUDIT, REPOINT), "there is no customer C-DELETED"),
    "no audit": (then_rebuild(in_a_transaction(PLACEHOLDER, f"UPDATE orders AS o SET customer_id = 'C-DELETED'"
                                                            f" WHERE {ANTI_JOIN}")),
                 "there is no table repointed_orders"),
    "audit after the change": (then_rebuild(in_a_transaction(
        PLACEHOLDER, AUDIT[0], f"UPDATE orders AS o SET customer_id = 'C-DELETED' WHERE {ANTI_JOIN}",
        "INSERT INTO repointed_orders SELECT order_id, customer_id FROM orders WHERE customer_id = 'C-DELETED'")),
        "repointed_orders has no row ('ORD-2', 'C-7')"),
    "fix without the key": (in_a_transaction(*AUDIT, PLACEHOLDER, REPOINT), "no foreign key from customer_id"),
    "a new column": (by_a_new_column, "orders.customer_id now accepts NULL"),
    "a placeholder per id": (placeholder_per_id, "which you added as a customer of its own, as the lesson did"),
    "foreign keys left off": (leaves_foreign_keys_off, "foreign keys are off at the end"),
    "no COMMIT": (forgets_commit, "a transaction is still open"),
    "closes the connection": (closes_the_connection, "closed the connection"),
    "no fix, the rebuild refuses": (rebuild_refused_by_its_own_check,
                                    "your code raised RuntimeError: 3 broken references: rolled back"),
    "nothing": (lambda conn: None, "ORD-2 still names C-7, which no customer has"),
}


@pytest.mark.parametrize("answer, hint", WRONG_FIXES.values(), ids=WRONG_FIXES.keys())
def test_wrong_fixes_get_a_hint(answer, hint):
    result = check_fix_and_constrain(answer)
    assert not result.ok and hint in result.message, result.message


def test_the_rebuild_written_out_passes_too():
    result = check_fix_and_constrain(the_rebuild_written_out)
    assert result.ok and RIGHT in result.message, result.message


def test_the_orphans_of_the_check_are_those_of_its_shop():
    assert ORPHANS == {"ORD-2": "C-7", "ORD-4": "C-8", "ORD-6": "C-7"}


# --- The lesson's rebuild under faults --------------------------------------------------------------------------------

class FailsAt:
    """A connection whose ``number``-th statement raises ``error`` instead of running (the rest run as usual)."""

    def __init__(self, conn, number, error):
        self.conn, self.number, self.error, self.sent = conn, number, error, 0

    def exec_driver_sql(self, statement, *arguments):
        self.sent += 1
        if self.sent == self.number:
            raise self.error
        return self.conn.exec_driver_sql(statement, *arguments)


def fixed_shop():
    from coursekit.db import make_engine

    conn = make_engine("sqlite:///:memory:").connect().execution_options(isolation_level="AUTOCOMMIT")
    conn.exec_driver_sql("PRAGMA foreign_keys = ON")
    conn.exec_driver_sql("BEGIN")
    conn.exec_driver_sql(CREATE_ORDERS)
    insert_orders(conn, read_orders_csv())
    load_customers(conn)
    conn.execute(text("INSERT INTO customers SELECT DISTINCT o.customer_id, 'Deleted customer', 'x', '2025-01-01'"
                      f" FROM orders o WHERE {ANTI_JOIN}"))
    conn.exec_driver_sql("COMMIT")
    return conn


def shop_state(conn):
    return (table_fingerprint(conn, "orders", COLUMNS), conn.exec_driver_sql("PRAGMA foreign_key_list(orders)").all(),
            conn.exec_driver_sql("SELECT sql FROM sqlite_schema WHERE name = 'orders'").scalar_one())


# Statements 3 to 8: the rebuild's four, the foreign_key_check and the COMMIT, all inside the transaction.
@pytest.mark.parametrize("number", range(3, 9))
@pytest.mark.parametrize("error", [RuntimeError("a fault"), KeyboardInterrupt()], ids=["error", "interrupt"])
def test_a_fault_in_the_rebuild_leaves_the_shop_as_it_was(number, error):
    conn = fixed_shop()
    before = shop_state(conn)
    with pytest.raises(type(error)):
        add_customer_key(FailsAt(conn, number, error))
    assert shop_state(conn) == before
    assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
    assert not conn.connection.driver_connection.in_transaction
    add_customer_key(conn)  # and it can simply be run again
    assert shop_state(conn)[1] != before[1] and shop_state(conn)[0] == before[0]


def test_the_rebuild_without_a_fault_adds_the_key_and_keeps_every_order():
    conn = fixed_shop()
    before = shop_state(conn)
    add_customer_key(conn)
    fingerprint, keys, _ = shop_state(conn)
    assert fingerprint == before[0] and [(key[3], key[2]) for key in keys] == [("customer_id", "customers")]


# --- The never-crash table's rows for this lesson's checks ------------------------------------------------------------

FIX_HINTS = ["re-point", "repointed_orders", "foreign key", "transaction is still open", "closed the connection"]
NEVER_CRASH = [
    row(check_orphans_query, NOT_IN, ["NULL", "NOT EXISTS"], ["misses", "also lists"]),
    row(check_orphans_query, "SELEC order_id FROM orders", ['near "SELEC": syntax error'], ["NOT IN", "NULL"]),
    row(check_orphans_query, LEFT_JOIN, ["also lists", "IS NULL"], ["NOT IN", "misses"]),
    row(check_orphans_query, "DELETE FROM orders", ["returns no rows"], ["failed"]),
    *unrelated(check_fix_and_constrain, "conn", FIX_HINTS),
    row(check_fix_and_constrain, WRONG_FIXES["deletes the orphans"][0], ["are gone", "don't delete it"],
        ["repointed_orders", "foreign key"]),
    row(check_fix_and_constrain, by_a_new_column, ["accepts NULL", "rebuild keeps it"], ["re-point", "are gone"]),
    row(check_fix_and_constrain, forgets_commit, ["transaction is still open"], ["re-point", "foreign key"]),
    row(check_fix_and_constrain, closes_the_connection, ["closed the connection"], ["COMMIT"]),
]
