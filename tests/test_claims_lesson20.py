"""Lesson 20's claims about its own steps, tested with the notebook's code (its cells, run in order):

- the expand (the rebuild that loosens ``orders.country``, ``shipments``, four triggers) runs whole or not at all: a
  fault after any of its statements leaves phase 0 exactly as it was (lesson 02's recipe);
- a contract that fails halfway gives back every trigger and column, and v1 still places orders afterwards;
- the guarded triggers make two writes for one update from either side, with ``recursive_triggers`` off or on;
- the backfill (``NOT EXISTS``) resumes after a partial run, and the join then rebuilds every order as before;
- the figures the prose and the summary state are the ones the notebook computes.
"""

import re

import nbformat
import pytest
from sqlalchemy import text

from tests.conftest import REPO
from tests.faults import FailsAfter

LESSON_20 = REPO / "notebooks" / "20-move-a-column-split-a-table.ipynb"
EXPAND_STATEMENTS = 9  # the rebuild's four, CREATE TABLE shipments, four triggers
CONTRACT_STATEMENTS = 6  # four DROP TRIGGER, two DROP COLUMN


@pytest.fixture(scope="module")
def lesson():
    """Every code cell of the lesson run in order in one namespace (the exercises' placeholders included)."""
    namespace = {}
    for cell in nbformat.read(LESSON_20, as_version=4).cells:
        if cell.cell_type == "code" and not cell.source.startswith("%"):
            exec(compile(cell.source, str(LESSON_20), "exec"), namespace)  # the course's own notebook
    return namespace


@pytest.fixture(scope="module")
def prose():
    return "\n".join(cell.source for cell in nbformat.read(LESSON_20, as_version=4).cells
                     if cell.cell_type == "markdown")


def state(engine):
    """Every object of the database (type, name, SQL) and every row of every table, as a value."""
    with engine.connect() as conn:
        objects = conn.execute(text("SELECT type, name, sql FROM sqlite_master ORDER BY name")).all()
        tables = [name for kind, name, _ in objects if kind == "table" and not name.startswith("sqlite_")]
        rows = {name: conn.execute(text(f"SELECT * FROM {name} ORDER BY 1")).all() for name in tables}
    return objects, rows


def in_phase_2(lesson):
    """The lesson's shop expanded and backfilled, v1 and v2 both running."""
    lesson["build_shop"]()
    with lesson["engine"].begin() as conn:
        lesson["expand"](conn)
        conn.execute(text(lesson["BACKFILL"]))
    return state(lesson["engine"])


@pytest.mark.parametrize("k", range(EXPAND_STATEMENTS))
def test_a_fault_in_the_expand_leaves_phase_0(lesson, k):
    lesson["build_shop"]()
    before = state(lesson["engine"])
    with pytest.raises(RuntimeError, match="an injected fault"), lesson["engine"].begin() as conn:
        lesson["expand"](FailsAfter(conn, k))
    assert state(lesson["engine"]) == before


def test_the_expand_has_the_statements_counted_above(lesson):
    lesson["build_shop"]()
    before = state(lesson["engine"])
    with lesson["engine"].begin() as conn:
        counted = FailsAfter(conn, EXPAND_STATEMENTS + 1)
        lesson["expand"](counted)
    assert counted.calls == EXPAND_STATEMENTS and state(lesson["engine"]) != before  # so the test above can fail


@pytest.mark.parametrize("k", range(CONTRACT_STATEMENTS))
def test_a_fault_in_the_contract_gives_everything_back(lesson, k):
    before = in_phase_2(lesson)
    with pytest.raises(RuntimeError, match="an injected fault"), lesson["engine"].begin() as conn:
        lesson["contract"](FailsAfter(conn, k))
    assert state(lesson["engine"]) == before
    with lesson["engine"].begin() as conn:  # and v1 still works: its order reaches shipments
        lesson["place_order_v1"](conn, "NEW-AFTER-FAULT", "FR")
        assert lesson["read_order_v2"](conn, "NEW-AFTER-FAULT") == "FR / waiting"


@pytest.mark.parametrize("recursive", ["OFF", "ON"])
@pytest.mark.parametrize("update", [
    "UPDATE orders SET country = 'SE' WHERE order_id = 'ORD-0000002'",
    "UPDATE orders SET shipped_at = NULL WHERE order_id = 'ORD-0000002'",
    "UPDATE shipments SET country = 'SE' WHERE order_id = 'ORD-0000002'",
    "UPDATE shipments SET shipped_at = '2026-02-01' WHERE order_id = 'ORD-0000002'",
])
def test_one_update_from_either_side_makes_two_writes(lesson, update, recursive):
    in_phase_2(lesson)
    with lesson["engine"].begin() as conn:
        conn.execute(text(f"PRAGMA recursive_triggers = {recursive}"))
        before = conn.execute(text("SELECT total_changes()")).scalar_one()
        conn.execute(text(update))
        assert conn.execute(text("SELECT total_changes()")).scalar_one() - before == 2
        assert lesson["read_order_v1"](conn, "ORD-0000002") == lesson["read_order_v2"](conn, "ORD-0000002")
        conn.execute(text("PRAGMA recursive_triggers = OFF"))


def test_the_backfill_resumes_after_a_partial_run(lesson):
    lesson["build_shop"]()
    with lesson["engine"].begin() as conn:
        lesson["expand"](conn)
        conn.execute(text(lesson["BACKFILL"] + " AND o.order_id <= 'ORD-0000400'"))  # a first batch, then a stop
        assert conn.execute(text(lesson["WITHOUT_SHIPMENT"])).scalar_one() == 600
    with lesson["engine"].begin() as conn:
        assert conn.execute(text(lesson["BACKFILL"])).rowcount == 600
    assert lesson["rebuilt_fingerprint"]() == lesson["fingerprint_before"]


def number(said):
    return int(said.replace(",", ""))


def test_the_prose_states_the_notebooks_figures(lesson, prose):
    table = lesson["per_customer"]
    several = int(table.loc[table["countries"] > 1, "customers"].sum())
    single = table.loc[table["countries"] == 1, ["customers", "orders"]].values.tolist()
    assert f"{several} of the {table['customers'].sum()} customers" in prose
    assert single == [[2, 3]], "the prose says: the two exceptions placed one order and two"
    moved = lesson["moved"]
    assert round(3 * moved.changed / moved.orders) == 2, "the prose says: about two orders in three"
    lesson["build_shop"]()
    with lesson["engine"].connect() as conn:
        orphans = conn.execute(text("SELECT count(*) FROM orders WHERE customer_id NOT IN "
                                    "(SELECT customer_id FROM customers)")).scalar_one()
    assert moved.lost == orphans > 0, "the prose says: the orders of lesson 18's deleted customers get none"
    left = re.search(r'"shipped only" backfill\s+left ([\d,]+) orders', prose)
    assert left and number(left.group(1)) == lesson["waiting"] > 0


def test_the_summary_says_what_the_cells_showed(lesson):
    guard_table = lesson["guard_table"]
    unguarded = guard_table.loc[~guard_table["guards"]].set_index("recursive_triggers")["rows written by one UPDATE"]
    assert unguarded[False] == 3 and "too many levels of trigger recursion" in unguarded[True]
    assert "country" in lesson["how"] and lesson["broken"] == "v1"
