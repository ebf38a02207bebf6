"""Lesson 04's exercises: the solutions pass their checks, and the wrong answers a learner gives get a fitting hint."""

import re
import sqlite3

import nbformat
import pytest

from coursekit.exercises.lesson04 import STATEMENTS, check_alter_abilities, check_channel_column, directly_possible
from tests.conftest import REPO
from tests.test_exercises import solutions

LESSON_04 = REPO / "notebooks" / "04-sqlite-alter-table-limits.ipynb"


def test_lesson_04_solutions_pass_their_checks():
    first, second = solutions(LESSON_04)
    namespace = {}
    exec(first + second, namespace)
    assert check_alter_abilities(namespace["direct"]).ok
    assert check_channel_column(namespace["channel_column"]).ok


def test_the_truth_comes_from_sqlite_itself():
    # SQLite 3.53 added ALTER TABLE ... ADD CONSTRAINT ... CHECK (statement d)
    expected = {"a", "c", "e"} | ({"d"} if sqlite3.sqlite_version_info >= (3, 53) else set())
    assert directly_possible() == expected


@pytest.mark.parametrize(
    "answer, hint",
    [(None, "list of letters"), ("ace", "list of letters"), ([], "empty"), ([1], "in quotes"), (["z"], "a to f"),
     (["a", "b", "c", "e"], "refuses b"), (["a", "c"], "e works directly"), (["A", "c ", "e"], "rest needs")],
)
def test_alter_ability_answers(answer, hint):
    result = check_alter_abilities(answer)
    assert hint in result.message and result.ok == (hint == "rest needs")


CHANNEL = "ALTER TABLE orders ADD COLUMN channel TEXT"
ALLOWED = "CHECK (channel IN ('web', 'shop', 'phone'))"


@pytest.mark.parametrize(
    "answer, hint",
    [(None, "as a string"), ("", "the string is empty"),
     (f"{CHANNEL} NOT NULL {ALLOWED}", "default value NULL: NOT NULL needs a DEFAULT"),
     (f"{CHANNEL} NOT NULL DEFAULT (lower('WEB')) {ALLOWED}", "non-constant default: the default must be a constant"),
     (f"{CHANNEL} NOT NULL DEFAULT 'mail' {ALLOWED}", "tested the CHECK on the old rows"),
     (f"{CHANNEL} NOT NULL DEFAULT 'Web' CHECK (channel IN ('Web', 'web', 'shop', 'phone'))", "read ['Web']"),
     (f"{CHANNEL} DEFAULT 'web' {ALLOWED}", "channel NULL was accepted"),
     (f"{CHANNEL} NOT NULL DEFAULT 'web'", "'fax' was accepted"),
     (f"{CHANNEL} NOT NULL DEFAULT 'web' CHECK (channel IN ('web', 'shop'))", "channel 'phone' was refused"),
     ("ALTER TABLE orders ADD COLUMN source TEXT NOT NULL DEFAULT 'web'", "no column channel"),
     (f"{CHANNEL}; SELECT 1", "one statement at a time: give one ALTER TABLE statement"),
     ("DROP TABLE orders", "no table orders afterwards")],
)
def test_channel_answers(answer, hint):
    result = check_channel_column(answer)
    assert not result.ok and hint in result.message, result.message


def task_items(notebook, heading):
    """The lettered items of the exercise task under ``heading``: {letter: first `code` in the item}."""
    task = next(cell.source for cell in nbformat.read(notebook, as_version=4).cells
                if cell.cell_type == "markdown" and heading in cell.source)
    return dict(re.findall(r"^- ([a-z])\. .*?`([^`]+)`", task, flags=re.M))


def test_the_task_lists_the_statements_the_check_tries():
    # the task was lost once (the answer cell stood alone); the check's letters must be the ones the learner reads
    items = task_items(LESSON_04, "### Exercise 1")
    assert set(items) == set(STATEMENTS)
    for letter, fragment in items.items():
        assert fragment in STATEMENTS[letter], (letter, fragment)
