"""Lesson 21's claims about its own steps, tested with the notebook's code (taken from its cells):

- the expand (rename, view, deprecation) runs whole or not at all: a fault after any of its statements leaves phase 0
  exactly as it was, on SQLite (lesson 02's recipe) and on PostgreSQL;
- a contract that fails after dropping the view gives back the view, its INSTEAD OF triggers and the deprecation;
- the contract refuses before ``remove_after`` and while a running version reads the view, and changes nothing then.
"""

import os
from datetime import timedelta

import nbformat
import pytest
from sqlalchemy import create_engine, event, inspect, text

from coursekit.migrations import MigrationError
from coursekit.pgserver import postgres_url
from tests.conftest import REPO
from tests.faults import FailsAfter

LESSON_21 = REPO / "notebooks" / "21-rename-a-table-behind-a-view.ipynb"
EXPAND_STATEMENTS = 4  # rename, view, deprecations table, its row


@pytest.fixture(scope="module")
def lesson():
    """The lesson's SQLite part, its cells run in order up to the one that defines ``contract`` (phase 1 then)."""
    namespace = {}
    for cell in nbformat.read(LESSON_21, as_version=4).cells:
        if cell.cell_type != "code" or cell.source.startswith("%") or "raises-exception" in cell.metadata.get(
                "tags", []):
            continue
        exec(compile(cell.source, str(LESSON_21), "exec"), namespace)  # the course's own notebook
        if "def contract(" in cell.source:
            namespace["LATER"] = namespace["REMOVE_AFTER"] + timedelta(days=1)  # as the lesson's next cell has it
            return namespace
    raise AssertionError("no cell of lesson 21 defines contract()")


def state(engine):
    """The objects (tables, views, triggers, the view's comment) and every row of every table, as a value."""
    with engine.connect() as conn:
        inspector = inspect(conn)
        names = sorted(inspector.get_table_names() + inspector.get_view_names())
        rows = {name: conn.execute(text(f"SELECT * FROM {name} ORDER BY 1")).all() for name in names}
        if conn.dialect.name == "sqlite":
            objects = conn.execute(text("SELECT type, name, sql FROM sqlite_master ORDER BY name")).all()
        else:
            objects = conn.execute(text(
                "SELECT c.relkind::text, c.relname, obj_description(c.oid, 'pg_class') FROM pg_class c "
                "WHERE c.relnamespace = current_schema()::regnamespace ORDER BY 2")).all()
    return objects, rows


@pytest.fixture
def sqlite_engine(lesson):
    engine = lesson["enable_transactional_ddl"](lesson["make_engine"]("sqlite:///:memory:"))
    lesson["build_shop"](engine)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("k", range(EXPAND_STATEMENTS))
def test_a_fault_in_the_expand_leaves_phase_0_on_sqlite(lesson, sqlite_engine, k):
    before = state(sqlite_engine)
    with pytest.raises(RuntimeError, match="an injected fault"), sqlite_engine.begin() as conn:
        lesson["expand"](FailsAfter(conn, k), lesson["TODAY"], lesson["REMOVE_AFTER"])
    assert state(sqlite_engine) == before


def test_the_expand_without_a_fault_changes_the_schema(lesson, sqlite_engine):
    before = state(sqlite_engine)
    with sqlite_engine.begin() as conn:
        lesson["expand"](FailsAfter(conn, EXPAND_STATEMENTS), lesson["TODAY"], lesson["REMOVE_AFTER"])
    assert state(sqlite_engine) != before  # so the test above can fail


@pytest.fixture(scope="module")
def pg_engine(lesson):
    schema = f"lesson21_claims_{os.getpid()}"
    admin = create_engine(postgres_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = create_engine(postgres_url(), connect_args={"options": f"-csearch_path={schema}"})
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


@pytest.mark.server
@pytest.mark.parametrize("k", range(EXPAND_STATEMENTS))
def test_a_fault_in_the_expand_leaves_phase_0_on_postgresql(lesson, pg_engine, k):
    lesson["build_shop"](pg_engine)
    before = state(pg_engine)
    with pytest.raises(RuntimeError, match="an injected fault"), pg_engine.begin() as conn:
        lesson["expand"](FailsAfter(conn, k), lesson["TODAY"], lesson["REMOVE_AFTER"])
    assert state(pg_engine) == before


def in_phase_1(lesson, engine):
    with engine.begin() as conn:
        lesson["expand"](conn, lesson["TODAY"], lesson["REMOVE_AFTER"])
        for statement in lesson["INSTEAD_OF_TRIGGERS"]:
            conn.execute(text(statement))
    return state(engine)


def test_a_contract_that_fails_after_the_drop_gives_everything_back(lesson, sqlite_engine):
    before = in_phase_1(lesson, sqlite_engine)
    assert sum(kind == "trigger" for kind, _, _ in before[0]) == 2

    def fault(conn, cursor, statement, *rest):
        if statement.startswith("DELETE FROM deprecations"):  # after the real DROP VIEW
            raise RuntimeError("an injected fault")

    event.listen(sqlite_engine, "before_cursor_execute", fault)
    try:
        with pytest.raises(RuntimeError, match="an injected fault"), sqlite_engine.begin() as conn:
            lesson["contract"](conn, lesson["LATER"], [lesson["V2"]])
    finally:
        event.remove(sqlite_engine, "before_cursor_execute", fault)
    assert state(sqlite_engine) == before


@pytest.mark.parametrize("when, running, reason", [
    ("TODAY", ["V2"], "the transition period of orders runs until 2026-04-12"),
    ("REMOVE_AFTER", ["V2"], "runs until 2026-04-12; today is 2026-04-12"),
    ("LATER", ["V1", "V2"], "shop v1's place_order_v1 runs `INSERT INTO orders"),
    ("LATER", ["V2", "V1"], "shop v1's"),
])
def test_a_refused_contract_changes_nothing(lesson, sqlite_engine, when, running, reason):
    before = in_phase_1(lesson, sqlite_engine)
    with sqlite_engine.begin() as conn, pytest.raises(MigrationError, match="refused") as refused:
        lesson["contract"](conn, lesson[when], [lesson[name] for name in running])
    assert reason in str(refused.value)
    assert state(sqlite_engine) == before


def test_the_contract_runs_after_the_period_with_v2_alone(lesson, sqlite_engine):
    in_phase_1(lesson, sqlite_engine)
    with sqlite_engine.begin() as conn:
        lesson["contract"](conn, lesson["LATER"], [lesson["V2"]])
    objects, rows = state(sqlite_engine)
    assert [(kind, name) for kind, name, _ in objects if not name.startswith("sqlite_")] == [
        ("table", "deprecations"), ("table", "purchases")]
    assert rows["deprecations"] == [] and len(rows["purchases"]) == 1000
