"""The transition stepper's widgets, driven from Python as clicks would drive them, on lesson 07's shop."""

import re

import pytest
from sqlalchemy import inspect, text

from coursekit.migrations import Migrator
from coursekit.transition import Transition
from coursekit.transition_stepper import BAD, GOOD, TransitionStepper
from tests.transition_shop import RENAME_STEPS, V1, V2, build_shop, compatibility_on, make_transition

DEPLOYED_SETS = [(), ("v1",), ("v2",), ("v1", "v2")]
# Which versions each move breaks, on lesson 07's shop: applying expand leaves total_eur NULL in the old rows (v2 reads
# NULL), contract drops amount (v1's every query), undoing expand drops total_eur (v2's every query). Undoing migrate
# keeps the copied values (its downgrade runs nothing), undoing contract brings amount back with its triggers.
BREAKS = {(0, 1): {"v2"}, (1, 2): set(), (2, 3): {"v1"}, (1, 0): {"v2"}, (2, 1): set(), (3, 2): set()}


def at_phase(version, deployed, rows=100):
    """A stepper on a shop moved to ``version`` (up from 0), with exactly ``deployed`` running."""
    transition = make_transition(rows, deployed=())
    transition.migrator.go_to(version)
    transition.deployed.update(deployed)
    return TransitionStepper(transition)


def toggles(stepper):
    return [toggle.value for toggle in stepper.toggles]


def matrix_row(stepper, name):
    """The colours of one version's row in the matrix: writes, reads v1's, reads v2's, reads old rows."""
    row = re.search(rf"<tr><th>shop {name} \(.*?\)</th>(.*?)</tr>", stepper.matrix.value).group(1)
    cells = re.findall(r"<td( style='background-color: (#\w+)')?>", row)
    return ["green" if colour == GOOD else "red" if colour == BAD else "-" for _, colour in cells]


def panel_reads(stepper, name):
    """The panel's table: (order, written, what this version reads, green or red) for each order followed."""
    found = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td style='background-color: (#\w+)'>(.*?)</td></tr>",
                       stepper.panels[name].reads.value)
    return [(order, written, read, "green" if colour == GOOD else "red") for order, written, colour, read in found]


# Expected matrix rows at each version, from lesson 07's table of phases (not from the code under test).
EXPECTED_MATRIX = {
    0: {"v1": ["green", "green", "-", "green"], "v2": ["red", "red", "-", "red"]},
    1: {"v1": ["green", "green", "green", "green"], "v2": ["green", "green", "green", "red"]},
    2: {"v1": ["green", "green", "green", "green"], "v2": ["green", "green", "green", "green"]},
    3: {"v1": ["red", "-", "red", "red"], "v2": ["green", "-", "green", "green"]},
}


@pytest.mark.parametrize("deployed", DEPLOYED_SETS, ids=lambda names: "+".join(names) or "none")
@pytest.mark.parametrize("version", [0, 1, 2, 3])
def test_every_phase_and_deployed_set_shows_the_matrix_the_panels_and_refuses_exactly_the_breaking_moves(version,
                                                                                                       deployed):
    stepper = at_phase(version, deployed)
    assert toggles(stepper) == [number <= version for number in (1, 2, 3)]
    assert stepper.summary() == (f"Transition stepper for orders: version {version} of 3; deployed: "
                                 f"{', '.join(deployed) or 'none'}")
    for name in ("v1", "v2"):
        panel = stepper.panels[name]
        assert panel.deployed.value == (name in deployed) and panel.place_button.disabled == (name not in deployed)
        assert matrix_row(stepper, name) == EXPECTED_MATRIX[version][name], name
    for target in (version - 1, version + 1):
        if not 0 <= target <= 3:
            continue
        stepper = at_phase(version, deployed)
        if target > version:
            stepper.toggles[target - 1].value = True
        else:
            stepper.toggles[version - 1].value = False
        broken = BREAKS[(version, target)] & set(deployed)
        if broken:
            assert stepper.last_message.startswith("⚠️ Refused, nothing ran:"), stepper.last_message
            assert f"would break shop {min(broken)}, which is deployed" in stepper.last_message
            assert stepper.migrator.current() == version and toggles(stepper)[max(version, target) - 1] == (
                version > target), "the step button springs back"
        else:
            assert stepper.migrator.current() == target, stepper.last_message
            assert "Write transaction (the table locked meanwhile)" in stepper.last_message


