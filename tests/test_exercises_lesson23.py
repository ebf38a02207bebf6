"""Lesson 23's exercise checks and its behaviour without MariaDB: the solutions pass, wrong answers get a hint, and
with no MariaDB every MariaDB cell says so and how to get one while the lesson runs on.

The tests that need MariaDB (at MARIADB_URL, else root at 127.0.0.1:3306) skip, saying why, where none answers; the
lesson's run without MariaDB needs only the course's own PostgreSQL, so it never skips.
"""

import os
import re
import secrets
import subprocess
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from coursekit.exercises.lesson23 import INSTANT, check_instant_changes, check_try_alter
from coursekit.onlineddl import SKIPPED
from coursekit.order_steps import CREATE_ORDERS
from tests.browser import free_port
from tests.conftest import REPO
from tests.never_crash import UNRELATED, row, unrelated
from tests.servers import MARIADB_URL, unreachable
from tests.test_exercises import solutions

LESSON_23 = REPO / "notebooks" / "23-online-ddl-on-mariadb.ipynb"
NOTHING_LISTENS = "mysql+pymysql://root@127.0.0.1:1/test"  # nothing listens on port 1
needs_mariadb = pytest.mark.skipif(unreachable(MARIADB_URL) is not None,
                                   reason=f"MariaDB: {unreachable(MARIADB_URL)}")


def solution_namespace():
    namespace = {"text": text, "DBAPIError": DBAPIError}  # what the notebook has imported by then
    exec("\n".join(solutions(LESSON_23)), namespace)
    return namespace


def test_lesson_23_has_two_solutions_and_exercise_1s_passes():
    assert len(solutions(LESSON_23)) == 2
    assert check_instant_changes(solution_namespace()["instant"]).ok


@pytest.mark.parametrize(
    "answer, hint",
    [(None, "as a list"), ("a, b, c", "as a list"), ([], "empty"), (["a", "b"], "c is instant too"),
     (["a", "b", "c", "d"], "not d: a CHECK must read every row"), (["a", "b", "c", "e"], "not e: an index"),
     (["x"], "not among"), ([1], "in quotes"), (["C", " a", "b "], "renaming, adding")],
)
def test_instant_changes_answers(answer, hint):
    result = check_instant_changes(answer)
    assert hint in result.message and result.ok == (hint == "renaming, adding"), result.message


EXERCISE_1 = {
    "a": "ALTER TABLE orders RENAME COLUMN shipped_at TO sent_at, ALGORITHM=INSTANT",
    "b": "ALTER TABLE orders ADD COLUMN channel VARCHAR(10) AFTER order_id, ALGORITHM=INSTANT",
    "c": "ALTER TABLE orders DROP COLUMN refunded_at, ALGORITHM=INSTANT",
    "d": "ALTER TABLE orders ADD CONSTRAINT ck_amount CHECK (amount > 0), ALGORITHM=INSTANT",
    "e": "ALTER TABLE orders ADD INDEX ix_customer (customer_id), ALGORITHM=INSTANT",
}


def test_exercise_1s_statements_are_the_lessons():
    markdown = "\n".join(cell.source for cell in nbformat.read(LESSON_23, as_version=4).cells
                         if cell.cell_type == "markdown")
    for letter, statement in EXERCISE_1.items():
        assert f"- {letter}. `{statement}`" in markdown


@pytest.fixture
def mariadb_orders():
    """An engine on a new MariaDB database with the lesson's orders (VARCHAR for TEXT, 1,000 rows); dropped after."""
    from coursekit.dataset import generate_orders, insert_orders

    database = f"lesson23_test_{secrets.token_hex(4)}"
    admin = create_engine(MARIADB_URL)
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {database}"))
    engine = create_engine(make_url(MARIADB_URL).set(database=database))
    with engine.begin() as conn:
        conn.execute(text(CREATE_ORDERS.replace("TEXT", "VARCHAR(30)")))
        insert_orders(conn, generate_orders(1_000))
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE {database}"))
    admin.dispose()


@pytest.mark.server
@needs_mariadb
def test_exercise_1s_answer_is_what_mariadb_does(mariadb_orders):
    """Each statement on a fresh orders table: those MariaDB accepts with ALGORITHM=INSTANT are the answer key's, and
    the others are refused with the algorithm the solution names (COPY for the CHECK, NOCOPY for the index)."""
    accepted, suggested = set(), {}
    for letter, statement in EXERCISE_1.items():
        with mariadb_orders.connect() as conn:
            conn.execute(text("DROP TABLE IF EXISTS orders_try"))
            conn.execute(text("CREATE TABLE orders_try LIKE orders"))
            conn.execute(text("INSERT INTO orders_try SELECT * FROM orders"))
            try:
                conn.execute(text(statement.replace("TABLE orders ", "TABLE orders_try ")))
                accepted.add(letter)
            except DBAPIError as error:
                assert "ALGORITHM=INSTANT is not supported" in str(error.orig), error
                suggested[letter] = re.search(r"Try ALGORITHM=(\w+)", str(error.orig))[1]
    assert accepted == INSTANT
    assert suggested == {"d": "COPY", "e": "NOCOPY"}


