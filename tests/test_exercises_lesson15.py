"""Lesson 15's exercise checks and first cells: the solutions pass, wrong answers get a hint, faults get a message.

Exercise 1 and the first cell run on the course's own PostgreSQL (never skipped), and on your own server where one
answers (tests.servers.own_postgres_url).
"""

import secrets
import threading
import time

import nbformat
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from coursekit.exercises.lesson15 import QUEUED, check_queued_behind, check_try_migration
from coursekit.order_steps import CREATE_ORDERS
from coursekit.pgserver import embedded_url
from tests.conftest import REPO
from tests.servers import own_postgres_url, unreachable
from tests.test_exercises import solutions

LESSON_15 = REPO / "notebooks" / "15-migrating-a-live-server.ipynb"
NOTHING_LISTENS = "postgresql+psycopg://postgres@127.0.0.1:1/test"  # nothing listens on port 1


@pytest.fixture(params=["embedded", "own"])
def lesson_server(request, monkeypatch):
    """POSTGRES_URL unset (the course's own server), then set to your own server (skips when it does not answer)."""
    if request.param == "own":
        if unreachable(own_postgres_url()):
            pytest.skip(f"your own PostgreSQL server: {unreachable(own_postgres_url())}")
        monkeypatch.setenv("POSTGRES_URL", own_postgres_url())
    else:
        monkeypatch.delenv("POSTGRES_URL", raising=False)
    return request.param


def solution_namespace():
    namespace = {"text": text, "DBAPIError": DBAPIError}  # what the notebook has imported by then
    exec("\n".join(solutions(LESSON_15)), namespace)
    return namespace


def test_lesson_15_has_two_solutions_and_exercise_2s_passes():
    assert len(solutions(LESSON_15)) == 2
    assert check_queued_behind(solution_namespace()["queued"]).ok


@pytest.mark.parametrize(
    "answer, hint",
    [(None, "as a list"), ("a, b", "as a list"), ([], "empty"), (["a", "b"], "e waits too"),
     (["a", "b", "c", "e"], "not c: customers is another table"), (["a", "b", "d", "e"], "not d: the report already"),
     (["x"], "not among"), ([1], "in quotes"), (["E", " a", "b "], "queue behind the waiting ALTER")],
)
def test_queued_behind_answers(answer, hint):
    result = check_queued_behind(answer)
    assert hint in result.message and result.ok == (hint == "queue behind the waiting ALTER")


EXERCISE_2 = {"a": "SELECT count(*) FROM orders", "b": "UPDATE orders SET amount = amount WHERE order_id = 'none'",
              "c": "SELECT count(*) FROM customers", "e": "CREATE INDEX CONCURRENTLY ix_queued ON orders (country)"}


def waits_or_runs(engine, sql):
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("SET lock_timeout = '300ms'"))
        try:
            conn.execute(text(sql))
            return "runs"
        except DBAPIError as error:
            assert error.orig.sqlstate == "55P03", error
            return "waits"


@pytest.mark.server
def test_exercise_2s_answer_is_what_postgresql_does():
    """Behind an ALTER that waits for a report's read lock: each statement of exercise 2, as a new session, and the
    report reading again. Those that time out are the answer key's."""
    url, schema = embedded_url(), f"lesson15_queue_{secrets.token_hex(4)}"
    engine = create_engine(url, connect_args={"options": f"-csearch_path={schema} -cstatement_timeout=20s"})
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
        conn.execute(text(CREATE_ORDERS))
        conn.execute(text("CREATE TABLE customers (customer_id TEXT PRIMARY KEY)"))
    try:
        with engine.connect() as report, engine.connect() as migration:
            report.execute(text("SELECT count(*) FROM orders"))
            pid = migration.execute(text("SELECT pg_backend_pid()")).scalar_one()
            alter = threading.Thread(target=migration.execute, args=(text("ALTER TABLE orders ADD COLUMN note TEXT"),))
            alter.start()
            while not report.execute(text("SELECT count(*) FROM pg_locks WHERE pid = :pid AND NOT granted"),
                                     {"pid": pid}).scalar_one():
                time.sleep(0.01)
            seen = {letter: waits_or_runs(engine, sql) for letter, sql in EXERCISE_2.items()}
            started = time.perf_counter()
            report.execute(text("SELECT count(*) FROM orders"))  # d: the report reads again
            seen["d"] = "runs" if time.perf_counter() - started < 0.3 else "waits"
            report.rollback()
            alter.join(20)
            migration.commit()
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()
    assert {letter for letter, what in seen.items() if what == "waits"} == QUEUED, seen


@pytest.mark.server
def test_exercise_1_solution_passes(lesson_server):
    verdict = check_try_migration(solution_namespace()["try_migration"])
    assert verdict.ok, verdict.message


def code_cells():
    return [cell.source for cell in nbformat.read(LESSON_15, as_version=4).cells if cell.cell_type == "code"]