def test_the_whole_transition_with_orders_from_both_versions_and_every_cross_version_read():
    stepper = at_phase(0, ("v1",))
    stepper.panels["v2"].deployed.value = True
    assert "cannot be deployed at version 0 of 3" in stepper.last_message and not stepper.panels["v2"].deployed.value
    stepper.toggles[0].value = True  # expand
    stepper.panels["v1"].place_button.click()
    assert stepper.last_message.startswith("Shop v1 ran place_order_v1('NEW-V1-1', 10.0): INSERT INTO orders")
    assert panel_reads(stepper, "v2")[0] == ("NEW-V1-1", "10.0 (shop v1)", "10.0", "green"), "the trigger copied it"
    assert panel_reads(stepper, "v2")[-1][2:] == ("NULL", "red"), "an old order: total_eur not filled in yet"
    assert "not deployed: what it would read" in stepper.panels["v2"].reads.value
    stepper.toggles[1].value = True  # migrate
    assert panel_reads(stepper, "v2")[-1][3] == "green"
    stepper.panels["v2"].deployed.value = True
    assert stepper.last_message == "Shop v2 is deployed: running now: v1, v2."
    stepper.panels["v2"].amount_box.value = 22.5
    stepper.panels["v2"].place_button.click()
    assert panel_reads(stepper, "v1")[0] == ("NEW-V2-1", "22.5 (shop v2)", "22.5", "green"), "v1 reads v2's order"
    stepper.panels["v2"].order_box.value = "NEW-V1-1"
    stepper.panels["v2"].amount_box.value = 12.0
    stepper.panels["v2"].update_button.click()
    assert panel_reads(stepper, "v1")[0] == ("NEW-V1-1", "12.0 (shop v2)", "12.0", "green"), "v1 reads v2's change"
    stepper.toggles[2].value = True  # contract, too early
    assert "would break shop v1, which is deployed: shop v1's place_order_v1 runs `INSERT" in stepper.last_message
    assert "no column named amount" in stepper.last_message and toggles(stepper) == [True, True, False]
    stepper.panels["v1"].deployed.value = False
    assert stepper.last_message == "Shop v1 is retired: running now: v2." and stepper.panels["v1"].place_button.disabled
    stepper.toggles[2].value = True
    assert stepper.last_message.startswith("Applied 3. contract. The database is now at version 3 of 3.")
    assert [read for _, _, read, _ in panel_reads(stepper, "v2")] == ["12.0", "22.5", panel_reads(stepper, "v2")[-1][2]]
    assert all(colour == "green" for *_, colour in panel_reads(stepper, "v2"))
    assert all(colour == "red" for *_, colour in panel_reads(stepper, "v1")), "v1 cannot read anything now"
    assert "No trigger on orders" in stepper.costs.value


def test_the_costs_show_the_sync_triggers_of_the_phase_and_how_long_the_step_held_the_table():
    stepper = at_phase(0, ("v1",))
    assert "No trigger on orders" in stepper.costs.value
    stepper.toggles[0].value = True
    assert "4 trigger(s) on orders run with every write" in stepper.costs.value
    assert "CREATE TRIGGER sync_total_eur_on_insert AFTER INSERT ON orders" in stepper.costs.value
    stepper.toggles[1].value = True
    figure = f"{stepper.migrator.history[-1].seconds * 1000:.1f} ms"
    assert (f"The last step (upgrade 1 → 2: migrate) held a write transaction for <b>{figure}</b> on 100 rows"
            in stepper.costs.value)
    assert f"migrate {figure}" in stepper.last_message