@pytest.mark.server
@needs_mariadb
def test_exercise_2_solution_passes():
    verdict = check_try_alter(solution_namespace()["try_alter"])
    assert verdict.ok, verdict.message


def without_limit(engine, sql):
    with engine.connect() as conn:
        try:
            conn.execute(text(sql))
            return "done"
        except DBAPIError as error:
            if error.orig.args[0] == 1205:
                return "busy"
            raise


def lets_the_timeout_escape(engine, sql):
    with engine.connect() as conn:
        conn.execute(text(f"{sql.replace('ALTER TABLE shop_orders', 'ALTER TABLE shop_orders WAIT 1')}"))
    return "done"


def busy_on_every_error(engine, sql):
    with engine.connect() as conn:
        conn.execute(text("SET SESSION lock_wait_timeout = 1"))
        try:
            conn.execute(text(sql))
            return "done"
        except DBAPIError:
            return "busy"


def with_wait_1(engine, sql):  # the other right answer: the limit in the statement itself
    with engine.connect() as conn:
        try:
            conn.execute(text(sql.replace("ALTER TABLE shop_orders", "ALTER TABLE shop_orders WAIT 1")))
            return "done"
        except DBAPIError as error:
            if error.orig.args[0] == 1205:
                return "busy"
            raise


def with_set_statement(engine, sql):  # and a third: MariaDB's setting for one statement
    with engine.connect() as conn:
        try:
            conn.execute(text(f"SET STATEMENT lock_wait_timeout = 1 FOR {sql}"))
            return "done"
        except DBAPIError as error:
            if error.orig.args[0] == 1205:
                return "busy"
            raise


@pytest.mark.server
@needs_mariadb
@pytest.mark.parametrize("answer", [with_wait_1, with_set_statement])
def test_exercise_2_accepts_the_limit_in_the_statement(answer):
    verdict = check_try_alter(answer)
    assert verdict.ok, verdict.message


@pytest.mark.server
@needs_mariadb
@pytest.mark.parametrize(
    "answer, hint",
    [(without_limit, "your function waited"), (lets_the_timeout_escape, "escaped"),
     (busy_on_every_error, "should raise"), (lambda engine, sql: "busy", "'done'"),
     (lambda engine, sql: None, "returned None")],
)
def test_exercise_2_wrong_answers_get_a_hint(answer, hint):
    verdict = check_try_alter(answer)
    assert not verdict.ok and hint in verdict.message, verdict.message


@pytest.mark.parametrize("answer", [None, "try_alter", 42])
def test_exercise_2_needs_a_function_and_no_server_to_say_so(answer):
    verdict = check_try_alter(answer)
    assert not verdict.ok and "define a function" in verdict.message


def test_exercise_2_without_mariadb_says_how_to_get_one(monkeypatch):
    monkeypatch.setenv("MARIADB_URL", NOTHING_LISTENS)
    verdict = check_try_alter(lambda engine, sql: "done")
    assert not verdict.ok and "no MariaDB to check against" in verdict.message, verdict.message
    assert "apt-get install mariadb-server" in verdict.message and "MARIADB_URL" in verdict.message


