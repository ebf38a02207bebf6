"""Every exercise check answers a wrong answer with a verdict, never a traceback, and its hint fits the mistake made.

The first test feeds every check wrong answers of every kind. The table below it goes check by check: an answer,
the words its verdict must contain and the words it must not contain. Every check meets exceptions that have
nothing to do with its exercise (``1 / 0``, a KeyError, a SQL syntax error, SQL without ``text()``): the verdict
names that exception (its type and the line it came from, or the database's own words and the statement) and
none of the check's hints, which belong to other mistakes.
"""

import importlib
import inspect
import pkgutil
from pathlib import Path

import pandas as pd
import pytest
from alembic import command, op
from sqlalchemy import REAL, Column, MetaData, String, Table, Text, text

import coursekit.exercises
from coursekit.exercises import (
    Verdict,
    lesson01,
    lesson04,
    lesson05,
    lesson06,
    lesson07,
    lesson08,
    lesson09,
    lesson10,
    lesson11,
    lesson12,
    lesson13,
    lesson14,
    lesson15,
    lesson16,
)
from tests import test_exercises_lesson05 as answers_rebuild
from tests import test_exercises_lesson07 as answers05
from tests import test_exercises_lesson08 as answers08
from tests import test_exercises_lesson09 as answers06
from tests import test_exercises_lesson10 as answers10
from tests import test_exercises_lesson11 as answers11
from tests import test_exercises_lesson12 as answers12
from tests import test_exercises_lesson13 as answers13
from tests.never_crash import HERE, ON_POSTGRES, body_line, misspelled_sql_with_sqlite3, row, unrelated

THIS_FILE = "of test_checkers_never_crash.py"

NOT_MINE = {"lesson02", "lesson03"}  # their checks have their own tables in tests/test_exercises_lesson02.py and 03


