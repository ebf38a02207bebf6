"""The migration engine: versions, upgrade/downgrade, one transaction per step, clear refusals."""

import itertools

import pytest
from sqlalchemy import create_engine, inspect, text

from coursekit.dataset import generate_orders
from coursekit.migrations import MigrationError, Migrator, Step, enable_transactional_ddl
from coursekit.order_steps import ORDER_STEPS, create_shop
from tests.conftest import snapshot

ROWS = 300


def shop_engine(rows=ROWS):
    return create_shop(rows=rows)


@pytest.fixture(scope="module")
def from_scratch():
    """The snapshot at each version, reached by upgrading a fresh database one step at a time."""
    snapshots = {}
    for version in range(len(ORDER_STEPS) + 1):
        engine = shop_engine()
        Migrator(engine, ORDER_STEPS).upgrade(version)
        snapshots[version] = snapshot(engine)
    return snapshots


def test_versions_differ_so_the_comparison_means_something(from_scratch):
    schemas = [repr(from_scratch[v][:2]) for v in from_scratch]
    assert len(set(schemas)) == len(schemas) - 1, "only step 2 (a data step) leaves the schema as it was"


@pytest.mark.parametrize("start, target", list(itertools.product(range(5), repeat=2)))
def test_every_version_reachable_from_every_other(from_scratch, start, target):
    engine = shop_engine()
    migrator = Migrator(engine, ORDER_STEPS)
    migrator.go_to(start)
    assert migrator.current() == start
    migrator.go_to(target)
    assert migrator.current() == target
    assert snapshot(engine) == from_scratch[target]


def test_backfill_matches_the_data_and_a_downgrade_resets_it():
    engine = shop_engine()
    migrator = Migrator(engine, ORDER_STEPS)
    migrator.upgrade(2)
    rows = generate_orders(ROWS)
    expected = {r[0]: "refunded" if r[6] else "shipped" if r[5] else "pending" for r in rows}
    with engine.connect() as conn:
        assert dict(conn.execute(text("SELECT order_id, status FROM orders")).all()) == expected
    migrator.downgrade(1)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT DISTINCT status FROM orders")).scalars().all() == ["pending"]


def test_the_version_is_stored_in_the_database():
    engine = shop_engine()
    Migrator(engine, ORDER_STEPS).upgrade(3)
    assert Migrator(engine, ORDER_STEPS).current() == 3, "a new migrator reads the stored version"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version FROM schema_version")).scalar_one() == 3


def test_history_records_each_step_with_its_sql():
    migrator = Migrator(shop_engine(), ORDER_STEPS)
    migrator.upgrade(2)
    migrator.downgrade(1)
    assert [run.describe() for run in migrator.history] == [
        "upgrade 0 → 1: Add a status column",
        "upgrade 1 → 2: Fill in each order's status",
        "downgrade 2 → 1: Fill in each order's status",
    ]
    assert migrator.history[0].sql == ORDER_STEPS[0].upgrade


def test_a_failing_step_leaves_the_database_exactly_as_before():
    engine = shop_engine()
    migrator = Migrator(engine, ORDER_STEPS)
    migrator.upgrade(2)
    with engine.begin() as conn:
        conn.execute(text("UPDATE orders SET status = 'lost' WHERE order_id = 'ORD-0000001'"))
    before = snapshot(engine)
    with pytest.raises(MigrationError, match="Step 3 .* rolled back: CHECK constraint failed.*still at version 2"):
        migrator.upgrade()
    assert snapshot(engine) == before and migrator.current() == 2
    assert not inspect(engine).has_table("orders_new")


def test_a_multi_statement_step_is_atomic_ddl_included():
    engine = shop_engine()
    broken = Step("Add two columns, then fail", ("ALTER TABLE orders ADD COLUMN a TEXT", "SELECT * FROM nowhere"), ())
    migrator = Migrator(engine, (broken,))
    before = snapshot(engine)
    with pytest.raises(MigrationError, match="no such table: nowhere"):
        migrator.upgrade()
    assert snapshot(engine) == before


def test_without_the_recipe_sqlite_keeps_half_a_step():
    """The reason enable_transactional_ddl exists: this test fails the day Python's sqlite3 changes."""
    engine = create_engine("sqlite:///:memory:")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (a INTEGER)"))
    with pytest.raises(RuntimeError), engine.begin() as conn:
        conn.execute(text("ALTER TABLE t ADD COLUMN b TEXT"))
        raise RuntimeError
    assert [c["name"] for c in inspect(engine).get_columns("t")] == ["a", "b"]
    enable_transactional_ddl(engine)
    enable_transactional_ddl(engine)  # idempotent
    with pytest.raises(RuntimeError), engine.begin() as conn:
        conn.execute(text("ALTER TABLE t ADD COLUMN c TEXT"))
        raise RuntimeError
    assert [c["name"] for c in inspect(engine).get_columns("t")] == ["a", "b"]


def test_the_recipe_leaves_an_autocommit_connection_in_autocommit(tmp_path):
    """VACUUM needs AUTOCOMMIT; a BEGIN from the recipe would fail it and silently roll back what ran beside it."""
    engine = enable_transactional_ddl(create_engine(f"sqlite:///{tmp_path / 'shop.db'}"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("CREATE TABLE t (a INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
        conn.execute(text("VACUUM"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT a FROM t")).scalars().all() == [1]


@pytest.mark.parametrize("bad", [-1, 5, 2.0, "3", None, True, "head; DROP TABLE orders"])
def test_unknown_versions_are_refused_with_the_range(bad):
    engine = shop_engine()
    migrator = Migrator(engine, ORDER_STEPS)
    with pytest.raises(MigrationError, match="versions 0 .* to 4"):
        migrator.go_to(bad)
    assert migrator.current() == 0 and snapshot(engine) == snapshot(shop_engine())


def test_wrong_direction_says_which_call_to_use():
    migrator = Migrator(shop_engine(), ORDER_STEPS)
    migrator.upgrade(3)
    with pytest.raises(MigrationError, match=r"use downgrade\(1\)"):
        migrator.upgrade(1)
    with pytest.raises(MigrationError, match=r"use upgrade\(4\)"):
        migrator.downgrade(4)
    assert migrator.upgrade(3) == [] and migrator.downgrade(3) == []


def test_migrating_before_the_table_exists_says_which_cell_to_run():
    migrator = Migrator(create_engine("sqlite:///:memory:"), ORDER_STEPS)
    with pytest.raises(MigrationError, match="Run the cell that creates and loads the orders table first"):
        migrator.upgrade(1)
    assert migrator.current() == 0


def test_a_migration_needs_steps():
    with pytest.raises(MigrationError, match="at least one Step"):
        Migrator(create_engine("sqlite:///:memory:"), [])
