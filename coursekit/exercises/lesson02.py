"""Lesson 02's exercise checks (see :mod:`coursekit.exercises` for how checks behave)."""

from __future__ import annotations

from sqlalchemy import event, inspect, text

from coursekit.exercises import SCRATCH_ROWS, Verdict, explain_error
from coursekit.migrations import MigrationError, Migrator, Step, enable_transactional_ddl
from coursekit.order_steps import ORDER_STEPS, create_shop
from coursekit.schema import rules_frame, schema_frame
from coursekit.verify import table_fingerprint


def _snapshot(engine):
    with engine.connect() as conn:
        fingerprint = table_fingerprint(conn, "orders", ("order_id", "amount"))
    return schema_frame(engine, "orders"), rules_frame(engine, "orders"), fingerprint


def _as_statements(sql) -> tuple | None:
    """The statements as a tuple (one string counts as one statement); None when ``sql`` is no sequence."""
    if isinstance(sql, str):
        return (sql,)
    if isinstance(sql, (list, tuple)):
        return tuple(sql)
    return None


def _statements_problem(direction: str, given, statements) -> str | None:
    """What is wrong with the form of an upgrade or downgrade, before anything runs; None if nothing is."""
    if statements is None:
        return (f"the {direction} should be a tuple of SQL strings, e.g. (\"...\",); it is {given!r} "
                f"({type(given).__name__}).")
    if not statements:
        example = "ALTER TABLE statement" if direction == "upgrade" else "statement that undoes it"
        return f"the {direction} is empty: give it the {example} as a tuple of strings, e.g. (\"...\",)."
    not_text = [statement for statement in statements if not isinstance(statement, str)]
    if not_text:
        return (f"the {direction} should hold SQL as strings; it holds {not_text[0]!r} "
                f"({type(not_text[0]).__name__}). Put the SQL in quotes.")
    return None


def _why_it_failed(error: Exception) -> str:
    """The database's words and the statement (or the Python error), and a hint only for the mistake it names.

    A failed step's MigrationError carries hints for the lesson's own database ("run the cell that creates
    the table"); on the check's scratch database the SQL is what failed, so the database's error is shown.
    """
    if isinstance(error, MigrationError):
        said = explain_error(error.__cause__) if error.__cause__ is not None else str(error)
    else:
        said = explain_error(error)
    said = said.rstrip(". ")
    if "one statement at a time" in said:
        said += ". Put each statement in its own string: (\"first statement\", \"second statement\")"
    return said


def check_priority_step(priority_step) -> Verdict:
    """Exercise 1: a Step adding ``priority INTEGER NOT NULL DEFAULT 0`` whose downgrade restores version 4."""
    if not isinstance(priority_step, Step):
        return Verdict(False, f"`priority_step` should be a Step(name=..., upgrade=..., downgrade=...); "
                              f"it is {type(priority_step).__name__}.")
    try:
        name, given_upgrade, given_downgrade = str(priority_step.name), priority_step.upgrade, priority_step.downgrade
    except Exception as error:  # noqa: BLE001 - a Step of the learner's own making may fail when read
        return Verdict(False, f"reading your Step failed: {explain_error(error)}.")
    upgrade, downgrade = _as_statements(given_upgrade), _as_statements(given_downgrade)
    problem = (_statements_problem("upgrade", given_upgrade, upgrade)
               or _statements_problem("downgrade", given_downgrade, downgrade))
    if problem:
        return Verdict(False, problem)
    step = Step(name, upgrade, downgrade)
    engine = create_shop(rows=SCRATCH_ROWS)
    migrator = Migrator(engine, (*ORDER_STEPS, step))
    migrator.upgrade(4)
    at_version_4 = _snapshot(engine)
    try:
        migrator.upgrade(5)
    except Exception as error:  # noqa: BLE001 - the learner's SQL: whatever it raises is explained, never a traceback
        return Verdict(False, f"the upgrade failed: {_why_it_failed(error)}.")
    column = next((c for c in inspect(engine).get_columns("orders") if c["name"] == "priority"), None)
    if column is None:
        return Verdict(False, "after the upgrade, orders has no column `priority`.")
    default = str(column["default"]).strip("'() ")
    if column["nullable"] or default != "0" or "INT" not in str(column["type"]).upper():
        return Verdict(False, f"`priority` is {column['type']}, nullable={column['nullable']}, default="
                              f"{column['default']!r}; it should be INTEGER NOT NULL DEFAULT 0.")
    try:
        migrator.downgrade(4)
    except Exception as error:  # noqa: BLE001 - as above
        return Verdict(False, f"the upgrade worked, but the downgrade failed: {_why_it_failed(error)}.")
    after = _snapshot(engine)
    if not (after[0].equals(at_version_4[0]) and after[1].equals(at_version_4[1])):
        return Verdict(False, "after the downgrade the schema is not the one of version 4: drop just the new column.")
    if after[2] != at_version_4[2]:
        return Verdict(False, "the downgrade changed the orders' ids or amounts.")
    return Verdict(True, "step 5 goes up and comes back down to exactly version 4, every order intact.")


