"""The Alembic migrations, tested the way a team tests them in CI.

The stairway: on a database holding the data set, every revision in order is upgraded, downgraded and upgraded
again; the schema after the second upgrade must equal the schema after the first, the downgrade must give back
the schema from before, and no order's id or amount may change. Then the model (coursekit/models.py) must match
the database at head, and the offline SQL (``--sql``) must render.
"""

import io

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, MetaData, Text, inspect

from coursekit.alembic_setup import MIGRATIONS_DIR, alembic_config
from coursekit.dataset import COLUMNS, insert_orders, read_orders_csv
from coursekit.db import make_engine
from coursekit.migrations import enable_transactional_ddl
from coursekit.models import NAMING_CONVENTION, metadata
from coursekit.schema import rules_frame, schema_frame
from coursekit.verify import table_fingerprint

ORDERS = read_orders_csv()


def revisions_in_order():
    """The revisions from the first to head."""
    return [script.revision for script in reversed(list(ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions()))]


@pytest.fixture
def engine():
    engine = enable_transactional_ddl(make_engine("sqlite:///:memory:"))
    yield engine
    engine.dispose()


def migrate(engine, action, target):
    with engine.begin() as conn:
        getattr(command, action)(alembic_config(conn), target)


def snapshot(engine):
    """Everything a migration may change: the revision, the tables, and the orders table's columns, indexes, checks."""
    with engine.connect() as conn:
        revision = MigrationContext.configure(conn).get_current_revision()
    tables = sorted(set(inspect(engine).get_table_names()) - {"alembic_version"})
    if "orders" not in tables:
        return {"revision": revision, "tables": tables}
    return {
        "revision": revision,
        "tables": tables,
        "columns": schema_frame(engine).to_dict("records"),
        "rules": rules_frame(engine).to_dict("records"),
    }


def fingerprints(engine):
    """The orders' ids and amounts, and every column the table has now (so a status lost on the way shows too)."""
    if not inspect(engine).has_table("orders"):
        return None
    columns = tuple(column["name"] for column in inspect(engine).get_columns("orders"))
    with engine.connect() as conn:
        return table_fingerprint(conn, "orders", ("order_id", "amount")), table_fingerprint(conn, "orders", columns)


def load_orders(engine):
    with engine.begin() as conn:
        insert_orders(conn, ORDERS, columns=COLUMNS)


def test_the_revisions_form_one_line_from_0001_to_0005():
    assert revisions_in_order() == ["0001", "0002", "0003", "0004", "0005"]


def test_stairway_up_down_up_for_every_revision(engine):
    ids_and_amounts = None
    for revision in revisions_in_order():
        before, data_before = snapshot(engine), fingerprints(engine)
        migrate(engine, "upgrade", revision)
        if revision == "0001":  # the table exists from here on: load the shop's orders
            load_orders(engine)
            ids_and_amounts = fingerprints(engine)[0]
        after_first, data_first = snapshot(engine), fingerprints(engine)

        migrate(engine, "downgrade", "-1")
        assert snapshot(engine) == before, f"downgrading {revision} did not give back the schema before it"
        if revision != "0001":  # 0001's downgrade drops the table, orders and all (its docstring says so)
            assert fingerprints(engine) == data_before, f"downgrading {revision} did not give back the rows before it"

        migrate(engine, "upgrade", revision)
        if revision == "0001":
            load_orders(engine)
        assert snapshot(engine) == after_first, f"upgrading {revision} again gave another schema"
        assert fingerprints(engine) == data_first, f"upgrading {revision} again gave other rows"
        assert data_first[0] == ids_and_amounts == {"rows": len(ORDERS), "sha256": ids_and_amounts["sha256"]}

    migrate(engine, "downgrade", "base")
    assert snapshot(engine) == {"revision": None, "tables": []}
    migrate(engine, "upgrade", "head")
    assert snapshot(engine) == after_first


def test_the_backfill_sets_each_status_from_the_dates(engine):
    migrate(engine, "upgrade", "0002")
    load_orders(engine)
    migrate(engine, "upgrade", "0003")
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT shipped_at, refunded_at, status FROM orders").all()
    expected = ["refunded" if refunded else "shipped" if shipped else "pending" for shipped, refunded, _ in rows]
    assert [status for *_, status in rows] == expected
    assert {"pending", "shipped", "refunded"} == set(expected)


def compare_with_database(engine, model):
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True, "target_metadata": model}
        )
        return compare_metadata(context, model)


def test_the_model_matches_the_database_at_head(engine):
    migrate(engine, "upgrade", "head")
    assert compare_with_database(engine, metadata) == []


def test_autogenerate_would_notice_a_model_that_drifted(engine):
    migrate(engine, "upgrade", "0004")  # no index yet: the model has one
    differences = compare_with_database(engine, metadata)
    assert [difference[0] for difference in differences] == ["add_index"]
    drifted = MetaData(naming_convention=NAMING_CONVENTION)
    metadata.tables["orders"].to_metadata(drifted).append_column(
        Column("currency", Text, nullable=False, server_default="EUR")
    )
    migrate(engine, "upgrade", "head")
    assert [difference[0] for difference in compare_with_database(engine, drifted)] == ["add_column"]


def offline_sql(*arguments, url="sqlite://", connection=None):
    """The SQL of an upgrade ("up") or downgrade ("down") to the target, for the dialect of `url` or `connection`."""
    buffer = io.StringIO()
    config = alembic_config(connection)
    config.output_buffer = buffer
    if url:
        config.set_main_option("sqlalchemy.url", url)
    (command.downgrade if arguments[0] == "down" else command.upgrade)(config, arguments[1], sql=True)
    return buffer.getvalue()


def test_the_offline_sql_renders_every_revision():
    sql = offline_sql("up", "head")
    for piece in ("CREATE TABLE orders", "ADD COLUMN status TEXT DEFAULT 'pending' NOT NULL", "UPDATE orders SET",
                  "CREATE TABLE _alembic_tmp_orders", "CONSTRAINT ck_orders_status CHECK",
                  "CREATE INDEX ix_orders_status ON orders (status)",
                  "UPDATE alembic_version SET version_num='0005'"):
        assert piece in sql, piece
    assert "DROP TABLE orders" in offline_sql("down", "head:base")


def test_on_postgresql_the_check_is_added_in_place_without_a_rebuild():
    sql = offline_sql("up", "0003:0004", url="postgresql+psycopg://")
    assert "ALTER TABLE orders ADD CONSTRAINT ck_orders_status CHECK" in sql
    assert "_alembic_tmp_orders" not in sql
    assert sql.startswith("BEGIN;") and "sqlite3" not in sql, "PostgreSQL's script gets no advice for SQLite's shell"

