"""Helpers used out of order (no table yet, a change already made by hand, an odd version) say what to do."""

import numpy as np
import pytest
from sqlalchemy import create_engine, text

from coursekit.dataset import generate_orders, insert_orders
from coursekit.db import make_engine
from coursekit.migrations import MigrationError, Migrator
from coursekit.order_steps import CREATE_ORDERS, ORDER_STEPS
from coursekit.stepper import MigrationStepper
from coursekit.verify import table_fingerprint


def shop():
    engine = create_engine("sqlite:///:memory:")
    with engine.begin() as conn:
        conn.execute(text(CREATE_ORDERS))
        insert_orders(conn, generate_orders(20))
    return engine


def test_a_column_already_added_by_hand_says_to_restart():
    engine = shop()
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE orders ADD COLUMN status TEXT"))
    with pytest.raises(MigrationError, match="duplicate column.*does not look like version 0.*Restart & Run All"):
        Migrator(engine, ORDER_STEPS).upgrade(1)


def test_an_index_dropped_by_hand_says_to_restart():
    engine = shop()
    migrator = Migrator(engine, ORDER_STEPS)
    migrator.upgrade()
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_orders_status"))
    with pytest.raises(MigrationError, match="no such index.*does not look like version 4.*Restart & Run All"):
        migrator.downgrade(3)
    assert migrator.current() == 4


def test_a_migrator_without_an_engine_says_which_cell_to_run():
    with pytest.raises(MigrationError, match="needs a SQLAlchemy Engine, got NoneType.*make_engine"):
        Migrator(None, ORDER_STEPS)


def test_a_numpy_integer_is_a_version():
    migrator = Migrator(shop(), ORDER_STEPS)
    migrator.go_to(np.int64(2))  # e.g. a value read from a DataFrame
    assert migrator.current() == 2


def test_nothing_to_do_is_not_an_error():
    migrator = Migrator(shop(), ORDER_STEPS)
    assert migrator.downgrade() == [] and migrator.reset() == []
    migrator.upgrade(2)
    assert migrator.upgrade(2) == [] and migrator.go_to(2) == [] and migrator.current() == 2


@pytest.mark.parametrize("columns", [(), [], None, 42])
def test_a_fingerprint_without_columns_says_how_to_name_them(columns):
    with shop().connect() as conn, pytest.raises(ValueError, match=r"as a tuple, e.g. \('order_id', 'amount'\)"):
        table_fingerprint(conn, "orders", columns)


def test_one_column_name_is_one_column_not_its_letters():
    with shop().connect() as conn:
        assert table_fingerprint(conn, "orders", "amount") == table_fingerprint(conn, "orders", ("amount",))


def test_loading_into_a_missing_table_says_which_cell_to_run():
    engine = create_engine("sqlite:///:memory:")
    with engine.begin() as conn, pytest.raises(LookupError, match="no table 'orders'.*Run the cell that creates it"):
        insert_orders(conn, generate_orders(3))


def test_loading_rows_of_the_wrong_shape_says_what_a_row_is():
    with shop().begin() as conn, pytest.raises(ValueError, match="Each row needs 7 values"):
        insert_orders(conn, [("ORD-X", 1.0)])


def test_loading_no_rows_loads_nothing():
    engine = shop()
    with engine.begin() as conn:
        assert insert_orders(conn, []) == 0
        assert conn.execute(text("SELECT count(*) FROM orders")).scalar_one() == 20


def test_writing_a_status_after_the_table_is_gone_says_which_cell_to_run():
    engine = make_engine("sqlite:///:memory:")
    with engine.begin() as conn:
        conn.execute(text(CREATE_ORDERS))
        insert_orders(conn, generate_orders(5))
    stepper = MigrationStepper(Migrator(engine, ORDER_STEPS))
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE orders"))
    stepper.write_status("ORD-0000001", "shipped")
    assert "There is no table 'orders'" in stepper.last_message
    assert "Run the cell that creates it first, or Restart & Run All" in stepper.last_message