@pytest.mark.server
def test_first_cell_names_the_server_and_its_version(lesson_server, capsys):
    exec(code_cells()[0], {})
    said = capsys.readouterr().out.splitlines()
    if lesson_server == "embedded":
        assert said[0].startswith("Using the course's own PostgreSQL server") and said[1].startswith("PostgreSQL 18.")
    else:
        assert said[0] == "Using the server at POSTGRES_URL:" and said[1].startswith("PostgreSQL ")


@pytest.mark.server
def test_an_unusable_postgres_url_gets_the_drivers_words_and_what_to_do_and_a_rerun_recovers(monkeypatch, capsys):
    monkeypatch.setenv("POSTGRES_URL", NOTHING_LISTENS)
    namespace = {}
    with pytest.raises(RuntimeError) as raised:
        exec(code_cells()[0], namespace)
    message = str(raised.value)
    assert message.startswith("No answer from the PostgreSQL server at POSTGRES_URL (") and "port 1 failed" in message
    assert "`%env POSTGRES_URL=`" in message  # the way back to the course's own server, without a restart
    monkeypatch.setenv("POSTGRES_URL", "")  # what `%env POSTGRES_URL=` does
    exec(code_cells()[0], namespace)
    assert capsys.readouterr().out.startswith("Using the course's own PostgreSQL server")


@pytest.mark.server
def test_first_cell_quotes_your_server_when_it_answers_but_the_database_is_missing(monkeypatch):
    if unreachable(own_postgres_url()):
        pytest.skip(f"your own PostgreSQL server: {unreachable(own_postgres_url())}")
    monkeypatch.setenv("POSTGRES_URL", own_postgres_url().rsplit("/", 1)[0] + "/no_such_database_for_lesson10")
    with pytest.raises(RuntimeError) as raised:
        exec(code_cells()[0], {})
    message = str(raised.value)
    assert 'database "no_such_database_for_lesson10" does not exist' in message.splitlines()[0]
    assert "does the database exist?" in message


@pytest.mark.server
def test_without_mariadb_section_1_says_what_the_learner_misses(monkeypatch, capsys):
    monkeypatch.delenv("POSTGRES_URL", raising=False)
    monkeypatch.setenv("MARIADB_URL", "mysql+pymysql://root@127.0.0.1:1/test")  # nothing listens on port 1
    cells, namespace = code_cells(), {}
    exec(cells[0], namespace)
    capsys.readouterr()
    exec(cells[1], namespace)
    said = capsys.readouterr().out
    assert said.startswith("No answer from MariaDB: ") and "show only in words" in said and "MARIADB_URL" in said
    exec(next(cell for cell in cells if "MariaDB says:" in cell), namespace)
    assert capsys.readouterr().out.startswith("Skipped: MariaDB does not answer")


def without_timeout(engine, sql):
    try:
        with engine.begin() as conn:
            conn.execute(text(sql))
        return "done"
    except DBAPIError as error:
        if error.orig.sqlstate == "55P03":
            return "busy"
        raise


def waits_forever(engine, sql):
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL lock_timeout = 0"))
        conn.execute(text(sql))
    return "done"


def lets_the_timeout_escape(engine, sql):
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL lock_timeout = '200ms'"))
        conn.execute(text(sql))
    return "done"


def busy_on_every_error(engine, sql):
    try:
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL lock_timeout = '200ms'"))
            conn.execute(text(sql))
        return "done"
    except DBAPIError:
        return "busy"


def never_commits(engine, sql):
    try:
        with engine.connect() as conn:
            conn.execute(text("SET LOCAL lock_timeout = '200ms'"))
            conn.execute(text(sql))
        return "done"
    except DBAPIError as error:
        if error.orig.sqlstate == "55P03":
            return "busy"
        raise


@pytest.mark.server
@pytest.mark.parametrize(
    "answer, hint",
    [(without_timeout, "your function waited"), (waits_forever, "your function waited"),
     (lets_the_timeout_escape, "escaped"), (busy_on_every_error, "should raise"), (never_commits, "committed"),
     (lambda engine, sql: "busy", "'done'"), (lambda engine, sql: None, "returned None")],
)
def test_exercise_1_wrong_answers_get_a_hint(answer, hint, lesson_server):
    verdict = check_try_migration(answer)
    assert not verdict.ok and hint in verdict.message, verdict.message


@pytest.mark.parametrize("answer", [None, "try_migration", 42])
def test_exercise_1_needs_a_function_and_no_server_to_say_so(answer):
    verdict = check_try_migration(answer)
    assert not verdict.ok and "define a function" in verdict.message


def test_exercise_1_without_a_server_says_how_to_get_one(monkeypatch):
    monkeypatch.setenv("POSTGRES_URL", NOTHING_LISTENS)
    verdict = check_try_migration(lambda engine, sql: "done")
    assert not verdict.ok and "no PostgreSQL server" in verdict.message and "first cell" in verdict.message
