import ast

import nbformat
import pytest

from coursekit.exercises.lesson09 import check_backup_is_good, check_safe_migrate
from coursekit.migrations import enable_transactional_ddl
from tests.conftest import REPO
from tests.test_exercises import solutions

LESSON_09 = REPO / "notebooks" / "09-backups-and-restore.ipynb"


def lesson_namespace(path=LESSON_09):
    """A lesson's own imports and functions (backup, restore, ...), taken from its cells, as a learner has them."""
    namespace = {}
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code" or cell.source.startswith("%"):
            continue
        module = ast.parse(cell.source)
        module.body = [node for node in module.body if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef))]
        exec(compile(module, str(path), "exec"), namespace)
    return namespace


def test_lesson_09_solutions_pass_their_checks():
    first, second = solutions(LESSON_09)
    namespace = lesson_namespace()
    exec(first + second, namespace)
    assert check_safe_migrate(namespace["safe_migrate"]).ok
    assert check_backup_is_good(namespace["backup_is_good"]).ok


def migrate_without_snapshot(engine, steps):
    try:
        for step in steps:
            with engine.begin() as conn:
                conn.exec_driver_sql(step)
    except Exception:
        return False
    return True


def migrate_in_one_transaction(engine, steps):
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("BEGIN")
        try:
            for step in steps:
                conn.exec_driver_sql(step)
        except Exception:
            conn.exec_driver_sql("ROLLBACK")
            return False
        conn.exec_driver_sql("COMMIT")
    return True


def migrate_step_by_step(engine, steps, real_transactions=False):
    """Snapshot, then one `engine.begin()` block per step: the lesson's runner, with a restore."""
    namespace = lesson_namespace()
    snapshot = namespace["make_engine"]("sqlite:///:memory:")
    namespace["backup"](engine, snapshot)
    if real_transactions:
        enable_transactional_ddl(engine)  # BEGIN before every step, VACUUM included
    try:
        for step in steps:
            with engine.begin() as conn:
                conn.exec_driver_sql(step)
    except Exception:
        namespace["backup"](snapshot, engine)
        return False
    return True


def test_a_begin_block_per_step_passes_only_because_sqlite3_sends_no_begin_before_vacuum():
    """What the solution's note says: passes with a plain engine, fails on VACUUM with real transactions."""
    assert check_safe_migrate(migrate_step_by_step).ok
    result = check_safe_migrate(lambda engine, steps: migrate_step_by_step(engine, steps, real_transactions=True))
    assert not result.ok and "AUTOCOMMIT" in result.message, result.message


def restores_but_says_true(engine, steps):
    namespace = lesson_namespace()
    snapshot = namespace["make_engine"]("sqlite:///:memory:")
    namespace["backup"](engine, snapshot)
    namespace["backup"](snapshot, engine)
    return True


@pytest.mark.parametrize(
    "answer, hint",
    [(None, "define a function"), (lambda engine, steps: 1 / 0, "ZeroDivisionError"),
     (lambda engine, steps: None, "returned None"),
     (lambda engine, steps: False, "yet you returned False: return True"),
     (migrate_without_snapshot, "not as before"), (migrate_in_one_transaction, "VACUUM"),
     (restores_but_says_true, "return False")],
)
def test_wrong_migrations_get_a_hint(answer, hint):
    result = check_safe_migrate(answer)
    assert not result.ok and hint in result.message, result.message


def says_yes_when_the_file_exists(path, engine):
    return path.exists()


def compares_counts_only(path, engine):
    namespace = lesson_namespace()
    try:
        with namespace["restore"](path).connect() as copy, engine.connect() as live:
            query = "SELECT count(*) FROM orders"
            return copy.exec_driver_sql(query).scalar_one() == live.exec_driver_sql(query).scalar_one()
    except Exception:
        return False


def raises_on_bad_files(path, engine):
    namespace = lesson_namespace()
    query = "SELECT * FROM orders ORDER BY order_id"
    with namespace["restore"](path).connect() as copy, engine.connect() as live:
        return copy.exec_driver_sql(query).all() == live.exec_driver_sql(query).all()


@pytest.mark.parametrize(
    "answer, hint",
    [(None, "define a function"), (lambda path, engine: None, "True or False"),
     (lambda path, engine: "yes", "True or False"), (lambda path, engine: False, "good.sqlite you returned False"),
     (says_yes_when_the_file_exists, "one-order-changed"), (compares_counts_only, "one-order-changed"),
     (raises_on_bad_files, "no such table: orders")],
)
def test_wrong_restore_tests_get_a_hint(answer, hint):
    result = check_backup_is_good(answer)
    assert not result.ok and hint in result.message, result.message
