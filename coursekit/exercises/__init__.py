"""Auto-checks for the lessons' exercises, one module per lesson (``lesson01``, ...).

Each check returns a :class:`Verdict`, shown in the notebook as one friendly line, "Correct" or
"Not yet" with what to try, and true or false in tests. A wrong answer (None, the wrong type,
SQL that fails) is a verdict, never a traceback. Checks run the learner's code on a small
scratch database of their own, so the lesson's database is never touched.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import create_engine, text

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


def scratch_orders_engine(rows: int = SCRATCH_ROWS):
    """A fresh in-memory database with lesson 01's two-column ``orders`` table and a few orders."""
    engine = create_engine("sqlite:///:memory:")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE orders (order_id TEXT PRIMARY KEY, amount REAL)"))
        insert_orders(conn, generate_orders(rows), columns=("order_id", "amount"))
    return engine
