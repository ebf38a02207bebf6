"""The transition stepper's UI-free layer: steps that are functions, rehearsals, the compatibility rule, deploys."""

import ast
import inspect as python_inspect

import nbformat
import pytest
from sqlalchemy import inspect, text

from coursekit.migrations import MigrationError, Migrator, Step
from coursekit.transition import NOBODY, ShopVersion, Transition, check, sync_code
from tests import transition_shop
from tests.conftest import REPO
from tests.transition_shop import (
    ORIGINAL_AMOUNTS,
    RENAME_STEPS,
    V1,
    V2,
    build_shop,
    compatibility,
    compatibility_on,
    make_transition,
    sync_triggers,
)


def columns(engine):
    return [column["name"] for column in inspect(engine).get_columns("orders")]


def amount_of(engine, order_id, column):
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT {column} FROM orders WHERE order_id = :id"), {"id": order_id}).scalar_one()


# --- the migrator takes any chain of steps ----------------------------------------------------------------------------

def test_a_step_may_be_the_lessons_own_function_and_its_sql_is_recorded():
    migrator = Migrator(build_shop(50), RENAME_STEPS)
    run = migrator.upgrade(1)[0]
    assert "total_eur" in columns(migrator.engine)
    assert run.sql[0].startswith("CREATE TABLE orders_new") and len(run.sql) == 8, run.sql
    assert run.sql[-1].startswith("CREATE TRIGGER sync_amount_on_update") and run.seconds > 0
    migrator.go_to(0)
    assert "total_eur" not in columns(migrator.engine)
    with migrator.engine.connect() as conn:
        assert sync_code(conn) == []


def test_a_function_step_that_fails_rolls_back_everything_it_did():
    def half_done(conn):
        conn.execute(text("ALTER TABLE orders ADD COLUMN total_eur REAL"))
        conn.execute(text("ALTER TABLE orders DROP COLUMN no_such_column"))

    migrator = Migrator(build_shop(20), [Step("half done", upgrade=(half_done,), downgrade=())])
    with pytest.raises(MigrationError, match="failed to upgrade and was rolled back"):
        migrator.upgrade()
    assert "total_eur" not in columns(migrator.engine) and migrator.current() == 0


def test_a_rehearsal_sees_the_moved_database_and_leaves_it_as_it_was():
    migrator = Migrator(build_shop(20), RENAME_STEPS)
    seen = migrator.rehearse(3, lambda conn: [column["name"] for column in inspect(conn).get_columns("orders")])
    assert "amount" not in seen and "total_eur" in seen
    assert "total_eur" not in columns(migrator.engine) and migrator.current() == 0


# --- the rule: lesson 07's compatibility check -----------------------------------------------------------------------

def checked(engine, apps, *statements):
    """The lesson's rule run through coursekit's check, after ``statements``, all rolled back."""
    with engine.connect() as conn:
        transaction = conn.begin()
        for statement in statements:
            conn.execute(text(statement))
        found = check(conn, compatibility_on, apps)
        transaction.rollback()
    return found


def test_the_check_gives_the_lessons_own_table_and_leaves_the_data_alone():
    engine = build_shop(20)
    found = checked(engine, [V1, V2])
    assert found.frame.equals(compatibility(engine, [V1, V2])), "the rule's table, unchanged by the recording"
    assert found.frame[found.frame["read by"] == "v2"]["read"].str.contains("no such column: total_eur").all()
    assert found.cell("v1", NOBODY) and found.can_write("v1") and not found.can_write("v2")
    assert amount_of(engine, "ORD-0000001", "amount") == ORIGINAL_AMOUNTS["ORD-0000001"], "the writes rolled back"


def test_every_call_of_the_rule_is_recorded_with_its_sql():
    found = checked(build_shop(20), [V1])
    assert [(made.function, made.order_id) for made in found.calls] == [
        ("place_order_v1", "NEW-BY-V1"), ("update_amount_v1", "ORD-0000001"), ("read_order_v1", "NEW-BY-V1"),
        ("read_order_v1", "ORD-0000001"), ("read_order_v1", "ORD-0000003")]
    assert found.sql_of("v1") == {
        "place_order_v1": "INSERT INTO orders (order_id, customer_id, country, ordered_at, amount) VALUES (?, "
                          "'C-000001', 'DE', '2025-12-31', ?)",
        "read_order_v1": "SELECT amount FROM orders WHERE order_id = ?",
        "update_amount_v1": "UPDATE orders SET amount = ? WHERE order_id = ?"}


