"""Lessons 01 to 03, the migration engine and the stepper against a real PostgreSQL server.

Each test works in a schema of its own, dropped afterwards, on two servers: the course's own (embedded, always
there, so these never skip) and your own, where one answers (tests.servers.own_postgres_url: the POSTGRES_URL
you ran the tests with, else the local server); only the latter skips, saying why, when it does not answer.
"""

import itertools
import secrets

import nbformat
import pytest
from nbclient import NotebookClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from coursekit.migrations import MigrationError, Migrator
from coursekit.order_steps import ORDER_STEPS, create_shop
from coursekit.pgserver import embedded_url
from coursekit.stepper import MigrationStepper
from tests.conftest import REPO, snapshot
from tests.servers import MARIADB_URL, own_postgres_url, unreachable

pytestmark = pytest.mark.server



@pytest.fixture(scope="module", params=["embedded", "own"])
def server(request):
    """The course's own server (never skips), then yours (skips when it does not answer); the URL's engine."""
    url = embedded_url() if request.param == "embedded" else own_postgres_url()
    engine = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as error:
        if request.param == "embedded":
            raise
        pytest.skip(f"no PostgreSQL server of your own at {engine.url.render_as_string()}: "
                    f"{str(error.orig).splitlines()[0]}")
    yield engine
    engine.dispose()


@pytest.fixture
def schema_url(server):
    """A URL whose connections work in a fresh schema of their own (search_path), dropped afterwards."""
    schema = f"course_test_{secrets.token_hex(4)}"
    with server.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = server.url.render_as_string(hide_password=False)
    separator = "&" if "?" in url else "?"
    yield f"{url}{separator}options=-csearch_path%3D{schema}"
    with server.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))


def shop(url, rows=200):
    return create_shop(url, rows)


def test_every_version_reachable_from_every_other_on_postgresql(schema_url):
    engine = shop(schema_url)
    migrator = Migrator(engine, ORDER_STEPS)
    expected = {0: snapshot(engine)}
    for version in range(1, migrator.head + 1):
        migrator.upgrade(version)
        expected[version] = snapshot(engine)
    assert expected[3][1] != expected[2][1], "step 3 adds the CHECK on PostgreSQL too"
    for start, target in itertools.product(range(migrator.head + 1), repeat=2):
        migrator.go_to(start)
        migrator.go_to(target)
        assert snapshot(engine) == expected[target], (start, target)
    engine.dispose()


def test_a_failing_step_rolls_back_on_postgresql(schema_url):
    engine = shop(schema_url)
    migrator = Migrator(engine, ORDER_STEPS)
    migrator.upgrade(2)
    with engine.begin() as conn:
        conn.execute(text("UPDATE orders SET status = 'lost' WHERE order_id = 'ORD-0000001'"))
    before = snapshot(engine)
    with pytest.raises(MigrationError, match="violated by some row.*still at version 2.*fix those rows"):
        migrator.upgrade()
    assert snapshot(engine) == before and migrator.current() == 2
    engine.dispose()


def test_the_stepper_on_postgresql(schema_url):
    engine = shop(schema_url)
    stepper = MigrationStepper(Migrator(engine, ORDER_STEPS))
    stepper.toggles[3].value = True
    assert stepper.migrator.current() == 4 and "ck_orders_status" in stepper.schema.value
    assert "ALTER TABLE orders ADD CONSTRAINT ck_orders_status" in stepper.sql.value
    stepper.write_status("ORD-0000002", "lost")
    assert "violates check constraint" in stepper.last_message
    stepper.toggles[0].value = False
    assert stepper.migrator.current() == 0 and "status" not in stepper.rows.value
    engine.dispose()


@pytest.mark.parametrize("lesson", ["01-add-a-status-column.ipynb", "02-migration-steps-in-one-transaction.ipynb",
                                    "03-up-and-down-with-the-stepper.ipynb"])
def test_lesson_runs_unchanged_on_postgresql(schema_url, lesson, monkeypatch):
    """Every cell runs and every assertion in it holds; outputs differ from SQLite's (types, defaults)."""
    monkeypatch.setenv("DATABASE_URL", schema_url)
    notebook = nbformat.read(REPO / "notebooks" / lesson, as_version=4)
    NotebookClient(notebook, timeout=300, resources={"metadata": {"path": str(REPO / "notebooks")}}).execute()
    printed = "".join(
        output.get("text", "") for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
    )
    assert "postgresql" in printed or "'pending'::text" in printed, "the lesson really ran on PostgreSQL"


@pytest.mark.parametrize("lesson, variable, cells_needing_18", [
    ("15-migrating-a-live-server.ipynb", "LESSON15_SCHEMA", 0),
    ("16-online-schema-changes.ipynb", "LESSON16_SCHEMA", 2),
])
def test_server_lesson_runs_on_your_own_server_and_says_what_needs_postgresql_18(monkeypatch, lesson, variable,
                                                                                  cells_needing_18):
    """Lessons 15 and 16 top to bottom on your server (POSTGRES_URL), in a schema of their own; no output compared."""
    url = own_postgres_url()
    if unreachable(url):
        pytest.skip(f"no PostgreSQL server of your own: {unreachable(url)}")
    schema = f"lesson{lesson[:2]}_own_{secrets.token_hex(4)}"
    monkeypatch.setenv("POSTGRES_URL", url)
    monkeypatch.setenv(variable, schema)
    notebook = nbformat.read(REPO / "notebooks" / lesson, as_version=4)
    try:
        NotebookClient(notebook, timeout=300, resources={"metadata": {"path": str(REPO / "notebooks")}}).execute()
    finally:
        drop_lesson_15(url, schema)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    printed = ["".join(output.get("text", "") for output in cell.outputs) for cell in code]
    assert printed[0].startswith("Using the server at POSTGRES_URL:\nPostgreSQL ")
    with create_engine(url).connect() as conn:
        version = conn.execute(text("SHOW server_version_num")).scalar_one()
    if int(version) < 180_000:
        needs_18 = [said for said in printed if "needs PostgreSQL 18; this server is" in said]
        assert len(needs_18) == cells_needing_18, "each PostgreSQL 18 cell says so, and nothing fails"


def drop_lesson_15(url, schema):
    # lesson 15's schema and MariaDB database, or lesson 16's schema
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    engine.dispose()
    if not unreachable(MARIADB_URL):
        engine = create_engine(MARIADB_URL)
        with engine.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {schema}"))
        engine.dispose()
