"""Auto-checks for the lessons' exercises, one module per lesson (``lesson01``, ...).

Each check returns a :class:`Verdict`, shown in the notebook as one friendly line, "Correct" or
"Not yet" with what to try, and true or false in tests. A wrong answer (None, the wrong type,
SQL that fails) is a verdict, never a traceback. Checks run the learner's code on a small
scratch database of their own, so the lesson's database is never touched.
"""

from __future__ import annotations

import linecache
import re
import sys
import sysconfig
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, ObjectNotExecutableError, StatementError

from coursekit.dataset import generate_orders, insert_orders
from coursekit.migrations import MigrationError

SCRATCH_ROWS = 10


class Verdict(NamedTuple):
    """A check's result: true when the answer is right; shows as one friendly line in a notebook."""

    ok: bool
    message: str

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        return ("✅ Correct: " if self.ok else "❌ Not yet: ") + self.message


def first_line(error: BaseException) -> str:
    return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"


# Code that is not the learner's: this package, the course's own Alembic environment (migrations/: env.py and the
# revisions the lessons run), the standard library and installed packages.
_NOT_LEARNER_CODE = tuple(
    str(Path(folder).resolve())
    for folder in {
        Path(__file__).resolve().parent.parent,
        Path(__file__).resolve().parent.parent.parent / "migrations",
        *(sysconfig.get_paths()[key] for key in ("stdlib", "purelib", "platlib")),
    }
)


def _is_library_file(filename: str) -> bool:
    return str(Path(filename).resolve()).startswith(_NOT_LEARNER_CODE)


def _is_learner_frame(frame) -> bool:
    """Code of the learner's own: not in a library's file, nor compiled from a string by a library (Alembic's
    ``op`` functions are generated with ``exec``, so their frames have no file but a library's globals)."""
    filename = frame.f_code.co_filename
    if not filename.startswith("<"):
        return not _is_library_file(filename)
    module = sys.modules.get(frame.f_globals.get("__name__") or "")
    module_file = getattr(module, "__file__", None)
    return module is None or module.__name__ == "__main__" or not module_file or not _is_library_file(module_file)


def learner_line(error: BaseException) -> str | None:
    """Where in the learner's own code ``error`` was raised: "line 3 of your cell: `x = 1 / 0`", or None.

    The innermost frame of the traceback that is not in coursekit, the standard library or an installed
    package is the learner's (a notebook cell, or a file of their own).
    """
    frames = [(tb.tb_frame, tb.tb_lineno) for tb in _walk(error.__traceback__) if _is_learner_frame(tb.tb_frame)]
    if not frames:
        return None
    frame, lineno = frames[-1]
    filename = frame.f_code.co_filename
    in_a_cell = "ipykernel_" in filename or filename.startswith("<")
    place = "your cell" if in_a_cell else Path(filename).name
    line = linecache.getline(filename, lineno, frame.f_globals).strip()
    code = f": `{line}`" if line else ""
    return f"line {lineno} of {place}{code}"


def _walk(tb):
    while tb is not None:
        yield tb
        tb = tb.tb_next


DRIVER_MODULES = ("sqlite3", "psycopg", "psycopg2", "pymysql", "MySQLdb")


def _is_driver_error(error: BaseException) -> bool:
    """An error raised by a database driver itself (sqlite3, psycopg, pymysql), not wrapped by SQLAlchemy."""
    return any(cls.__module__.split(".")[0] in DRIVER_MODULES for cls in type(error).__mro__[:-2])


def database_words(error: BaseException, statement: str | None = None) -> str:
    """What the database said, in its own words: its first line, and where in ``statement`` PostgreSQL points."""
    args = getattr(error, "args", ())
    if type(error).__module__.startswith("pymysql") and len(args) == 2 and isinstance(args[0], int):
        return f"{args[1]} (error {args[0]})"  # MySQL/MariaDB: (code, message), the message says where
    said = str(error).strip()
    words = said.splitlines()[0] if said else type(error).__name__
    position = getattr(getattr(error, "diag", None), "statement_position", None)  # PostgreSQL: 1-based character
    if position and statement and 1 < int(position) <= len(statement):  # 1: the whole statement
        return f"{words}, at `{_shorten(statement[int(position) - 1:], 30)}`"
    return words


def _without_background(message: str) -> str:
    """SQLAlchemy's message without its "(Background on this error at: https://...)" link."""
    return re.sub(r"\s*\(Background on this error at: [^)]*\)", "", message)


def _shorten(statement: str, limit: int = 80) -> str:
    statement = " ".join(str(statement or "").split())
    return statement if len(statement) <= limit else statement[: limit - 3] + "..."


def explain_error(error: BaseException) -> str:
    """Say what went wrong in the learner's code in words that name that mistake, not a guess at another one.

    A SQL error gives what the database said and the statement it said it about; a failed ``assert`` or
    ``pytest.raises`` says so; any other exception gives its type, its message and the line of the learner's
    code it came from (no line when the error came from SQL the check itself ran for the learner). The only
    hint added here is the one the error proves: ``conn.execute("...")`` given a plain string needs ``text()``.
    A check adds a hint of its own only when the error is the very mistake that hint is about.
    """
    where = learner_line(error)
    at = f" (at {where})" if where else ""
    if isinstance(error, DBAPIError):
        said = database_words(error.orig, error.statement)
        if not error.statement:  # no statement: connecting failed, or the connection broke
            return f"the database said: {said}{at}"
        return f"the database refused the SQL `{_shorten(error.statement)}`: {said}{at}"
    if isinstance(error, ObjectNotExecutableError) and isinstance(error.target, str):
        return (f"your code raised ObjectNotExecutableError{at}: conn.execute() takes SQL wrapped in text(), "
                f"conn.execute(text(\"...\")), not the plain string `{_shorten(error.target, 50)}`")
    if isinstance(error, StatementError):  # SQLAlchemy refused before the database saw it, e.g. a missing parameter
        reason = _without_background(str(error.orig or error).splitlines()[0])
        return f"SQLAlchemy could not run the statement `{_shorten(error.statement)}`: {reason}{at}"
    if _is_driver_error(error):  # a driver used directly (sqlite3, psycopg, pymysql)
        return f"the database refused the SQL: {database_words(error)} ({type(error).__name__}){at}"
    if isinstance(error, MigrationError):
        cause = error.__cause__
        statement = f" (the database refused `{_shorten(cause.statement)}`)" if isinstance(cause, DBAPIError) else ""
        return f"the migration failed: {str(error).splitlines()[0] if str(error) else ''}{statement}{at}"
    if isinstance(error, AssertionError):
        said = f": {str(error).splitlines()[0]}" if str(error).strip() else ""
        return f"an assert failed{said}{at}"
    outcomes = sys.modules.get("_pytest.outcomes")  # pytest.fail, pytest.raises' DID NOT RAISE, pytest.skip
    if outcomes is not None and isinstance(error, outcomes.OutcomeException):
        said = f": {str(error).splitlines()[0]}" if str(error).strip() else ""
        return f"pytest reported {type(error).__name__}{said}{at}"
    return f"your code raised {_without_background(first_line(error))}{at}"


def scratch_orders_engine(rows: int = SCRATCH_ROWS):
    """A fresh in-memory database with lesson 01's two-column ``orders`` table and a few orders."""
    engine = create_engine("sqlite:///:memory:")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE orders (order_id TEXT PRIMARY KEY, amount REAL)"))
        insert_orders(conn, generate_orders(rows), columns=("order_id", "amount"))
    return engine
