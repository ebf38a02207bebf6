"""Lesson 13's exercise checks (see :mod:`coursekit.exercises` for how checks behave).

The learner writes a test function; a good test passes on a correct database *and fails on a broken one*. So each
check runs the learner's test on a database where the migration is right (it must pass) and on databases where it is
wrong or missing (it must fail). A test that cannot fail is a verdict too.
"""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from coursekit.exercises import Verdict, explain_error
from coursekit.exercises.lesson11 import scratch_database_at

TEST_FAILED = (AssertionError, pytest.fail.Exception)
OUTCOME_WORDS = {"failed": "failed", "error": "stopped with an error", "skipped": "skipped itself"}


def _outcome(test, engine) -> tuple[str, BaseException | None]:
    """("passed" | "failed" | "error" | "skipped", what was raised) for the learner's test run on ``engine``."""
    try:
        test(engine)
    except TEST_FAILED as failure:
        return "failed", failure
    except pytest.skip.Exception as skip:  # pytest.skip() in a test: it did not pass
        return "skipped", skip
    except Exception as error:
        return "error", error
    return "passed", None


def _refused_check(error: BaseException | None) -> bool:
    """The database's CHECK refused the test's write, and the test did not expect it (no pytest.raises)."""
    return isinstance(error, IntegrityError) and "CHECK constraint failed" in str(error.orig)


def _judge(test, good, broken: dict, what: str) -> Verdict:
    """Right when ``test`` passes on ``good`` and does not pass (fails or errors, as pytest reports) on each broken."""
    if not callable(test):
        return Verdict(False, "define a test function that takes `engine`, and run its cell first.")
    outcome, raised = _outcome(test, good)
    if outcome != "passed":
        hint = ""
        if _refused_check(raised):
            hint = (" The refusal is what your test should expect: write the statement inside "
                    "`with pytest.raises(IntegrityError):`.")
        return Verdict(False, f"on a correctly migrated database your test {OUTCOME_WORDS[outcome]}: "
                              f"{explain_error(raised)}. It should pass.{hint}")
    for name, engine in broken.items():
        if _outcome(test, engine)[0] == "passed":
            return Verdict(False, f"your test also passed on a database {name}: it cannot catch that. Assert {what}.")
    return Verdict(True, f"it passes on the right database and fails on every broken one ({len(broken)}).")


def check_constraint_test(test) -> Verdict:
    """Exercise 1: a test that an unknown status is refused (the CHECK of revision 0004)."""
    return _judge(
        test,
        scratch_database_at("head"),
        {"without the CHECK constraint (revision 0003)": scratch_database_at("0003")},
        "that writing a status such as 'lost' raises IntegrityError",
    )


def _status_added_by(sql: str):
    """A database at revision 0001 where ``status`` was added by ``sql`` instead of by revision 0002."""
    engine = scratch_database_at("0001")
    with engine.begin() as conn:
        conn.exec_driver_sql(sql)
    return engine


def check_default_test(test) -> Verdict:
    """Exercise 2: a test that an order inserted without a status reads 'pending' (revision 0002's default)."""
    return _judge(
        test,
        scratch_database_at("0002"),
        {
            "where status has no database default": _status_added_by("ALTER TABLE orders ADD COLUMN status TEXT"),
            "whose default is 'new'": _status_added_by(
                "ALTER TABLE orders ADD COLUMN status TEXT NOT NULL DEFAULT 'new'"
            ),
        },
        "that an order inserted without naming status reads 'pending'",
    )
