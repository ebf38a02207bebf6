"""Lesson 06's exercise checks (see :mod:`coursekit.exercises` for how checks behave)."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from coursekit.dataset import generate_orders, insert_orders
from coursekit.exercises import Verdict, explain_error
from coursekit.order_steps import CREATE_ORDERS

STATUS_RULE = ("CASE WHEN refunded_at IS NOT NULL THEN 'refunded' "
               "WHEN shipped_at IS NOT NULL THEN 'shipped' ELSE 'pending' END")
BATCH_CASES = [(0, 10, 0), (1, 10, 1), (10, 10, 1), (11, 10, 2), (50_000, 2_000, 25), (50_001, 2_000, 26)]


def half_done_backfill(rows: int = 200, done: int = 80):
    """A scratch shop whose first ``done`` orders (by key) are backfilled, and the number still to do."""
    engine = create_engine("sqlite:///:memory:")
    with engine.begin() as conn:
        conn.execute(text(CREATE_ORDERS))
        insert_orders(conn, generate_orders(rows))
        conn.execute(text("ALTER TABLE orders ADD COLUMN status TEXT NOT NULL DEFAULT 'pending'"))
        last = conn.execute(text("SELECT order_id FROM orders ORDER BY order_id LIMIT 1 OFFSET :n"),
                            {"n": done - 1}).scalar_one()
        conn.execute(text(f"UPDATE orders SET status = {STATUS_RULE} WHERE order_id <= :last"), {"last": last})
        remaining = conn.execute(text(f"SELECT count(*) FROM orders WHERE order_id > :last "
                                      f"AND {STATUS_RULE} <> 'pending'"), {"last": last}).scalar_one()
    return engine, remaining


def check_remaining_query(remaining_sql) -> Verdict:
    """Exercise 1: a query counting the orders whose status differs from the rule."""
    if not isinstance(remaining_sql, str) or not remaining_sql.strip():
        return Verdict(False, "write the query as a string, e.g. \"SELECT count(*) FROM orders WHERE ...\".")
    engine, remaining = half_done_backfill()
    try:
        with engine.connect() as conn:
            result = conn.execute(text(remaining_sql))
            if not result.returns_rows:
                return Verdict(False, "that statement returns no rows: write a SELECT that counts, e.g. "
                                      "\"SELECT count(*) FROM orders WHERE ...\".")
            answer = result.scalar()
    except Exception as error:  # the learner's SQL failing is an answer to explain
        return Verdict(False, f"the query failed: {explain_error(error)}.")
    if answer != remaining:
        return Verdict(False, f"on a half-done backfill your query says {answer!r}, but {remaining} orders still "
                              "differ from the rule. Compare status with STATUS_RULE row by row.")
    return Verdict(True, f"{remaining} orders still to do; the same query says 0 when the backfill is finished.")


def check_batches_needed(batches_needed) -> Verdict:
    """Exercise 2: the number of batches is the rows divided by the batch size, rounded up."""
    if not callable(batches_needed):
        return Verdict(False, "define a function `batches_needed(rows, batch_size)` and run its cell first.")
    for rows, size, expected in BATCH_CASES:
        try:
            answer = batches_needed(rows, size)
        except Exception as error:
            return Verdict(False, f"batches_needed({rows:,}, {size:,}) failed: {explain_error(error)}.")
        if answer != expected or isinstance(answer, bool):
            return Verdict(False, f"batches_needed({rows:,}, {size:,}) returned {answer!r}; it should be {expected}.")
    return Verdict(True, "a partial last batch still needs its own transaction, and an empty table needs none.")
