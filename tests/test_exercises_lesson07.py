import pytest
from sqlalchemy import text

from coursekit.exercises.lesson07 import check_contract_country, check_country_triggers
from tests.conftest import REPO
from tests.test_exercises import solutions

LESSON_05 = REPO / "notebooks" / "07-expand-migrate-contract.ipynb"


def lesson_05_answers():
    first, second = solutions(LESSON_05)
    namespace = {"text": text}
    exec(first + second, namespace)
    return namespace


def test_lesson_05_solutions_pass_their_checks():
    answers = lesson_05_answers()
    assert check_country_triggers(answers["country_triggers"]).ok
    assert check_contract_country(answers["contract_country"]).ok


def without_guards(statements):
    return [statement.replace("WHEN NEW.country_code IS NOT NEW.country ", "")
            .replace("WHEN NEW.country IS NOT NEW.country_code ", "") for statement in statements]


def one_way_only(statements):
    return [statement for statement in statements if "sync_country_code" in statement]


@pytest.mark.parametrize(
    "change, hint",
    [(lambda s: None, "as a list"), (lambda s: [], "as a list"), (lambda s: " ".join(s), "as a list"),
     (lambda s: [*s, None], "as a string"), (lambda s: ["CREATE TRIGGER nonsense"], "creating your triggers failed"),
     (without_guards, "Add WHEN guards"), (one_way_only, "a v2 insert naming only country_code"),
     (lambda s: s[:2], "a v1 update of country"),
     (lambda s: [*s, "CREATE TRIGGER wipe AFTER INSERT ON orders BEGIN DELETE FROM orders WHERE order_id = 'ORD-3';"
                     " END"], "nobody wrote to")],
)
def test_wrong_triggers_get_a_hint(change, hint):
    result = check_country_triggers(change(lesson_05_answers()["country_triggers"]))
    assert not result.ok and hint in result.message, result.message


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