@pytest.mark.server
def test_without_mariadb_every_mariadb_cell_says_so_and_how_to_get_one_and_the_lesson_runs_on(monkeypatch):
    """The whole lesson with nothing at MARIADB_URL: no cell fails, each MariaDB cell prints SKIPPED, and section 4
    still shows PostgreSQL's side."""
    schema = f"lesson23_none_{secrets.token_hex(4)}"
    monkeypatch.setenv("MARIADB_URL", NOTHING_LISTENS)
    monkeypatch.setenv("LESSON23_SCHEMA", schema)
    notebook = nbformat.read(LESSON_23, as_version=4)
    try:
        NotebookClient(notebook, timeout=300, resources={"metadata": {"path": str(LESSON_23.parent)}}).execute()
    finally:
        from coursekit.pgserver import postgres_url

        with create_engine(postgres_url(), isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    printed = ["".join(output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
                       for output in cell.outputs) for cell in code]
    assert printed[0].startswith("No answer from MariaDB at MARIADB_URL: Can't connect to MySQL server on '127.0.0.1'")
    assert "apt-get install mariadb-server" in printed[0]
    mariadb_cells = [said for cell, said in zip(code[1:], printed[1:], strict=True) if "maria is" in cell.source]
    assert len(mariadb_cells) >= 12
    assert all(SKIPPED in said for said in mariadb_cells), [said[:80] for said in mariadb_cells]
    assert any("AccessExclusiveLock" in said for said in printed), "section 4's PostgreSQL side"
    assert any("canceling statement due to lock timeout" in said for said in printed), "section 4's queue"
    assert any("no MariaDB to check against" in said for said in printed), "exercise 2's check says why"


@pytest.mark.server
@needs_mariadb
def test_a_lesson_database_in_use_stops_the_set_up_with_what_to_do_instead_of_waiting(monkeypatch):
    """Another session keeps a transaction open on the lesson's database: DROP DATABASE would wait a day; the set-up
    gives up after MAX_WAIT_SECONDS (1 s here) and says what to do."""
    from coursekit import onlineddl

    database = f"lesson23_busy_{secrets.token_hex(4)}"
    engine, _ = onlineddl.find_mariadb(database, MARIADB_URL)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE orders (order_id INTEGER PRIMARY KEY)"))
    monkeypatch.setattr(onlineddl, "MAX_WAIT_SECONDS", 1)
    try:
        with engine.connect() as other:
            other.execute(text("SELECT count(*) FROM orders"))  # another copy of the lesson, in a transaction
            started = time.perf_counter()
            with pytest.raises(RuntimeError) as raised:
                onlineddl.find_mariadb(database, MARIADB_URL)
            assert time.perf_counter() - started < 10
    finally:
        engine.dispose()
        with create_engine(MARIADB_URL).connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {database}"))
    message = str(raised.value)
    assert message.startswith(f"MariaDB answers but could not make the database {database} afresh: Lock wait")
    assert "Restart its kernel" in message


HINTS = ["lock_wait_timeout = 1", "escaped", "no MariaDB", "should raise", "the column is not there"]
ON_MARIADB = {**UNRELATED, "SQL syntax": (["You have an error in your SQL syntax", "near 'ALTR TABLE orders",
                                          "of never_crash.py"], ["ZeroDivisionError", "your code raised", "text()"])}
NEVER_CRASH = [
    row(check_instant_changes, ["a", "b"], ["c is instant too"], ["not "]),
    row(check_instant_changes, ["a", "b", "c", "e"], ["not e: an index is built from the rows"], ["instant too"]),
    *unrelated(check_try_alter, "engine first", HINTS, expected=ON_MARIADB,
               marks=[pytest.mark.server, needs_mariadb]),
]


MARIADBD, INSTALL_DB = Path("/usr/sbin/mariadbd"), Path("/usr/bin/mariadb-install-db")
MDL_INSTRUMENT = "wait/lock/metadata/sql/mdl"


@pytest.fixture(scope="module")
def mariadb_with_performance_schema(tmp_path_factory):
    """A MariaDB of this test's own (Debian's mariadbd, a fresh data folder, a free port on 127.0.0.1) started with
    performance_schema=ON and the metadata-lock instrument on; stopped and deleted afterwards."""
    if not (MARIADBD.exists() and INSTALL_DB.exists()):
        pytest.skip("no mariadbd here: apt-get install mariadb-server to run this test")
    folder, port = tmp_path_factory.mktemp("mariadb"), free_port()
    as_root = ["--user=root"] if os.getuid() == 0 else []
    subprocess.run([str(INSTALL_DB), "--no-defaults", f"--datadir={folder / 'data'}", *as_root,
                    "--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve"],
                   check=True, capture_output=True, timeout=120)
    server = subprocess.Popen([str(MARIADBD), "--no-defaults", f"--datadir={folder / 'data'}", *as_root,
                               "--bind-address=127.0.0.1", f"--port={port}", f"--socket={folder / 'mariadb.sock'}",
                               f"--pid-file={folder / 'mariadb.pid'}", "--skip-name-resolve", "--skip-log-bin",
                               "--performance-schema=ON", f"--performance-schema-instrument={MDL_INSTRUMENT}=ON",
                               f"--log-error={folder / 'error.log'}"])
    url = f"mysql+pymysql://root@127.0.0.1:{port}/mysql"
    try:
        for _ in range(120):
            if unreachable.__wrapped__(url) is None:
                break
            time.sleep(0.5)
        else:
            pytest.fail(f"the test's MariaDB did not start: {(folder / 'error.log').read_text()[-2000:]}")
        engine = create_engine(url)
        with engine.connect() as conn:
            conn.execute(text("CREATE DATABASE test"))
        engine.dispose()
        yield url.replace("/mysql", "/test")
    finally:
        server.terminate()
        server.wait(60)


@pytest.mark.server
def test_with_performance_schema_on_the_lesson_shows_the_reports_metadata_lock(mariadb_with_performance_schema,
                                                                                monkeypatch, capsys):
    """Where performance_schema records metadata locks, section 2's cell lists the report's (here it is off)."""
    schema = f"lesson23_ps_{secrets.token_hex(4)}"
    monkeypatch.setenv("MARIADB_URL", mariadb_with_performance_schema)
    monkeypatch.setenv("LESSON23_SCHEMA", schema)
    code = [cell.source for cell in nbformat.read(LESSON_23, as_version=4).cells if cell.cell_type == "code"]
    namespace = {}
    try:
        exec(code[0], namespace)
        capsys.readouterr()
        exec(next(source for source in code if "METADATA_LOCKS" in source), namespace)
    finally:
        from coursekit.pgserver import postgres_url

        with create_engine(postgres_url(), isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    said = capsys.readouterr().out
    assert "Sleep" in said and "RUNNING" in said, said  # innodb_trx: the report's open transaction
    assert re.search(r"SHARED_READ\s+TRANSACTION\s+GRANTED", said), said
