"""explain_error names the mistake that was made: the database's words for SQL, the type and line for the rest."""

import pytest
from sqlalchemy import create_engine, text

from coursekit.exercises import explain_error


def misspelled_sql(conn):
    conn.execute(text("ALTR TABLE orders ADD COLUMN x TEXT"))


def divides_by_zero(conn):
    return 1 / 0


def forgets_text(conn):
    conn.execute("ALTER TABLE orders ADD COLUMN x TEXT")


def error_from(function):
    engine = create_engine("sqlite://")
    try:
        with engine.begin() as conn:
            function(conn)
    except Exception as error:
        return error
    pytest.fail("the function should have raised")


def test_a_sql_error_says_what_the_database_said_and_about_which_statement():
    message = explain_error(error_from(misspelled_sql))
    assert 'near "ALTR": syntax error' in message
    assert "ALTR TABLE orders ADD COLUMN x TEXT" in message
    assert "text()" not in message


def test_another_exception_names_its_type_and_the_learners_line():
    message = explain_error(error_from(divides_by_zero))
    assert "ZeroDivisionError" in message
    assert "line 14 of test_explain_error.py: `return 1 / 0`" in message
    assert "SQL" not in message


def test_sql_without_text_names_sqlalchemys_refusal_and_the_line():
    message = explain_error(error_from(forgets_text))
    assert "ObjectNotExecutableError" in message and "`conn.execute(" in message