# Exercise 2's failing migration: step 2 as a buggy release ran it (it also writes a status step 3's CHECK refuses),
# so step 3's rebuild fails at its INSERT, after its CREATE TABLE orders_new has run.
LOST_ORDER = "ORD-0000001"
WRITES_LOST = f"UPDATE orders SET status = 'lost' WHERE order_id = '{LOST_ORDER}'"


def _upgrades(steps) -> list[list[str]]:
    return [list(step.statements("upgrade", "sqlite")) for step in steps]


def _scratch_shop():
    """A scratch shop at version 0, DDL transactional, counting the statements sent to it."""
    engine = enable_transactional_ddl(create_shop(rows=SCRATCH_ROWS))
    engine.sent = []
    event.listen(engine, "before_cursor_execute", lambda *args: engine.sent.append(args[2]))
    return engine


def _state(engine) -> dict:
    """The stored version (None without a version table), the columns and tables, and the lost order's status."""
    schema = inspect(engine)
    tables = set(schema.get_table_names())
    columns = [column["name"] for column in schema.get_columns("orders")] if "orders" in tables else []
    with engine.connect() as conn:
        version = (conn.execute(text("SELECT version FROM schema_version")).scalar()
                   if "schema_version" in tables else None)
        lost = (conn.execute(text("SELECT status FROM orders WHERE order_id = :id"), {"id": LOST_ORDER}).scalar()
                if "status" in columns else None)
    return {"version": version, "tables": tables, "columns": columns, "lost": lost}


def _after_four_steps_problem(apply_steps) -> str | None:
    """Run the four steps with the learner's function; what is wrong with the result, or None."""
    engine = _scratch_shop()
    try:
        apply_steps(engine, _upgrades(ORDER_STEPS))
    except Exception as error:  # noqa: BLE001 - the learner's code: whatever it raises is explained
        return f"applying the four steps failed: {explain_error(error).rstrip('. ')}."
    state = _state(engine)
    if state["version"] is None and "status" not in state["columns"]:
        if not any("status" in statement for statement in engine.sent):
            return ("apply_steps(engine, steps) ran none of the steps' SQL: loop over `steps` and call "
                    "run_step(conn, statements, version) for each, inside `with engine.begin() as conn:`.")
        return ("the steps' SQL ran, but nothing stayed: it was never committed. `with engine.begin() as conn:` "
                "commits when its block ends (engine.connect() alone rolls back).")
    if state["version"] is None:
        return ("the steps ran, but no version was stored: run each step with run_step(conn, statements, version), "
                "which writes the new version in the step's transaction.")
    if state["version"] != len(ORDER_STEPS):
        return (f"after the four steps the stored version is {state['version']!r}; it should be 4: step k's new "
                "version is k (enumerate(steps, start=1) counts from 1).")
    reference = create_shop(rows=SCRATCH_ROWS)
    Migrator(reference, ORDER_STEPS).upgrade()
    (columns, rules, _), (wanted_columns, wanted_rules, _) = _snapshot(engine), _snapshot(reference)
    if not (columns.equals(wanted_columns) and rules.equals(wanted_rules)):
        return "the stored version is 4, but the table is not the one the four steps make: run every statement."
    return None


def _failing_step_problem(apply_steps) -> str | None:
    """Run steps 1, 2 (with a 'lost' status written) and 3 with the learner's function; what is wrong, or None."""
    engine = _scratch_shop()
    steps = _upgrades(ORDER_STEPS[:3])
    steps[1].append(WRITES_LOST)
    try:
        apply_steps(engine, steps)
        raised = None
    except Exception as error:  # noqa: BLE001 - step 3 is meant to fail here
        raised = error
    state = _state(engine)
    if "orders_new" in state["tables"]:
        return ("step 3 failed at its INSERT, and its CREATE TABLE orders_new stayed: the statements of one step "
                "did not run in one transaction. Run a step's statements, and its version, on one connection "
                "inside one `with engine.begin() as conn:` (run_step does that).")
    if state["version"] is None or "status" not in state["columns"]:
        return ("step 3 failed (order ORD-0000001 says 'lost', which its CHECK refuses), and steps 1 and 2 were "
                "undone with it: they ran in one transaction. Give each step a transaction of its own, so the "
                "steps before a failure stay, with their version.")
    if state["version"] != 2:
        return (f"step 3 failed, and the stored version is {state['version']!r}: it should still be 2, "
                "the version of the last step that went through.")
    if raised is None:
        return ("step 3 failed (order ORD-0000001 says 'lost', which its CHECK refuses), but apply_steps went on "
                "as if all was well: let the error through (no try/except around it), so whoever runs the "
                "migration learns it stopped at version 2.")
    return None


def check_apply_steps(apply_steps) -> Verdict:
    """Exercise 2: apply_steps(engine, steps) runs each step with run_step in a transaction of its own."""
    if not callable(apply_steps):
        return Verdict(False, f"`apply_steps` should be a function apply_steps(engine, steps); it is "
                              f"{type(apply_steps).__name__}.")
    problem = _after_four_steps_problem(apply_steps) or _failing_step_problem(apply_steps)
    if problem:
        return Verdict(False, problem)
    return Verdict(True, "each step is committed with its version, or rolled back whole: a failure in step 3 "
                         "leaves the database at version 2, and says so.")
