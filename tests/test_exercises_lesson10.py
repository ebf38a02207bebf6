import ast

import nbformat
import pytest

from coursekit.dataset import COLUMNS
from coursekit.exercises.lesson10 import check_lost_by_restore, check_repair_amounts
from tests.conftest import REPO
from tests.test_exercises import solutions
from tests.test_exercises_lesson09 import LESSON_09, lesson_namespace

LESSON_10 = REPO / "notebooks" / "10-when-a-migration-succeeds-and-is-wrong.ipynb"


def test_lesson_10_solutions_pass_their_checks():
    first, second = solutions(LESSON_10)
    namespace = lesson_namespace(LESSON_10)
    exec(first + second, namespace)
    assert check_lost_by_restore(namespace["lost_by_restore"]).ok
    assert check_repair_amounts(namespace["repair_amounts"]).ok


def new_ids_only(snapshot, engine):
    query = "SELECT order_id FROM orders"
    with snapshot.connect() as old, engine.connect() as now:
        kept = set(old.exec_driver_sql(query).scalars())
        return sorted(set(now.exec_driver_sql(query).scalars()) - kept)


def every_column(snapshot, engine):
    with snapshot.connect() as old, engine.connect() as now:
        kept = {tuple(row) for row in old.exec_driver_sql("SELECT * FROM orders")}
        return sorted(row[0] for row in now.exec_driver_sql("SELECT * FROM orders") if tuple(row) not in kept)


def amount_cents_in_the_snapshot_too(snapshot, engine):
    with snapshot.connect() as old:
        old.exec_driver_sql("SELECT order_id, amount_cents FROM orders").all()
    return []


def how_many(snapshot, engine):
    return len(new_ids_only(snapshot, engine))


@pytest.mark.parametrize(
    "answer, hint",
    [(None, "define a function"), (lambda snapshot, engine: [], "12 orders taken since the snapshot"),
     (how_many, "a number"), (lambda snapshot, engine: "ORD-0000001", "a list of order ids"),
     (new_ids_only, "not the 5 old ones shipped or refunded"), (every_column, "you returned all 212 orders"),
     (amount_cents_in_the_snapshot_too, "no such column: amount_cents"),
     (lambda snapshot, engine: 1 / 0, "ZeroDivisionError")],
)
def test_wrong_counts_of_what_a_restore_loses_get_a_hint(answer, hint):
    result = check_lost_by_restore(answer)
    assert not result.ok and hint in result.message, result.message


def test_an_answer_with_an_unchanged_order_is_refused():
    exec(solutions(LESSON_10)[0], namespace := lesson_namespace(LESSON_10))
    added = []

    def one_too_many(snapshot, engine):
        right = namespace["lost_by_restore"](snapshot, engine)
        with snapshot.connect() as old:
            ids = old.exec_driver_sql("SELECT order_id FROM orders").scalars()
            added.append(next(order_id for order_id in ids if order_id not in right))
        return [*right, added[0]]

    result = check_lost_by_restore(one_too_many)
    assert not result.ok and f"{added[0]} is the same in the snapshot and in the shop" in result.message, result.message


def restore_the_snapshot(snapshot, engine):
    lesson_namespace(LESSON_10)["backup"](snapshot, engine)


def copy_whole_rows(snapshot, engine):
    with snapshot.connect() as old:
        rows = [(*row[1:], row[0]) for row in old.exec_driver_sql(f"SELECT {', '.join(COLUMNS)} FROM orders")]
    assignments = ", ".join(f"{column} = ?" for column in COLUMNS[1:])
    with engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE orders SET {assignments} WHERE order_id = ?", rows)


def amounts_by_subquery_on_the_shop(snapshot, engine):
    """Sets every order's amount, the new ones included, from a look-up that knows only the snapshot's orders."""
    with snapshot.connect() as old:
        amounts = dict(old.exec_driver_sql("SELECT order_id, amount FROM orders").all())
    with engine.begin() as conn:
        ids = conn.exec_driver_sql("SELECT order_id FROM orders").scalars().all()
        conn.exec_driver_sql("UPDATE orders SET amount = ? WHERE order_id = ?",
                             [(amounts.get(order_id), order_id) for order_id in ids])


def drops_the_table(snapshot, engine):
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE orders")


@pytest.mark.parametrize(
    "answer, hint",
    [(None, "define a function"), (lambda snapshot, engine: None, "197 orders are not right yet"),
     (restore_the_snapshot, "12 orders taken since the snapshot are gone"),
     (copy_whole_rows, "5 orders shipped or refunded since the snapshot are undone"),
     (amounts_by_subquery_on_the_shop, "its own, written after the snapshot,"),
     (drops_the_table, "no such table: orders"), (lambda snapshot, engine: 1 / 0, "ZeroDivisionError")],
)
def test_wrong_repairs_get_a_hint(answer, hint):
    result = check_repair_amounts(answer)
    assert not result.ok and hint in result.message, result.message


def lesson_functions(path):
    """A lesson's function definitions by name, docstrings left out, as ast dumps."""
    functions = {}
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code" or cell.source.startswith("%"):
            continue
        for node in ast.parse(cell.source).body:
            if isinstance(node, ast.FunctionDef):
                if ast.get_docstring(node) is not None:
                    node.body = node.body[1:]
                functions[node.name] = ast.dump(node)
    return functions


@pytest.mark.parametrize("name", ["build_shop", "state", "backup", "run_steps"])
def test_lesson_10s_set_up_brings_lesson_09s_functions_unchanged(name):
    assert lesson_functions(LESSON_10)[name] == lesson_functions(LESSON_09)[name]