def test_a_failure_names_the_version_the_function_its_sql_and_the_databases_answer():
    found = checked(build_shop(20), [V1], "ALTER TABLE orders RENAME COLUMN amount TO total_eur")
    assert found.first_failure(["v1"]) == (
        "v1", "shop v1's place_order_v1 runs `INSERT INTO orders (order_id, customer_id, country, ordered_at, amount) "
        "VALUES (?, 'C-000001', 'DE', '2025-12-31', ?)` and the database answers: OperationalError: table orders has "
        "no column named amount")
    assert not found.can_write("v1") and found.first_failure(["v2"]) == ("", "")


def test_a_wrong_read_names_what_was_read_and_what_was_written():
    transition = make_transition(50)
    transition.go_to(1)
    found = transition.matrix()
    version, how = found.first_failure(["v2"])
    assert (version, how) == ("v2", "shop v2's read_order_v2 runs `SELECT total_eur FROM orders WHERE order_id = ?` "
                                    "and reads NULL for order ORD-0000003, where 34.68 was written before the "
                                    "transition")
    assert found.can_write("v2") and found.cell("v1", "v2") and not found.cell("v2", NOBODY)


# --- moves: nothing that breaks a deployed version runs --------------------------------------------------------------

def test_contracting_while_v1_is_deployed_is_refused_naming_v1s_query_and_nothing_runs():
    transition = make_transition(50, deployed=("v1", "v2"))
    transition.go_to(2)
    with pytest.raises(MigrationError) as refused:
        transition.go_to(3)
    message = str(refused.value)
    assert message.startswith("Refused, nothing ran: applying 3. contract would break shop v1, which is deployed: "
                              "shop v1's place_order_v1 runs `INSERT INTO orders")
    assert "table orders has no column named amount. Retire shop v1 first" in message
    assert transition.migrator.current() == 2 and "amount" in columns(transition.migrator.engine)
    transition.retire("v1")
    transition.go_to(3)
    assert "amount" not in columns(transition.migrator.engine) and "total_eur" in columns(transition.migrator.engine)


def test_v2_is_deployed_only_once_the_schema_and_the_data_support_it():
    transition = make_transition(50)
    with pytest.raises(MigrationError, match="cannot be deployed at version 0 of 3: .*no column named total_eur"):
        transition.deploy("v2")
    transition.go_to(1)
    with pytest.raises(MigrationError, match="at version 1 of 3: .*reads NULL for order ORD-0000003"):
        transition.deploy("v2")
    transition.go_to(2)
    assert transition.deploy("v2") == "Shop v2 is deployed: running now: v1, v2."
    assert transition.deploy("v2") == "Shop v2 is already deployed; nothing changed."


def test_v1_can_be_retired_at_any_time_and_the_shop_down_is_said():
    transition = make_transition(20)
    assert transition.retire("v1") == "Shop v1 is retired. No version is deployed now: the shop is down."
    assert transition.go_to(3)[-1].step == "contract", "with nothing deployed, nothing is refused"


def test_unknown_versions_and_bad_versions_lists_are_refused_with_what_exists():
    with pytest.raises(MigrationError, match="the versions are v1, v2"):
        make_transition(10).deploy("v3")
    migrator = Migrator(build_shop(10), RENAME_STEPS)
    with pytest.raises(MigrationError, match="each with its own name"):
        Transition(migrator, [V1, V1], rule=compatibility_on)
    with pytest.raises(MigrationError, match="needs a Migrator"):
        Transition(migrator.engine, [V1, V2], rule=compatibility_on)
    with pytest.raises(MigrationError, match="rule must be the compatibility check"):
        Transition(migrator, [V1, V2], rule=None)


def test_a_write_by_a_retired_version_or_to_a_missing_order_is_refused_and_stored_literally_otherwise():
    transition = make_transition(20)
    with pytest.raises(MigrationError, match="Shop v2 is not deployed: deploy it first"):
        transition.place_order("v2", "X", 1.0)
    with pytest.raises(MigrationError, match="There is no order 'ORD-9'"):
        transition.update_amount("v1", "ORD-9", 1.0)
    with pytest.raises(MigrationError, match="Order ORD-0000003 is the one the compatibility check expects nobody"):
        transition.update_amount("v1", "ORD-0000003", 1.0)
    hostile = "x'); DROP TABLE orders; --"
    assert not transition.place_order("v1", hostile, 5.0).error
    assert amount_of(transition.migrator.engine, hostile, "amount") == 5.0
    assert "UNIQUE constraint failed" in transition.place_order("v1", hostile, 6.0).error


