import pytest
from sqlalchemy import text

from coursekit.exercises.lesson08 import check_contract_country, check_uncontract_country
from tests.conftest import REPO
from tests.test_exercises import solutions
from tests.transition_shop import insert_trigger, update_trigger

LESSON_08 = REPO / "notebooks" / "08-contract-and-the-transition-live.ipynb"


def lesson_08_answers():
    first, second = solutions(LESSON_08)
    namespace = {"text": text, "insert_trigger": insert_trigger, "update_trigger": update_trigger}
    exec(first + second, namespace)
    return namespace


def test_lesson_08_solutions_pass_their_checks():
    answers = lesson_08_answers()
    assert check_contract_country(answers["contract_country"]).ok
    assert check_uncontract_country(answers["uncontract_country"]).ok


def drop_column_first(conn):
    conn.execute(text("ALTER TABLE orders DROP COLUMN country"))


def drop_triggers_only(conn):
    for name in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name GLOB 'sync_*'")
                             ).scalars().all():
        conn.execute(text(f'DROP TRIGGER "{name}"'))


def drop_every_trigger_then_the_column(conn):
    for name in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars().all():
        conn.execute(text(f'DROP TRIGGER "{name}"'))
    conn.execute(text("ALTER TABLE orders DROP COLUMN country"))


def drop_the_wrong_column(conn):
    drop_triggers_only(conn)
    conn.execute(text("ALTER TABLE orders DROP COLUMN country_code"))


def drop_one_trigger(conn):
    conn.execute(text("DROP TRIGGER sync_country_code_on_insert"))
    conn.execute(text("DROP TRIGGER sync_country_code_on_update"))
    conn.execute(text("DROP TRIGGER sync_country_on_insert"))
    conn.execute(text("ALTER TABLE orders DROP COLUMN country"))


def empty_the_table(conn):
    drop_triggers_only(conn)
    conn.execute(text("ALTER TABLE orders DROP COLUMN country"))
    conn.execute(text("DELETE FROM orders"))


@pytest.mark.parametrize(
    "answer, hint",
    [(None, "define a function"), (lambda conn: None, "still has the old column"),
     (drop_column_first, "still uses the column: drop it before the column"),
     (drop_triggers_only, "still has the old column"), (drop_the_wrong_column, "still has the old column"),
     (drop_one_trigger, "trigger `sync_country_on_update` still uses the column"),
     (empty_the_table, "the countries read"), (drop_every_trigger_then_the_column, "orders_amount_audit")],
)
def test_wrong_contracts_get_a_hint(answer, hint):
    result = check_contract_country(answer)
    assert not result.ok and hint in result.message, result.message


def column_only(conn):
    conn.execute(text("ALTER TABLE orders ADD COLUMN country TEXT"))


def column_and_values(conn):
    column_only(conn)
    conn.execute(text("UPDATE orders SET country = country_code"))


def values_and_one_way(conn):
    column_and_values(conn)
    conn.execute(text(insert_trigger("country", "country_code")))
    conn.execute(text(update_trigger("country", "country_code")))


@pytest.mark.parametrize(
    "answer, hint",
    [(None, "define a function"), (lambda conn: None, "version 1 needs `country` back"),
     (column_only, "Fill `country` from `country_code`"), (column_and_values, "the sync triggers must come back"),
     (values_and_one_way, "a v2 insert naming only country_code"),
     (lambda conn: conn.execute(text("ALTER TABLE orders ADD COLUMN country TEXT NOT NULL")), "NOT NULL")],
)
def test_wrong_uncontracts_get_a_hint(answer, hint):
    result = check_uncontract_country(answer)
    assert not result.ok and hint in result.message, result.message