def test_the_lock_of_a_migrate_click_grows_with_the_table():
    """The issue's figure: a migrate click on 100k rows, its write transaction measured (SQLite: the table locked)."""
    held = {}
    for rows in (1_000, 100_000):
        stepper = at_phase(1, ("v1",), rows=rows)
        stepper.toggles[1].value = True
        held[rows] = stepper.migrator.history[-1].seconds
        assert f"on {rows:,} rows" in stepper.costs.value
    assert held[100_000] > 5 * held[1_000], held  # a hundred times the rows; 5x leaves room for a loaded machine


# --- state stays true: moved or deployed outside the stepper ------------------------------------------------------

def test_a_database_moved_outside_is_shown_and_the_matrix_follows():
    stepper = at_phase(0, ("v1",))
    Migrator(stepper.migrator.engine, RENAME_STEPS).upgrade(2)  # a later cell
    stepper.update_from_database()
    assert stepper.last_message == "The database was moved to version 2 outside the stepper (the stepper showed " \
                                   "version 0)."
    assert matrix_row(stepper, "v2") == EXPECTED_MATRIX[2]["v2"] and toggles(stepper) == [True, True, False]


def test_a_deploy_outside_the_stepper_is_shown_and_said_before_the_next_click_acts():
    stepper = at_phase(2, ("v1",))
    stepper.transition.deploy("v2")  # a cell deploys v2
    stepper.transition.retire("v1")
    stepper.update_from_database()
    assert stepper.last_message == "Outside the stepper, shop v2 was deployed and shop v1 was retired."
    assert stepper.panels["v2"].deployed.value and not stepper.panels["v1"].deployed.value
    assert "its SQL is not known here" not in stepper.sql.value, "no SQL moved anything"
    stepper.transition.deploy("v1")  # again outside; the learner clicks contract before looking
    stepper.toggles[2].value = True
    assert stepper.last_message.startswith("Outside the stepper, shop v1 was deployed. ⚠️ Refused, nothing ran: "
                                           "applying 3. contract would break shop v1")
    assert stepper.migrator.current() == 2


def test_a_write_outside_to_an_order_the_panels_follow_is_shown():
    stepper = at_phase(2, ("v1", "v2"))
    stepper.place_order("v1", "MINE", 1.0)
    with stepper.migrator.engine.begin() as conn:
        V2.update_amount(conn, "MINE", 2.0)  # a cell runs v2's code by hand
    stepper.update_from_database()
    assert panel_reads(stepper, "v1")[0] == ("MINE", "1.0 (shop v1)", "2.0", "red")