def all_checks():
    for module_info in pkgutil.iter_modules(coursekit.exercises.__path__):
        module = importlib.import_module(f"coursekit.exercises.{module_info.name}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("check_") and function.__module__ == module.__name__:
                yield pytest.param(function, id=f"{module_info.name}.{name}")


def raises(*args, **kwargs):
    raise RuntimeError("a learner's function that fails")


def returns_none(*args, **kwargs):
    return None


WRONG_ANSWERS = {
    "None": None, "int": 42, "text": "text", "empty list": [], "empty dict": {}, "empty DataFrame": pd.DataFrame(),
    "wrong columns": pd.DataFrame({"x": [1, 2]}), "raising function": raises, "function returning None": returns_none,
    "nan": float("nan"), "bytes": b"\x00", "nested": [[None]],
}


def test_there_are_checks_to_try():
    assert len(list(all_checks())) >= 4


@pytest.mark.parametrize("check", list(all_checks()))
@pytest.mark.parametrize("answer", WRONG_ANSWERS.values(), ids=WRONG_ANSWERS.keys())
def test_a_wrong_answer_gets_a_verdict(check, answer):
    arguments = [answer] * len(inspect.signature(check).parameters)
    result = check(*arguments)
    assert isinstance(result, Verdict) and not result.ok and result.message


# --- Wrong answers whose hint must fit them, check by check ------------------------------------------------------

def drops_orders(conn):
    conn.execute(text("DROP TABLE orders"))


def adds_a_misspelled_column(conn):
    conn.execute(text("ALTER TABLE orders ADD COLUMN curency TEXT NOT NULL DEFAULT 'EUR'"))


def adds_a_nullable_column_without_default(conn):
    conn.execute(text("ALTER TABLE orders ADD COLUMN currency TEXT"))


def adds_the_column_and_deletes_the_orders(conn):
    conn.execute(text("ALTER TABLE orders ADD COLUMN currency TEXT NOT NULL DEFAULT 'EUR'"))
    conn.execute(text("DELETE FROM orders"))


def orders_table(*columns, name="orders"):
    return Table(name, MetaData(), Column("order_id", Text, primary_key=True), Column("amount", REAL), *columns)


LESSON_01 = [
    *unrelated(lesson01.check_add_currency_column, "conn", ["Did it execute the ALTER"]),
    row(lesson01.check_add_currency_column, drops_orders, ["there is no table `orders`"], ["Did it execute"]),
    row(lesson01.check_add_currency_column, adds_a_misspelled_column, ["none named `currency`", "'curency'"],
        ["Did it execute"]),
    row(lesson01.check_add_currency_column, adds_a_nullable_column_without_default,
        ["accepts NULL", "DEFAULT 'EUR'"], ["because the column has a default"]),
    row(lesson01.check_add_currency_column, adds_the_column_and_deletes_the_orders, ["holds 0"], ["should read"]),
    row(lesson01.check_server_default_table,
        orders_table(Column("status", String, server_default=text("'pending"))),
        ["creating your table failed", "unrecognized token"], ["text()", "plain SQL"]),
    row(lesson01.check_server_default_table,
        orders_table(Column("status", String, server_default="pending"), Column("customer", Text, nullable=False)),
        ["was refused", "NOT NULL constraint failed: orders.customer"], ["creating your table failed", "text()"]),
    row(lesson01.check_server_default_table, orders_table(Column("status", String, server_default="pending"),
                                                          name="shop"), ["named 'shop'"], ["text()"]),
]


def deletes_the_notes_itself(conn):
    conn.exec_driver_sql("DELETE FROM item_notes")


def refuses_every_new_item(conn):
    conn.exec_driver_sql("CREATE TRIGGER no_new_items BEFORE INSERT ON order_items BEGIN "
                         "SELECT RAISE(ABORT, 'no new items'); END")


REBUILD_HINTS = ["COMMIT", "ON DELETE CASCADE", "CHECK"]
LESSON_03 = [
    row(lesson04.check_alter_abilities, ["b"], ["SQLite refuses b"], ["works directly"]),
    row(lesson04.check_alter_abilities, ["a"], ["c works directly"], ["refuses"]),
    row(lesson04.check_alter_abilities, "a, c", ["give a list of letters"], ["refuses", "works directly"]),
    row(lesson04.check_channel_column, "ALTER TABLE orders ADD COLUMN channel TEXT NOT NULL DEFAULT 'web'",
        ["'fax' was accepted", "CHECK (channel IN"], ["NOT NULL needs", "the database refused"]),
    row(lesson04.check_channel_column, "ALTER TABLE orders ADD COLUMN channel TEXT NOT NULL",
        ["Cannot add a NOT NULL column with default value NULL", "NOT NULL needs a DEFAULT"],
        ["non-constant", "'fax'"]),
    row(lesson04.check_channel_column, "ALTR TABLE orders ADD COLUMN channel TEXT",
        ['near "ALTR": syntax error'], ["NOT NULL needs", "constant", "CHECK", "one ALTER TABLE statement"]),
    row(lesson05.check_rebuild_order, list("eihbgdjfac"), ["4 of 4 order items were deleted", "before BEGIN"],
        ["COMMIT, too late", "switch them off (i) first"]),
    row(lesson05.check_rebuild_order, list("iehbgdjafc"), ["too late to roll back"], ["deleted", "before BEGIN"]),
    row(lesson05.check_rebuild_order, "iehbgdjfac", ["give a list of letters"], ["deleted", "missing"]),
    *unrelated(lesson05.check_items_rebuild, "conn", REBUILD_HINTS),
    row(lesson05.check_items_rebuild, deletes_the_notes_itself,
        ["holds 0: your function ran `DELETE FROM item_notes`"], ["ON DELETE CASCADE"]),
    row(lesson05.check_items_rebuild, answers_rebuild.full_copy_with_foreign_keys_on,
        ["never wrote to it", "ON DELETE CASCADE"], ["your function ran"]),
    row(lesson05.check_items_rebuild, refuses_every_new_item, ["not by a CHECK", "no new items"], ["Correct"]),
    row(lesson05.check_items_rebuild, lambda conn: conn.close(), ["closed the connection"], ["COMMIT"]),
]

LESSON_04 = [
    row(lesson06.check_remaining_query, "SELEC count(*) FROM orders",
        ['the database refused the SQL `SELEC count(*) FROM orders`: near "SELEC": syntax error'],
        ["half-done", "text()"]),
    row(lesson06.check_remaining_query, "SELECT count(*) FROM orders WHERE status <> :rule",
        ["A value is required for bind parameter 'rule'"], ["half-done", "Background on this error"]),
    row(lesson06.check_remaining_query, "DELETE FROM orders", ["returns no rows"], ["half-done", "failed"]),
    row(lesson06.check_remaining_query, "SELECT count(*) FROM orders", ["on a half-done backfill your query says"],
        ["failed"]),
    *unrelated(lesson06.check_batches_needed, "plain", ["returned", "should be"]),
    row(lesson06.check_batches_needed, misspelled_sql_with_sqlite3,
        ['the database refused the SQL: near "ALTR": syntax error', HERE], ["returned", "your code raised"]),
    row(lesson06.check_batches_needed, lambda rows, size: rows // size, ["batches_needed(1, 10) returned 0"],
        ["raised"]),
]

RAISING_TRIGGER = ("CREATE TRIGGER refuse_sweden AFTER INSERT ON orders WHEN NEW.country = 'SE' "
                   "BEGIN SELECT RAISE(ABORT, 'no orders from Sweden'); END")
LESSON_05 = [
    row(lesson07.check_country_triggers, ["CREAT TRIGGER sync AFTER INSERT ON orders BEGIN SELECT 1; END"],
        ['creating your triggers failed: the database refused the SQL', 'near "CREAT": syntax error'],
        ["WHEN guards"]),
    row(lesson07.check_country_triggers, answers05.without_guards(answers05.lesson_05_answers()["country_triggers"]),
        ["too many levels of trigger recursion", "Add WHEN guards"]),
    row(lesson07.check_country_triggers, [RAISING_TRIGGER], ["a v1 insert naming only country failed",
                                                             "no orders from Sweden"], ["WHEN guards"]),
    *unrelated(lesson07.check_backfill_country, "conn", ["data lost", "WHERE country_code IS NULL"]),
    row(lesson07.check_backfill_country, answers05.backfill("UPDATE orders SET country = NULL"), ["data lost"],
        ["WHERE country_code"]),
    *unrelated(lesson08.check_contract_country, "conn", ["before the column", "Drop the triggers"]),
    row(lesson08.check_contract_country, answers08.drop_column_first,
        ["after drop column", "still uses the column: drop it before the column"]),
    row(lesson08.check_contract_country, lambda conn: conn.execute(text("DROP TRIGGER sync_nothing")),
        ["no such trigger: sync_nothing"], ["before the column"], name="a trigger that does not exist"),
    *unrelated(lesson08.check_uncontract_country, "conn", ["Fill `country`", "sync triggers must come back"]),
    row(lesson08.check_uncontract_country, answers08.column_only, ["Fill `country` from `country_code`"],
        ["sync triggers"]),
]


def lets_the_failing_step_escape(engine, steps):
    for step in steps:
        with engine.begin() as conn:
            conn.exec_driver_sql(step)
    return True


SAFE_MIGRATE_HINTS = ["restore the snapshot", "VACUUM", "AUTOCOMMIT"]
LESSON_06 = [
    *unrelated(lesson09.check_safe_migrate, "engine first", SAFE_MIGRATE_HINTS,
               place=lambda function: (function,)),
    row(lesson09.check_safe_migrate, lets_the_failing_step_escape,
        ["step 4 failed, as it should", "Cannot add a PRIMARY KEY column", "catch it, restore the snapshot"]),
    row(lesson09.check_safe_migrate, lambda engine, steps: False, ["yet you returned False: return True"],
        ["VACUUM", "AUTOCOMMIT"], name="always False"),
    row(lesson09.check_safe_migrate, answers06.migrate_in_one_transaction,
        ["without the last one, VACUUM, you return True", "AUTOCOMMIT"]),
    *unrelated(lesson09.check_backup_is_good, "engine second", ["should give False"]),
    row(lesson09.check_backup_is_good, answers06.raises_on_bad_files,
        ["file-copy-of-a-wal-database.sqlite", "no such table: orders", "should give False"]),
]

LESSON_10 = [
    *unrelated(lesson10.check_lost_by_restore, "engine second", ["amount_cents", "shipped or refunded"]),
    row(lesson10.check_lost_by_restore, answers10.new_ids_only, ["not the 5 old ones shipped or refunded"],
        ["amount_cents"]),
    row(lesson10.check_lost_by_restore, answers10.amount_cents_in_the_snapshot_too,
        ["no such column: amount_cents", "compare only the columns it has"], ["shipped or refunded"]),
    *unrelated(lesson10.check_repair_amounts, "engine second", ["copy only", "are gone"]),
    row(lesson10.check_repair_amounts, answers10.restore_the_snapshot,
        ["12 orders taken since the snapshot are gone"], ["are undone"]),
    row(lesson10.check_repair_amounts, answers10.copy_whole_rows,
        ["shipped or refunded since the snapshot are undone", "copy only the amount"], ["are gone"]),
]


def drops_orders_in_revision():
    op.drop_table("orders")


CURRENCY_HINTS = ["server_default", "op.add_column", "op.drop_column"]
RENAME_HINTS = ["batch_alter_table", "drop + add", "looked for a column"]
TARGET_HINTS = ["relative target", "downgrade only goes down", "never goes down", "going through base"]
AMOUNT_CHECK_HINTS = ["batch mode", "naming convention", "op.f("]
LESSON_07 = [
    *unrelated(lesson11.check_currency_revision, "revision", CURRENCY_HINTS,
               place=lambda function: (function, answers11.drop_currency)),
    *unrelated(lesson11.check_currency_revision, "revision", CURRENCY_HINTS,
               place=lambda function: (answers11.add_currency, function)),
    row(lesson11.check_currency_revision, (answers11.add_currency_without_default, answers11.drop_currency),
        ["Cannot add a NOT NULL column with default value NULL", "needs a server_default"]),
    row(lesson11.check_currency_revision, (drops_orders_in_revision, answers11.drop_currency),
        ["there is no table `orders`"]),
    *unrelated(lesson11.check_bare_status_column, "plain", TARGET_HINTS),
    row(lesson11.check_bare_status_column, answers11.moves((command.downgrade, "-3")),
        ["Relative revision -3 didn't produce 3 migrations", "name the revision, 0002"], ["downgrade only goes down"]),
    row(lesson11.check_bare_status_column, answers11.moves((command.upgrade, "0002")),
        ["left the database at 0005", "an upgrade never goes down"], ["relative target"]),
    row(lesson11.check_bare_status_column, answers11.moves((command.downgrade, "base"), (command.upgrade, "0002")),
        ["has no orders (it had 200)", "a downgrade restores the schema, not the data"], ["relative target"]),
    # lesson 12's checks
    *unrelated(lesson12.check_rename_revision, "revision", RENAME_HINTS,
               place=lambda function: (function, answers12.rename("total", "amount"))),
    *unrelated(lesson12.check_rename_revision, "revision", RENAME_HINTS,
               place=lambda function: (answers12.rename("amount", "total"), function)),
    row(lesson12.check_rename_revision, (answers12.rename("price", "total"), answers12.rename("total", "amount")),
        ["KeyError: 'price'", "looked for a column 'price'"], ["drop + add"]),
    row(lesson12.check_rename_revision, (answers12.rename_and_double, answers12.rename("total", "amount")),
        ["keeps every value as it was"], ["drop + add"]),
    row(lesson12.check_rename_revision, (answers12.add_and_drop("total", "amount"),
                                         answers12.add_and_drop("amount", "total")), ["drop + add loses them"]),
    row(lesson12.check_rename_revision, (answers12.rename("amount", "total"), answers12.nothing),
        ["after your downgrade orders has columns", "'total'"], ["drop + add"], name="downgrade does nothing"),
    row(lesson12.check_rename_revision,
        (answers12.rename("amount", "total"), answers12.add_and_drop("amount", "total")),
        ["after your downgrade every amount is NULL", "drop + add loses them"], name="downgrade adds and drops"),
    *unrelated(lesson12.check_amount_check_revision, "revision", AMOUNT_CHECK_HINTS,
               place=lambda function: (function, answers12.drop_check("amount_not_negative"))),
    *unrelated(lesson12.check_amount_check_revision, "revision", AMOUNT_CHECK_HINTS,
               place=lambda function: (answers12.add_check("amount_not_negative"), function)),
    row(lesson12.check_amount_check_revision, (answers12.add_check_without_batch, answers12.drop_check_without_batch),
        ["No support for ALTER of constraints in SQLite dialect", "only in batch mode"], ["naming convention"]),
    row(lesson12.check_amount_check_revision, (answers12.add_check(None), answers12.nothing),
        ["requires that constraint is explicitly named", "give the constraint one"], ["batch mode"]),
    row(lesson12.check_amount_check_revision,
        (answers12.add_check("amount_not_negative"), answers12.drop_check("ck_orders_amount_not_negative")),
        ["No such constraint: 'ck_orders_ck_orders_amount_not_negative'", "op.f("], ["batch mode"]),
]


def forgets_pytest_raises(engine):
    with engine.begin() as conn:
        conn.execute(text("UPDATE orders SET status = 'lost'"))


def skips_itself(engine):
    pytest.skip("later")


def bare_assert(engine):
    assert 1 == 2


TEST_HINT = ["The refusal is what your test should expect"]
LESSON_08 = [
    *unrelated(lesson13.check_constraint_test, "engine first", TEST_HINT),
    row(lesson13.check_constraint_test, forgets_pytest_raises,
        ["CHECK constraint failed", "inside `with pytest.raises(IntegrityError):`"]),
    row(lesson13.check_constraint_test, answers13.refuses_a_known_status,
        ["pytest reported Failed: DID NOT RAISE IntegrityError"], TEST_HINT),
    row(lesson13.check_constraint_test, answers13.fails_always, ["your test failed: an assert failed: always"],
        TEST_HINT),
    *unrelated(lesson13.check_default_test, "engine first", TEST_HINT),
    row(lesson13.check_default_test, bare_assert,
        ["your test failed: an assert failed", f"at line {body_line(bare_assert)} {THIS_FILE}: `assert 1 == 2`"]),
    row(lesson13.check_default_test, skips_itself, ["your test skipped itself", "Skipped: later"]),
]

TIMINGS = pd.DataFrame({"backfill, one statement": [0.001, 0.8]}, index=pd.Index([1_000, 1_000_000]))
LESSON_09 = [
    row(lesson14.check_linear_operations, ["add a column"], ["O(1)"], ["missing"]),
    row(lesson14.check_linear_operations, ["table rebuild"], ["missing"], ["O(1)"]),
    row(lesson14.check_throughput, (1_000 / 0.001, TIMINGS), ["the rate at 1,000 rows"], ["seconds per row"]),
    row(lesson14.check_throughput, (123.0, TIMINGS), ["123 is not the rows divided by the seconds"], ["rate at"]),
    row(lesson14.check_throughput, (0.8 / 1_000_000, TIMINGS), ["seconds per row"], ["rate at"]),
]

LOCK_HINTS = ["lock_timeout", "escaped", "no PostgreSQL server", "committed"]
LESSON_15 = [
    row(lesson15.check_queued_behind, ["a", "b"], ["e waits too"], ["not "]),
    row(lesson15.check_queued_behind, ["a", "b", "d", "e"], ["not d: the report already holds"], ["waits too"]),
    *unrelated(lesson15.check_try_migration, "engine first", LOCK_HINTS, expected=ON_POSTGRES,
               marks=pytest.mark.server),
]

LESSON_11 = [
    row(lesson16.check_metadata_only, ["a", "b"], ["not b"], ["catalogue only too"]),
    row(lesson16.check_metadata_only, ["a"], ["c is catalogue only too"], ["not "]),
    row(lesson16.check_safe_not_null_order, ["b", "c", "a", "d"], ["start with the constraint"], ["validate before"]),
    row(lesson16.check_safe_not_null_order, ["c", "b", "d", "a"], ["drop the CHECK last"], ["validate before"]),
]

def rows_of_new_lessons() -> list:
    """The ``NEVER_CRASH`` rows that later lessons keep in their own ``tests/test_exercises_lessonNN.py``."""
    rows = []
    for module_info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if module_info.name.startswith("test_exercises_lesson"):
            rows += getattr(importlib.import_module(f"tests.{module_info.name}"), "NEVER_CRASH", [])
    return rows


TABLE = [*LESSON_01, *LESSON_03, *LESSON_04, *LESSON_05, *LESSON_06, *LESSON_10, *LESSON_07, *LESSON_08, *LESSON_09,
         *LESSON_15, *LESSON_11, *rows_of_new_lessons()]


def test_the_table_has_rows_for_every_check():
    in_table = {(param.values[0].__module__, param.values[0].__name__) for param in TABLE}
    checks = {(param.values[0].__module__, param.values[0].__name__) for param in all_checks()}
    assert in_table == {(module, name) for module, name in checks if module.rsplit(".", 1)[1] not in NOT_MINE}


@pytest.mark.parametrize("check, arguments, must, must_not", TABLE)
def test_the_verdict_names_the_mistake_made_and_no_other(check, arguments, must, must_not):
    try:
        verdict = check(*arguments)
    except pytest.skip.Exception as escaped:  # else pytest would report a learner's pytest.skip() as a skipped test
        pytest.fail(f"the check let the learner's {escaped!r} escape")
    assert not verdict.ok, verdict.message
    assert [words for words in must if words not in verdict.message] == [], verdict.message
    assert [words for words in must_not if words in verdict.message] == [], verdict.message


def test_sql_that_the_check_runs_for_the_learner_has_no_learner_line():
    verdict = lesson06.check_remaining_query("SELECT count(*) FROM nowhere")
    assert "no such table: nowhere" in verdict.message and "(at line" not in verdict.message

