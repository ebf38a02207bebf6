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


# --- The state lives in the database: whatever moved it, the stepper shows it and acts on it ------------------------

def move_by_hand(stepper, *statements):
    with stepper.migrator.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def test_another_migrator_moving_the_database_is_shown_when_the_stepper_reads_it_again(stepper):
    stepper.toggles[2].value = True
    Migrator(stepper.migrator.engine, ORDER_STEPS).upgrade()  # a later cell, a colleague's deploy
    stepper.update_from_database()
    assert states(stepper) == [True] * 4
    assert stepper.last_message == ("The database was moved to version 4 outside the stepper "
                                    "(the stepper showed version 3).")
    assert "ix_orders_status" in stepper.schema.value and "#d4f7d4" in stepper.schema.value, "the index shows added"
    assert "outside the stepper" in stepper.sql.value, "the SQL pane does not claim the stepper's last SQL moved it"
    stepper.reload_button.click()
    assert stepper.last_message.startswith("Nothing changed since the stepper last read the database: version 4")


def test_a_click_on_a_stale_picture_says_the_database_moved_and_does_what_its_label_says(stepper):
    """The issue's case: the stepper shows version 3, a later cell moved the database to 4, the learner clicks 4."""
    stepper.toggles[2].value = True
    Migrator(stepper.migrator.engine, ORDER_STEPS).upgrade()
    stepper.toggles[3].value = True  # shown off: the learner asks for step 4 to be applied
    assert stepper.last_message == (
        "The database was moved to version 4 outside the stepper (the stepper showed version 3). "
        "Step 4 is already applied (the database is at version 4 of 4), so nothing ran."
    )
    assert states(stepper) == [True] * 4 and stepper.migrator.current() == 4
    assert "outside the stepper" in stepper.sql.value and "CREATE TABLE orders_new" not in stepper.sql.value


def test_a_click_on_a_step_shown_off_never_undoes_steps_the_database_moved_past(stepper):
    Migrator(stepper.migrator.engine, ORDER_STEPS).upgrade()  # the stepper still shows version 0
    stepper.toggles[1].value = True  # "on: apply steps 1 to 2"
    assert stepper.migrator.current() == 4, "turning a step on must not undo steps 3 and 4"
    assert stepper.last_message.startswith("The database was moved to version 4 outside the stepper")
    assert "Step 2 is already applied" in stepper.last_message and states(stepper) == [True] * 4


def test_a_step_undone_by_hand_in_sql_is_shown_and_the_next_click_starts_from_there(stepper):
    stepper.toggles[3].value = True
    move_by_hand(stepper, "DROP INDEX ix_orders_status", "UPDATE schema_version SET version = 3")
    stepper.toggles[3].value = False  # shown on: the learner asks for step 4 to be undone; it already is
    assert stepper.last_message.startswith("The database was moved to version 3 outside the stepper (the stepper "
                                           "showed version 4). Step 4 is not applied")
    assert states(stepper) == [True, True, True, False] and stepper.migrator.current() == 3
    stepper.toggles[2].value = False
    assert stepper.last_message == "Undid 3. Allow only known statuses. The database is now at version 2 of 4."
    assert stepper.migrator.current() == 2


def test_a_column_added_by_hand_is_shown_and_the_step_that_adds_it_explains_its_failure(stepper):
    move_by_hand(stepper, "ALTER TABLE orders ADD COLUMN status TEXT NOT NULL DEFAULT 'pending'")
    stepper.update_from_database()
    assert "changed outside the stepper" in stepper.last_message and "still says version 0" in stepper.last_message
    assert "status" in stepper.schema.value and "pending" in stepper.rows.value
    stepper.toggles[0].value = True
    assert "duplicate column name: status" in stepper.last_message
    assert "does not look like version 0" in stepper.last_message and states(stepper) == [False] * 4


def test_a_version_table_edited_to_a_version_that_does_not_exist_disables_the_steps_until_fixed(stepper):
    stepper.toggles[0].value = True
    move_by_hand(stepper, "UPDATE schema_version SET version = 9")
    stepper.update_from_database()
    assert "says version 9, but this migration has versions 0 to 4" in stepper.last_message
    assert all(toggle.disabled and not toggle.value for toggle in stepper.toggles)
    stepper.toggles[3].value = True  # a click that slips through changes nothing
    move_by_hand(stepper, "UPDATE schema_version SET version = 1")
    assert stepper.migrator.current() == 1
    stepper.reload_button.click()
    assert stepper.last_message == "The database can be read again: it is at version 1 of 4."
    assert states(stepper) == [True, False, False, False] and not any(t.disabled for t in stepper.toggles)


@pytest.fixture
def shell(tmp_path, monkeypatch):
    """A real IPython shell, running cells as a notebook does (with cell ids, as JupyterLab sends them)."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    monkeypatch.setenv("IPYTHONDIR", str(tmp_path))
    config = Config()
    config.HistoryManager.enabled = False
    shell = InteractiveShell.instance(config=config)
    shell.user_ns.update(Migrator=Migrator, ORDER_STEPS=ORDER_STEPS, MigrationStepper=MigrationStepper,
                         engine=create_shop(rows=200))
    yield shell
    InteractiveShell.clear_instance()


def steppers_following_cells(shell):
    return [callback.__self__ for callback in shell.events.callbacks["post_run_cell"]
            if isinstance(getattr(callback, "__self__", None), MigrationStepper)]


def test_after_every_cell_the_stepper_shows_the_database_as_it_is(shell):
    shell.run_cell("stepper = MigrationStepper(Migrator(engine, ORDER_STEPS))\nstepper.toggles[2].value = True",
                   cell_id="make-stepper")
    stepper = shell.user_ns["stepper"]
    assert states(stepper) == [True, True, True, False]
    shell.run_cell("Migrator(engine, ORDER_STEPS).upgrade()", cell_id="later-cell").raise_error()
    assert states(stepper) == [True] * 4, "no click needed: the cell's end refreshed the stepper"
    assert stepper.last_message.startswith("The database was moved to version 4 outside the stepper")
    shell.run_cell("1 + 1", cell_id="unrelated-cell")
    assert stepper.last_message.startswith("The database was moved to version 4"), "nothing changed: nothing redrawn"
    shell.run_cell("from sqlalchemy import text\nwith engine.begin() as conn:\n"
                   "    conn.execute(text(\"UPDATE orders SET status = 'cancelled' WHERE order_id = 'ORD-0000001'\"))",
                   cell_id="the-shop-writes").raise_error()
    assert "cancelled" in stepper.rows.value, "rows a cell wrote are shown"


def test_running_the_cell_again_replaces_its_stepper_instead_of_piling_them_up(shell):
    for _ in range(3):
        shell.run_cell("stepper = MigrationStepper(Migrator(engine, ORDER_STEPS))", cell_id="make-stepper")
    assert steppers_following_cells(shell) == [shell.user_ns["stepper"]]
    shell.run_cell("other = MigrationStepper(Migrator(engine, ORDER_STEPS))", cell_id="another-cell")
    assert len(steppers_following_cells(shell)) == 2, "a stepper made by another cell stays"
    shell.user_ns["other"].close()
    assert steppers_following_cells(shell) == [shell.user_ns["stepper"]]
