"""The never-crash table's building blocks: unrelated exceptions in a learner's function of each shape, and rows.

A lesson's own rows live in its ``tests/test_exercises_lessonNN.py`` as a list ``NEVER_CRASH`` built with :func:`row`
and :func:`unrelated`; ``tests/test_checkers_never_crash.py`` collects them, so adding a lesson never edits that file.
"""

import sqlite3

import pytest
from alembic import op
from sqlalchemy import text

# --- Exceptions unrelated to any exercise, as a learner's function of each shape would raise them -----------------

def divides_by_zero(*args):
    return 1 / 0


def raises_key_error(*args):
    return {}["currency"]


def misspelled_sql_on_conn(conn):
    conn.execute(text("ALTR TABLE orders ADD COLUMN x TEXT"))


def forgets_text_on_conn(conn):
    conn.execute("ALTER TABLE orders ADD COLUMN x TEXT")


def misspelled_sql_on_engine(engine, *rest):
    with engine.begin() as conn:
        conn.execute(text("ALTR TABLE orders ADD COLUMN x TEXT"))


def forgets_text_on_engine(engine, *rest):
    with engine.begin() as conn:
        conn.execute("ALTER TABLE orders ADD COLUMN x TEXT")


def misspelled_sql_on_second(path, engine):
    misspelled_sql_on_engine(engine)


def forgets_text_on_second(path, engine):
    forgets_text_on_engine(engine)


def misspelled_sql_in_revision():
    op.execute("ALTR TABLE orders ADD COLUMN x TEXT")


def forgets_text_in_revision():
    op.get_bind().execute("ALTER TABLE orders ADD COLUMN x TEXT")


def misspelled_sql_with_sqlite3(*args):
    sqlite3.connect(":memory:").execute("ALTR TABLE orders ADD COLUMN x TEXT")


HERE = "of never_crash.py"


def body_line(function) -> int:
    """The line of a one-line function's body, where it raises."""
    return function.__code__.co_firstlineno + 1
NAMES_A_PYTHON_ERROR = ["the database refused", "text()"]
NAMES_A_SQL_ERROR = ["ZeroDivisionError", "your code raised", "text()"]
UNRELATED = {  # name: (words the verdict must contain, words it must not contain)
    "1/0": ([f"ZeroDivisionError: division by zero (at line {body_line(divides_by_zero)} {HERE}: `return 1 / 0`)"],
            NAMES_A_PYTHON_ERROR),
    "KeyError": ([f"KeyError: 'currency' (at line {body_line(raises_key_error)} {HERE}: `return {{}}[\"currency\"]`)"],
                 NAMES_A_PYTHON_ERROR),
    "SQL syntax": (['the database refused the SQL `ALTR TABLE orders ADD COLUMN x TEXT`: near "ALTR": syntax error',
                    HERE], NAMES_A_SQL_ERROR),
    "no text()": (["ObjectNotExecutableError", "takes SQL wrapped in text()", HERE], ["the database refused"]),
}
ON_POSTGRES = {**UNRELATED, "SQL syntax": (['syntax error at or near "ALTR"', "ALTR TABLE orders", HERE],
                                           NAMES_A_SQL_ERROR)}
SHAPES = {  # the learner's function of each shape, for each unrelated exception
    "conn": {"1/0": divides_by_zero, "KeyError": raises_key_error, "SQL syntax": misspelled_sql_on_conn,
             "no text()": forgets_text_on_conn},
    "engine first": {"1/0": divides_by_zero, "KeyError": raises_key_error, "SQL syntax": misspelled_sql_on_engine,
                     "no text()": forgets_text_on_engine},
    "engine second": {"1/0": divides_by_zero, "KeyError": raises_key_error, "SQL syntax": misspelled_sql_on_second,
                      "no text()": forgets_text_on_second},
    "revision": {"1/0": divides_by_zero, "KeyError": raises_key_error, "SQL syntax": misspelled_sql_in_revision,
                 "no text()": forgets_text_in_revision},
    "plain": {"1/0": divides_by_zero, "KeyError": raises_key_error},
}


def unrelated(check, shape, hints, place=lambda function: (function,), expected=UNRELATED, marks=()):
    """One row per unrelated exception: the check's answer raises it; the verdict names it and none of ``hints``."""
    for name, function in SHAPES[shape].items():
        must, must_not = expected[name]
        yield pytest.param(check, place(function), must, [*must_not, *hints], marks=marks,
                           id=f"{check.__module__.rsplit('.', 1)[1]}.{check.__name__}-{shape}-{name}")


def row(check, answer, must, must_not=(), name=""):
    arguments = answer if isinstance(answer, tuple) else (answer,)
    return pytest.param(check, arguments, list(must), list(must_not),
                        id=f"{check.__module__.rsplit('.', 1)[1]}.{check.__name__}-{name or must[0][:40]}")
