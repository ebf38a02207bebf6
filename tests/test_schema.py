import pandas as pd
import pytest
from sqlalchemy import text

from coursekit.schema import compare_schemas, schema_changes, schema_frame


def make_orders(engine):
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE orders (order_id TEXT PRIMARY KEY, amount REAL)"))


def test_schema_frame_reports_name_type_nullable_default_and_key(memory_engine):
    make_orders(memory_engine)
    with memory_engine.begin() as conn:
        conn.execute(text("ALTER TABLE orders ADD COLUMN status TEXT NOT NULL DEFAULT 'pending'"))
    frame = schema_frame(memory_engine, "orders")
    assert frame.to_dict("records") == [
        {"column": "order_id", "type": "TEXT", "nullable": True, "default": None, "primary_key": True},
        {"column": "amount", "type": "REAL", "nullable": True, "default": None, "primary_key": False},
        {"column": "status", "type": "TEXT", "nullable": False, "default": "'pending'", "primary_key": False},
    ]


def test_missing_table_says_which_cell_to_run(memory_engine):
    with pytest.raises(LookupError, match="Run the cell that creates it first"):
        schema_frame(memory_engine, "orders")


def test_schema_changes_marks_added_removed_and_changed(memory_engine):
    make_orders(memory_engine)
    before = schema_frame(memory_engine)
    with memory_engine.begin() as conn:
        conn.execute(text("CREATE TABLE new_orders (order_id TEXT PRIMARY KEY, amount TEXT, status TEXT)"))
    after = schema_frame(memory_engine, "new_orders")
    changes = schema_changes(before, after).set_index("column")["change"].to_dict()
    assert changes == {"order_id": "", "amount": "changed", "status": "added"}
    assert schema_changes(after, before).set_index("column")["change"].to_dict()["status"] == "removed"


def test_unchanged_schema_has_no_changes(memory_engine):
    make_orders(memory_engine)
    frame = schema_frame(memory_engine)
    assert set(schema_changes(frame, schema_frame(memory_engine))["change"]) == {""}


def test_comparison_html_is_stable_and_highlights_only_the_added_column(memory_engine):
    make_orders(memory_engine)
    before = schema_frame(memory_engine)
    with memory_engine.begin() as conn:
        conn.execute(text("ALTER TABLE orders ADD COLUMN status TEXT"))
    after = schema_frame(memory_engine)
    html = compare_schemas(before, after, uuid="t").to_html()
    assert html == compare_schemas(before, after, uuid="t").to_html()
    assert html.count("#d4f7d4") == 1, "one CSS rule for the added row"


def test_a_comparison_reads_as_its_rows_in_plain_text_not_an_address():
    before = pd.DataFrame([{"column": "order_id", "type": "TEXT"}])
    after = pd.DataFrame([{"column": "order_id", "type": "TEXT"}, {"column": "status", "type": "TEXT"}])
    plain = repr(compare_schemas(before, after, uuid="t"))
    assert "0x" not in plain and "status" in plain and "added" in plain, plain