def test_the_orders_followed_are_the_newest_writes_and_the_untouched_one_last():
    transition = make_transition(20)
    transition.go_to(2)
    for number in range(7):
        transition.place_order("v1", f"N-{number}", float(number))
    transition.update_amount("v1", "N-3", 33.0)
    followed = [(seen.order_id, seen.by, seen.amount) for seen in transition.written]
    assert followed == [("N-3", "v1", 33.0), ("N-6", "v1", 6.0), ("N-5", "v1", 5.0), ("N-4", "v1", 4.0),
                        ("N-2", "v1", 2.0), ("ORD-0000003", NOBODY, 34.68)]
    assert transition.matrix().ok
    assert [read.result for _, read in transition.reads("v2")] == [33.0, 6.0, 5.0, 4.0, 2.0, 34.68]


def test_the_sync_code_is_read_from_the_database_at_each_phase():
    transition = make_transition(20)
    with transition.migrator.engine.connect() as conn:
        assert sync_code(conn) == []
    transition.go_to(1)
    with transition.migrator.engine.connect() as conn:
        assert [sql for _, sql in sync_code(conn)] == sorted(sync_triggers(), key=lambda sql: sql.split()[2])
    transition.retire("v1")
    transition.go_to(3)
    with transition.migrator.engine.connect() as conn:
        assert sync_code(conn) == []


def test_shop_version_is_the_lessons_app_tuple():
    assert ShopVersion._fields == ("name", "place_order", "read_order", "update_amount")


def test_a_step_function_that_fails_in_python_is_rolled_back_and_named():
    def typo(conn):
        conn.execute(text("ALTER TABLE orders ADD COLUMN total_eur REAL"))
        return undefined_name  # noqa: F821 - the learner's typo

    migrator = Migrator(build_shop(20), [Step("typo", upgrade=(typo,), downgrade=())])
    with pytest.raises(MigrationError, match=r"Step 1 \(typo\) failed to upgrade and was rolled back: NameError: "
                                             r"name 'undefined_name' is not defined"):
        migrator.upgrade()
    assert "total_eur" not in columns(migrator.engine) and migrator.current() == 0


def test_a_broken_compatibility_check_refuses_every_move_and_says_what_broke():
    def broken_rule(conn, apps):
        return compatibility_on(conn, apps)[["order"]]  # the learner's edit dropped the ok column

    transition = Transition(Migrator(build_shop(20), RENAME_STEPS), [V1, V2], rule=broken_rule)
    with pytest.raises(MigrationError, match=r"The compatibility check broken_rule\(conn, apps\) failed: KeyError"):
        transition.go_to(1)
    assert transition.migrator.current() == 0, "nothing moved"


# --- the tests' shop is the lessons' shop -----------------------------------------------------------------------------

SHARED = ("place_order_v1", "read_order_v1", "update_amount_v1", "place_order_v2", "read_order_v2", "update_amount_v2",
          "WRITES", "UNTOUCHED", "ORIGINAL_AMOUNTS", "attempt", "EXPANDED_ORDERS", "OLD_COLUMNS", "expand_table",
          "insert_trigger", "update_trigger", "sync_triggers", "expand", "SYNC_TRIGGER_NAMES", "contract")


def definitions(sources):
    """Each top-level function or assignment in ``sources`` by name, as an AST dump without docstrings."""
    found = {}
    for source in sources:
        for node in ast.parse("\n".join(line for line in source.splitlines() if not line.startswith("%"))).body:
            if isinstance(node, ast.FunctionDef):
                if ast.get_docstring(node) is not None:
                    node.body = node.body[1:]
                found[node.name] = ast.dump(node)
            elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                found[node.targets[0].id] = ast.dump(node.value)
    return found


def lesson_code(name):
    notebook = nbformat.read(REPO / "notebooks" / name, as_version=4)
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


@pytest.mark.parametrize("lesson, not_yet", [("07-expand-migrate-contract.ipynb", {"SYNC_TRIGGER_NAMES", "contract"}),
                                              ("08-contract-and-the-transition-live.ipynb", set())])
def test_the_tests_shop_has_the_lessons_own_functions(lesson, not_yet):
    ours = definitions([python_inspect.getsource(transition_shop)])
    theirs = definitions(lesson_code(lesson))
    assert set(SHARED) - set(theirs) == not_yet  # the contract comes in lesson 08
    assert [name for name in SHARED if name in theirs and ours[name] != theirs[name]] == []


def test_lesson_08s_compatibility_on_is_the_tests_rule():
    ours = definitions([python_inspect.getsource(transition_shop)])
    lesson_08 = definitions(lesson_code("08-contract-and-the-transition-live.ipynb"))
    assert lesson_08["compatibility_on"] == ours["compatibility_on"]
