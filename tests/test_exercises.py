"""The exercise checks: the solutions shown in the notebooks pass, wrong answers get a verdict, never a crash."""

import re

import nbformat
import pytest
from sqlalchemy import REAL, Column, MetaData, String, Table, Text, text

from coursekit.exercises import Verdict
from coursekit.exercises.lesson01 import check_add_currency_column, check_server_default_table
from tests.conftest import REPO

LESSON_01 = REPO / "notebooks" / "01-add-a-status-column.ipynb"


def solutions(notebook_path):
    """The Python code inside each <details><summary>Solution</summary> block of a notebook."""
    notebook = nbformat.read(notebook_path, as_version=4)
    blocks = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and "<summary>Solution</summary>" in cell.source:
            blocks += re.findall(r"```python\n(.*?)```", cell.source, flags=re.S)
    return blocks


def run_solution(code):
    namespace = {"text": text, "Table": Table, "MetaData": MetaData, "Column": Column, "Text": Text, "REAL": REAL}
    exec(code, namespace)
    return namespace


def test_lesson_01_solutions_pass_their_checks():
    first, second = solutions(LESSON_01)
    assert check_add_currency_column(run_solution(first)["add_currency_column"]).ok
    assert check_server_default_table(run_solution(second)["orders_v2"]).ok


def test_a_verdict_reads_as_one_friendly_line():
    assert repr(Verdict(True, "well done")) == "✅ Correct: well done"
    assert not Verdict(False, "try again")


def add_nullable_currency(conn):
    conn.execute(text("ALTER TABLE orders ADD COLUMN currency TEXT DEFAULT 'EUR'"))


def add_wrong_default(conn):
    conn.execute(text("ALTER TABLE orders ADD COLUMN currency TEXT NOT NULL DEFAULT 'USD'"))


def plain_string(conn):
    conn.execute("ALTER TABLE orders ADD COLUMN currency TEXT NOT NULL DEFAULT 'EUR'")


def not_null_without_default(conn):
    conn.execute(text("ALTER TABLE orders ADD COLUMN currency TEXT NOT NULL"))


@pytest.mark.parametrize(
    "answer, hint",
    [
        (None, "define a function"),
        (42, "define a function"),
        (lambda conn: None, "no column `currency`"),
        (add_nullable_currency, "accepts NULL"),
        (add_wrong_default, "should be 'EUR'"),
        (plain_string, "wrapped in text()"),
        (not_null_without_default, "Cannot add a NOT NULL column with default value NULL"),
    ],
)
def test_wrong_currency_answers_get_a_hint(answer, hint):
    result = check_add_currency_column(answer)
    assert not result.ok and hint in result.message


def table_with(*columns):
    return Table("orders", MetaData(), Column("order_id", Text, primary_key=True), Column("amount", REAL), *columns)


@pytest.mark.parametrize(
    "answer, hint",
    [
        (None, "should be a sqlalchemy Table"),
        ("orders", "should be a sqlalchemy Table"),
        (table_with(), "add a `status` column"),
        (table_with(Column("status", String, default="pending")), "`default=` only fills it in from Python"),
        (table_with(Column("status", String)), "has no database default"),
        (table_with(Column("status", String, server_default="shipped")), "got status 'shipped'"),
    ],
)
def test_wrong_table_answers_get_a_hint(answer, hint):
    result = check_server_default_table(answer)
    assert not result.ok and hint in result.message
