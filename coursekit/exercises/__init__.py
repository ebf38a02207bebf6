"""Auto-checks for the lessons' exercises, one module per lesson (``lesson01``, ...).

Each check returns a :class:`Verdict`, shown in the notebook as one friendly line, "Correct" or
"Not yet" with what to try, and true or false in tests. A wrong answer (None, the wrong type,
SQL that fails) is a verdict, never a traceback. Checks run the learner's code on a small
scratch database of their own, so the lesson's database is never touched.
"""

from __future__ import annotations

import sysconfig
import traceback
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, StatementError

from coursekit.dataset import generate_orders, insert_orders

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


# Code that is not the learner's: this package, the standard library and installed packages.
_NOT_LEARNER_CODE = tuple(
    str(Path(folder).resolve())
    for folder in {
        Path(__file__).resolve().parent.parent,
        *(sysconfig.get_paths()[key] for key in ("stdlib", "purelib", "platlib")),
    }
)


def learner_line(error: BaseException) -> str | None:
    """Where in the learner's own code ``error`` was raised: "line 3 of your cell: `x = 1 / 0`", or None.

    The innermost frame of the traceback that is not in coursekit, the standard library or an installed
    package is the learner's (a notebook cell, or a file of their own).
    """
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if not str(Path(frame.filename).resolve()).startswith(_NOT_LEARNER_CODE)]
    if not frames:
        return None
    frame = frames[-1]
    in_a_cell = "ipykernel_" in frame.filename or frame.filename.startswith("<")
    place = "your cell" if in_a_cell else Path(frame.filename).name
    code = f": `{frame.line.strip()}`" if frame.line else ""
    return f"line {frame.lineno} of {place}{code}"


def explain_error(error: BaseException) -> str:
    """Say what went wrong in the learner's code in words that name that mistake, not a guess at another one.

    A SQL error gives what the database said and the statement it said it about; any other exception gives
    its type, its message and the line of the learner's code it came from. A check adds a hint only when the
    error is the very mistake the hint is about.
    """
    where = learner_line(error)
    at = f" (at {where})" if where else ""
    if isinstance(error, DBAPIError):
        said = str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else type(error.orig).__name__
        statement = " ".join(str(error.statement or "").split())
        shown = statement if len(statement) <= 80 else statement[:77] + "..."
        return f"the database refused the SQL `{shown}`: {said}{at}"
    if isinstance(error, StatementError):  # SQLAlchemy refused before the database saw it, e.g. a missing parameter
        return f"SQLAlchemy could not run the statement: {str(error.orig or error).splitlines()[0]}{at}"
    if type(error).__module__ in ("sqlite3", "psycopg", "psycopg.errors", "pymysql.err"):  # a driver used directly
        return f"the database refused the SQL: {first_line(error)}{at}"
    return f"your code raised {first_line(error)}{at}"


def scratch_orders_engine(rows: int = SCRATCH_ROWS):
    """A fresh in-memory database with lesson 01's two-column ``orders`` table and a few orders."""
    engine = create_engine("sqlite:///:memory:")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE orders (order_id TEXT PRIMARY KEY, amount REAL)"))
        insert_orders(conn, generate_orders(rows), columns=("order_id", "amount"))
    return engine
