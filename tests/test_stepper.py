"""The stepper widget, driven from Python as a click would drive it."""

import threading

import pytest
from sqlalchemy import create_engine, text

from coursekit.db import make_engine
from coursekit.migrations import Migrator
from coursekit.order_steps import ORDER_STEPS, create_shop
from coursekit.stepper import MigrationStepper


@pytest.fixture
def stepper():
    return MigrationStepper(Migrator(create_shop(rows=200), ORDER_STEPS))


def states(stepper):
    return [toggle.value for toggle in stepper.toggles]


def test_starts_at_version_zero_with_plain_labels(stepper):
    assert states(stepper) == [False] * 4
    assert [t.description for t in stepper.toggles] == [
        "1. Add a status column", "2. Fill in each order's status", "3. Allow only known statuses",
        "4. Index orders by status",
    ]
    assert "status" not in stepper.schema.value
    assert stepper.summary() == "Migration stepper for orders: version 0 of 4; steps applied: none"


def test_turning_a_later_step_on_applies_the_earlier_ones_first(stepper):
    stepper.toggles[2].value = True
    assert states(stepper) == [True, True, True, False]
    assert stepper.migrator.current() == 3
    assert "ck_orders_status" in stepper.schema.value and "ix_orders_status" not in stepper.schema.value
    assert "CREATE TABLE orders_new" in stepper.sql.value
    assert stepper.last_message.startswith("Applied 1. Add a status column, 2.")


def test_turning_a_step_off_rolls_back_every_later_one(stepper):
    stepper.toggles[3].value = True
    stepper.toggles[1].value = False
    assert states(stepper) == [True, False, False, False]
    assert stepper.migrator.current() == 1
    assert "Undid 4. Index orders by status, 3. Allow only known statuses, 2." in stepper.last_message
    assert "DROP INDEX ix_orders_status" in stepper.sql.value
    assert "#f9d0d0" in stepper.schema.value, "what the action removed is highlighted"


def test_schema_and_rows_follow_the_version(stepper):
    stepper.toggles[0].value = True
    assert "status" in stepper.schema.value and "#d4f7d4" in stepper.schema.value, "the added column is green"
    assert "pending" in stepper.rows.value and "200 rows" in stepper.rows.value
    stepper.toggles[1].value = True
    assert "shipped" in stepper.rows.value
    stepper.reset_button.click()
    assert states(stepper) == [False] * 4 and "status" not in stepper.rows.value
    assert stepper.migrator.current() == 0


def test_a_failing_step_is_reported_and_the_buttons_keep_the_true_state(stepper):
    stepper.toggles[1].value = True
    with stepper.migrator.engine.begin() as conn:
        conn.execute(text("UPDATE orders SET status = 'lost' WHERE order_id = 'ORD-0000003'"))
    stepper.toggles[2].value = True
    assert states(stepper) == [True, True, False, False], "the toggle springs back"
    assert stepper.last_message.startswith("⚠️ Step 3 (Allow only known statuses) failed")
    assert stepper.migrator.current() == 2


def test_reset_at_version_zero_says_there_is_nothing_to_do(stepper):
    stepper.reset_button.click()
    assert stepper.last_message == "Nothing to do: the database is already at version 0."


def test_plain_text_repr_is_a_stable_summary(stepper):
    bundle = stepper._repr_mimebundle_()
    assert bundle["text/plain"] == stepper.summary()
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_writing_a_status_binds_it_as_a_value(stepper):
    stepper.write_status("ORD-0000001", "cancelled")
    assert "Apply step 1 first" in stepper.last_message
    stepper.toggles[0].value = True
    hostile = "status'; DROP TABLE orders; --"
    stepper.write_status("ORD-0000001", hostile)
    with stepper.migrator.engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM orders WHERE order_id = 'ORD-0000001'")).scalar_one() == hostile
        assert conn.execute(text("SELECT count(*) FROM orders")).scalar_one() == 200


def test_the_check_of_step_3_refuses_an_unknown_status_and_a_rollback_shows_it(stepper):
    stepper.toggles[1].value = True
    stepper.write_status("ORD-0000005", "lost")
    stepper.toggles[2].value = True
    assert "CHECK constraint failed" in stepper.last_message and states(stepper) == [True, True, False, False]
    stepper.write_status("ORD-0000005", "pending")
    stepper.toggles[2].value = True
    stepper.write_status("ORD-0000005", "lost")
    assert stepper.last_message.startswith("⚠️ Refused by the database, nothing changed: CHECK constraint failed")


def test_unknown_orders_and_empty_statuses_are_explained(stepper):
    stepper.toggles[0].value = True
    stepper.write_status("ORD-9", "shipped")
    assert "There is no order 'ORD-9'" in stepper.last_message
    stepper.write_status("ORD-0000001", "   ")
    assert "Type a status" in stepper.last_message


def test_a_click_handled_on_another_thread_sees_the_same_database(stepper):
    """ipykernel 7 may run a widget's handler on a subshell thread: the in-memory database must be shared."""
    clicker = threading.Thread(target=lambda: setattr(stepper.toggles[3], "value", True))
    clicker.start()
    clicker.join()
    assert stepper.migrator.current() == 4 and stepper.last_message.startswith("Applied 1.")


def test_an_engine_with_a_database_per_thread_is_refused_with_what_to_use():
    engine = create_engine("sqlite:///:memory:")
    with pytest.raises(ValueError, match=r"make_engine\(\)"):
        MigrationStepper(Migrator(engine, ORDER_STEPS))


def test_a_stepper_before_the_table_exists_says_which_cell_to_run():
    with pytest.raises(LookupError, match="Run the cell that creates it first"):
        MigrationStepper(Migrator(make_engine("sqlite:///:memory:"), ORDER_STEPS))
