import pytest
from sqlalchemy import text

from coursekit.exercises.lesson07 import check_backfill_country, check_country_triggers
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
    assert check_backfill_country(answers["backfill_country"]).ok


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


def backfill(sql):
    def answer(conn):
        conn.execute(text(sql))
    return answer


@pytest.mark.parametrize(
    "answer, hint",
    [(None, "define a function"), (lambda conn: None, "still differs from country"),
     (backfill("UPDATE orders SET country = country_code"), "data lost"),
     (backfill("UPDATE orders SET country_code = country"), "Add `WHERE country_code IS NULL`"),
     (backfill("UPDATE orders SET country_code = 'DE' WHERE country_code IS NULL"), "data lost"),
     (backfill("UPDATE orders SET country_code = country WHERE country_cod IS NULL"), "no such column: country_cod")],
)
def test_wrong_backfills_get_a_hint(answer, hint):
    result = check_backfill_country(answer)
    assert not result.ok and hint in result.message, result.message