@pytest.fixture
def shell(tmp_path, monkeypatch):
    """A real IPython shell running cells as a notebook does (as in tests/test_stepper.py)."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    monkeypatch.setenv("IPYTHONDIR", str(tmp_path))
    config = Config()
    config.HistoryManager.enabled = False
    shell = InteractiveShell.instance(config=config)
    shell.user_ns.update(TransitionStepper=TransitionStepper, shop=make_transition(100))
    yield shell
    InteractiveShell.clear_instance()


def test_after_every_cell_the_stepper_shows_the_deployed_versions_and_the_database(shell):
    shell.run_cell("stepper = TransitionStepper(shop)", cell_id="make-stepper").raise_error()
    stepper = shell.user_ns["stepper"]
    shell.run_cell("shop.migrator.upgrade(2)\nshop.deploy('v2')", cell_id="later-cell").raise_error()
    assert stepper.last_message == ("The database was moved to version 2 outside the stepper (the stepper showed "
                                    "version 0). Outside the stepper, shop v2 was deployed.")
    assert stepper.panels["v2"].deployed.value and toggles(stepper) == [True, True, False]
    for _ in range(2):
        shell.run_cell("stepper = TransitionStepper(shop)", cell_id="make-stepper").raise_error()
    followers = [callback.__self__ for callback in shell.events.callbacks["post_run_cell"]
                 if isinstance(getattr(callback, "__self__", None), TransitionStepper)]
    assert followers == [shell.user_ns["stepper"]], "re-running the cell replaces its stepper"


# --- what a notebook records and what a learner may type --------------------------------------------------------------

def test_the_plain_text_repr_is_a_stable_line_without_an_address():
    stepper = at_phase(2, ("v1", "v2"))
    bundle = stepper._repr_mimebundle_()
    assert bundle["text/plain"] == "Transition stepper for orders: version 2 of 3; deployed: v1, v2"
    assert "application/vnd.jupyter.widget-view+json" in bundle and " at 0x" not in bundle["text/plain"]


def test_wrong_input_is_refused_with_what_to_do():
    stepper = at_phase(2, ("v1",))
    with pytest.raises(TypeError, match=r"Transition\(migrator, \[V1, V2\]\)"):
        TransitionStepper(stepper.migrator)
    stepper.panels["v1"].order_box.value = "ORD-9"
    stepper.panels["v1"].update_button.click()
    assert stepper.last_message == ("⚠️ There is no order 'ORD-9': order ids look like ORD-0000001, or copy one from "
                                    "the panel's table.")
    stepper.place_order("v1", "ORD-0000001", 3.0)
    assert stepper.last_message.startswith("⚠️ Shop v1's place_order_v1 failed, nothing changed: IntegrityError: "
                                           "UNIQUE constraint failed: orders.order_id")
    stepper.place_order("v2", "X", 3.0)
    assert stepper.last_message == "⚠️ Shop v2 is not deployed: deploy it first (its button above its panel)."


def test_a_missing_table_blanks_the_panels_until_it_is_back():
    stepper = at_phase(0, ("v1",))
    with stepper.migrator.engine.begin() as conn:
        conn.execute(text("ALTER TABLE orders RENAME TO orders_gone"))
    stepper.update_from_database()
    assert "There is no table 'orders'" in stepper.last_message
    assert stepper.matrix.value == "" and stepper.panels["v1"].reads.value == ""
    with stepper.migrator.engine.begin() as conn:
        conn.execute(text("ALTER TABLE orders_gone RENAME TO orders"))
    stepper.reload_button.click()
    assert stepper.last_message == "The database can be read again: it is at version 0 of 3."
    assert "orders" in inspect(stepper.migrator.engine).get_table_names()


def test_a_transition_made_from_the_lessons_own_versions_list():
    transition = Transition(Migrator(build_shop(20), RENAME_STEPS), [V1, V2], rule=compatibility_on)
    assert TransitionStepper(transition).summary() == "Transition stepper for orders: version 0 of 3; deployed: v1"


def test_a_broken_compatibility_check_shows_where_the_matrix_would_be_and_a_click_is_refused():
    def broken_rule(conn, apps):
        raise ZeroDivisionError("division by zero")

    stepper = TransitionStepper(Transition(Migrator(build_shop(20), RENAME_STEPS), [V1, V2], rule=broken_rule))
    assert "The compatibility check broken_rule(conn, apps) failed: ZeroDivisionError" in stepper.matrix.value
    stepper.toggles[0].value = True
    assert stepper.last_message.startswith("⚠️ The compatibility check broken_rule(conn, apps) failed")
    assert stepper.migrator.current() == 0 and toggles(stepper) == [False, False, False]


def test_a_new_order_gets_an_id_no_order_has_even_on_a_shop_a_previous_stepper_wrote_to():
    stepper = at_phase(2, ("v1", "v2"))
    stepper.panels["v1"].place_button.click()
    again = TransitionStepper(stepper.transition)  # the cell run again without rebuilding the shop
    again.panels["v1"].place_button.click()
    assert again.last_message.startswith("Shop v1 ran place_order_v1('NEW-V1-2', 10.0)"), again.last_message
