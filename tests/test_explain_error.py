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


def test_a_driver_used_directly_gives_the_databases_words_and_the_line():
    import sqlite3

    try:
        sqlite3.connect(":memory:").execute("ALTR TABLE orders ADD COLUMN x TEXT")
    except sqlite3.Error as error:
        message = explain_error(error)
    assert message.startswith('the database refused the SQL: near "ALTR": syntax error (OperationalError)')
    assert 'test_explain_error.py: `sqlite3.connect(":memory:").execute("ALTR TABLE' in message


def test_mysql_says_its_message_and_code_not_a_tuple():
    import pymysql

    said = "You have an error in your SQL syntax; check the manual ... near 'ALTR TABLE x' at line 1"
    message = explain_error(pymysql.err.ProgrammingError(1064, said))  # the (code, message) pair pymysql raises
    assert f"{said} (error 1064)" in message and "(1064," not in message


@pytest.mark.server
def test_postgresql_says_where_in_the_statement():
    from coursekit.pgserver import postgres_url

    engine = create_engine(postgres_url())
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT order_id, nothing FROM (SELECT 1 AS order_id) AS orders"))
    except Exception as error:
        message = explain_error(error)
    finally:
        engine.dispose()
    assert 'column "nothing" does not exist, at `nothing FROM (SELECT 1 AS o...`' in message


def test_sql_run_by_a_library_for_the_learner_has_no_learner_line():
    engine = create_engine("sqlite://")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT * FROM nowhere"))  # as a check runs a learner's query string
    except Exception as error:
        error.__traceback__ = error.__traceback__.tb_next  # drop this test's own frame: only library frames remain
        message = explain_error(error)
    assert message == "the database refused the SQL `SELECT * FROM nowhere`: no such table: nowhere"


def test_alembics_generated_op_functions_are_not_the_learners_cell():
    from alembic import op
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    def downgrade():
        op.drop_column("orders", "nothing")

    engine = create_engine("sqlite://")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE orders (order_id TEXT)"))
        with Operations.context(MigrationContext.configure(conn)):
            try:
                downgrade()
            except Exception as error:
                message = explain_error(error)
    assert 'of test_explain_error.py: `op.drop_column("orders", "nothing")`' in message
    assert "your cell" not in message


def test_a_migration_error_says_the_step_and_the_refused_statement():
    from coursekit.migrations import MigrationError, Migrator, Step

    engine = create_engine("sqlite://")
    migrator = Migrator(engine, [Step("add a column", ("ALTER TABLE nowhere ADD COLUMN x TEXT",), ("SELECT 1",))])
    with pytest.raises(MigrationError) as raised:
        migrator.upgrade()
    message = explain_error(raised.value)
    assert message.startswith("the migration failed: Step 1 (add a column) failed to upgrade")
    assert "no such table: nowhere" in message
    assert "(the database refused `ALTER TABLE nowhere ADD COLUMN x TEXT`)" in message


def test_a_failed_assert_and_pytest_outcomes_are_named_as_such():
    def bare_assert():
        assert 1 == 2, "one is not two"

    def pytest_raises_without_an_error():
        with pytest.raises(ZeroDivisionError):
            pass

    for function, words in ((bare_assert, "an assert failed: one is not two"),
                            (pytest_raises_without_an_error, "pytest reported Failed: DID NOT RAISE")):
        try:
            function()
        except (AssertionError, pytest.fail.Exception) as error:
            message = explain_error(error)
        assert message.startswith(words) and "of test_explain_error.py" in message, message


def test_a_connection_that_fails_is_not_called_a_refused_statement():
    engine = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/test", connect_args={"connect_timeout": 5})
    try:
        engine.connect()  # nothing listens on port 1
    except Exception as error:
        message = explain_error(error)
    assert message.startswith("the database said: connection failed:") and "refused the SQL" not in message


def test_an_error_raised_in_the_courses_alembic_environment_is_not_placed_in_the_learners_code():
    from alembic import command

    from coursekit.alembic_setup import alembic_config

    engine = create_engine("sqlite://")
    try:
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0003")  # from base: Alembic refuses the target
    except Exception as error:
        message = explain_error(error)
    else:
        pytest.fail("downgrading an empty database to 0003 should fail")
    assert "env.py" not in message and "line" in message and "test_explain_error.py" in message, message
