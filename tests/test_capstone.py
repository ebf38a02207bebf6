"""The capstone's grader (coursekit/capstone.py): the reference solution passes every check, and each wrong solution a
learner may write fails exactly the check that should catch it, with a hint naming the cause (file and line where
there is one); the learner's folder is never changed.

Each wrong solution is the reference with one mistake written into it, so a failure can only come from that mistake.
"""

import hashlib
import io
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from coursekit import capstone
from coursekit.alembic_setup import alembic_config
from coursekit.capstone import (
    CHECKS,
    FAIL,
    NOT_RUN,
    PASS,
    REFERENCE,
    check_postgres,
    grade,
    model_differences,
    waiver_lines,
)
from coursekit.dataset import read_orders_csv
from coursekit.pgserver import postgres_url
from tests.conftest import REPO

REFERENCE_FILES = sorted(path.name for path in REFERENCE.glob("*.py"))
GRADER_TARGET_SECONDS = 30


def solution(folder: Path, changes: dict) -> Path:
    """The reference copied into ``folder``, with ``changes``: {file: (old, new)} or {file: [(old, new), ...]}, each
    ``old`` replaced (it must occur once), {file: None} to leave the file out, or {new file: "its text"}."""
    folder.mkdir(exist_ok=True)
    for name, written in changes.items():
        if isinstance(written, str):
            (folder / name).write_text(written, encoding="utf-8")
    for name in REFERENCE_FILES:
        source = (REFERENCE / name).read_text(encoding="utf-8")
        if name in changes and changes[name] is None:
            continue
        edits = changes.get(name, [])
        for old, new in [edits] if isinstance(edits, tuple) else edits:
            assert source.count(old) == 1, f"{old!r} must occur once in {name}"
            source = source.replace(old, new)
        (folder / name).write_text(source, encoding="utf-8")
    return folder


def files_of(folder: Path) -> dict:
    """Every file and folder under ``folder``: its contents' hash and its modification time (nanoseconds)."""
    return {path.relative_to(folder).as_posix(): (hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file()
                                                  else "folder", path.stat().st_mtime_ns)
            for path in sorted(folder.rglob("*"))}


def test_the_reference_solution_passes_every_check_within_the_target_time(tmp_path):
    learner = solution(tmp_path / "versions", {})
    before = files_of(learner)
    started = time.perf_counter()
    card = grade(learner)
    seconds = time.perf_counter() - started
    assert card.statuses() == dict.fromkeys(CHECKS, PASS), repr(card)
    assert bool(card)
    assert seconds < GRADER_TARGET_SECONDS, f"the grader took {seconds:.1f} s"
    assert files_of(learner) == before, "grading changed the learner's folder"
    # every waiver in the reference is used: squawk finds what each one explains
    waived = sorted(f"{rule} ({path.name[:4]})" for path in REFERENCE.glob("*.py") for rule in waiver_lines(path))
    assert len(waived) == 5
    assert card["squawk"].hint.endswith("waived with a reason: " + ", ".join(waived)), card["squawk"].hint
    print(f"grader run time on the reference: {seconds:.1f} s")


def test_the_reference_writes_its_postgresql_sql_offline():
    """``alembic upgrade head --sql`` for PostgreSQL, as lesson 12 shows it: each revision asks the migration context
    for the dialect (``op.get_bind()`` has no connection offline)."""
    out = io.StringIO()
    config = alembic_config(url="postgresql+psycopg://")
    config.output_buffer = out
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(REFERENCE))
    command.upgrade(config, "head", sql=True)
    sql = out.getvalue()
    assert "CREATE TRIGGER orders_sync_amount BEFORE INSERT OR UPDATE ON orders" in sql
    assert "UPDATE orders SET amount_cents = CAST(ROUND(amount * 100) AS INTEGER) WHERE amount_cents IS NULL" in sql
    assert "ADD CONSTRAINT ck_orders_amount_cents_positive CHECK (amount_cents > 0)" in sql


def test_the_scorecard_prints_one_stable_line_per_check(tmp_path):
    card = grade(solution(tmp_path / "versions", {}), checks=("structure", "goal", "data"))
    text = repr(card)
    assert text.splitlines()[0] == "Capstone scorecard: 3 of 3 checks pass"
    assert [line.split(":")[0] for line in text.splitlines()[1:]] == ["✅ structure", "✅ goal", "✅ data"]
    assert "0x" not in text and "Traceback" not in text


def test_the_truncating_cast_loses_a_cent_on_57_of_the_courses_orders():
    """The trap the task sets: CAST(amount * 100 AS INTEGER) truncates 919.999… to 919 (counted from the data)."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE orders (order_id TEXT, amount REAL)")
    conn.executemany("INSERT INTO orders VALUES (?, ?)", [(row[0], row[4]) for row in read_orders_csv()])
    short = conn.execute("SELECT count(*) FROM orders WHERE CAST(amount * 100 AS INTEGER) < ROUND(amount * 100)")
    assert short.fetchone()[0] == 57
    assert conn.execute("SELECT CAST(amount * 100 AS INTEGER) FROM orders WHERE order_id = 'ORD-0000001'"
                        ).fetchone()[0] == 919  # 9.20


BACKFILL = "CAST(ROUND(amount * 100) AS INTEGER) WHERE amount_cents IS NULL"
C001_DOWNGRADE_START = "def downgrade() -> None:\n    set_timeouts()"

def line_of(name: str, text: str) -> int:
    """The line of the reference file ``name`` where ``text`` begins."""
    return (REFERENCE / name).read_text(encoding="utf-8").split(text)[0].count("\n") + 1


NOTHING = '    """Nothing to undo'  # c002's downgrade: its docstring says why it changes nothing
CONTRACT_BATCH = """    with op.batch_alter_table("orders") as batch:
        batch.drop_column("amount")
        # named by the model's naming convention (coursekit/models.py): ck_orders_amount_cents_positive, ..._not_null
        batch.create_check_constraint("amount_cents_positive", "amount_cents > 0", postgresql_not_valid=True)
        batch.create_check_constraint("amount_cents_not_null", "amount_cents IS NOT NULL", postgresql_not_valid=True)
"""

TIMEOUTS = '''TIMEOUTS = ["SET LOCAL lock_timeout = '1s'", "SET LOCAL statement_timeout = '5s'"]'''
BAN_DROP_COLUMN_WAIVER = ('    "ban-drop-column": "only shop v1 reads or writes amount, and it is retired before this '
                          'revision (the contract); "\n                       "shop v2 reads amount_cents",\n')
FILL = f'    op.execute("UPDATE orders SET amount_cents = {BACKFILL}")\n'
# An index to find the rows still to fill, dropped after the backfill: built plainly, it blocks the shop's writes.
PLAIN_FILL_INDEX = ('    op.create_index("ix_orders_amount_cents", "orders", ["amount_cents"])\n' + FILL
                    + '    op.drop_index("ix_orders_amount_cents", table_name="orders")\n')
CONCURRENT_FILL_INDEX = '''    with op.get_context().autocommit_block():
        op.create_index("ix_orders_amount_cents", "orders", ["amount_cents"], postgresql_concurrently=True,
                        if_not_exists=True)
''' + FILL + '''    with op.get_context().autocommit_block():
        op.drop_index("ix_orders_amount_cents", table_name="orders", postgresql_concurrently=True, if_exists=True)
'''
INDEX_REVISION = '''"""An index on customer_id, for the shop's "my orders" page.

Revision ID: c005
Revises: c004
"""

from alembic import op

revision = "c005"
down_revision = "c004"
branch_labels = None
depends_on = None

SQUAWK_WAIVERS = {
    "require-statement-timeout": "CREATE INDEX CONCURRENTLY may take minutes on a big table while the shop goes on "
                                 "writing; a timeout would only leave an invalid index behind",
}


def upgrade() -> None:
    with op.get_context().autocommit_block():  # CONCURRENTLY runs outside a transaction, so SET, not SET LOCAL
        if op.get_context().dialect.name == "postgresql":
            op.execute("SET lock_timeout = '1s'")
        op.create_index("ix_orders_customer_id", "orders", ["customer_id"], postgresql_concurrently=True,
                        if_not_exists=True)


def downgrade() -> None:
    op.drop_index("ix_orders_customer_id", table_name="orders")
'''

WRONG_SOLUTIONS = {
    # name: (changes to the reference, the check that must fail, words its hint must hold)
    "truncating cast": (
        {"c002_backfill_amount_cents.py": [(BACKFILL, "CAST(amount * 100 AS INTEGER) WHERE amount_cents IS NULL")]},
        "data", ["57 of 1,000 orders", "ORD-0000001: 9.20 became 919", "CAST(ROUND(amount * 100) AS INTEGER)"]),
    "an order deleted": (
        {"c002_backfill_amount_cents.py": ('def upgrade() -> None:\n',
                                           'def upgrade() -> None:\n'
                                           '    op.execute("DELETE FROM orders WHERE order_id = \'ORD-0000999\'")\n')},
        "data", ["c002 (c002_backfill_amount_cents.py) loses 1 of the 1,000 orders", "ORD-0000999"]),
    "an order added": (  # a test order left behind in the backfill
        {"c002_backfill_amount_cents.py": ('def upgrade() -> None:\n',
                                           'def upgrade() -> None:\n'
                                           '    op.execute("INSERT INTO orders (order_id, customer_id, country, '
                                           "ordered_at, amount) VALUES ('TEST-1', 'C-000062', 'DE', '2025-12-31', "
                                           '1.0)")\n')},
        "data", ["the sums per customer changed for 1 customer(s), e.g. C-000062", "A migration adds no orders"]),
    "another column changed": (
        {"c002_backfill_amount_cents.py": ('def upgrade() -> None:\n',
                                           'def upgrade() -> None:\n'
                                           '    op.execute("UPDATE orders SET shipped_at = NULL WHERE order_id = '
                                           "'ORD-0000001'\")\n")},
        "data", ["shipped_at changed: order ORD-0000001 had '2025-01-04', now None"]),
    "no downgrade": (
        {"c001_expand_amount_cents.py": (C001_DOWNGRADE_START, C001_DOWNGRADE_START.replace("downgrade", "undo"))},
        "structure", ["c001_expand_amount_cents.py, line", "has no downgrade()"]),
    "a downgrade that only passes": (
        {"c002_backfill_amount_cents.py": (
            "    \"\"\"Nothing to undo: amount still holds every order's price, and c001's downgrade drops "
            "amount_cents.\"\"\"", "    pass")},
        "structure", [f"c002_backfill_amount_cents.py, line {line_of('c002_backfill_amount_cents.py', NOTHING)}",
                      "downgrade() does nothing"]),
    "contract before v2 runs": (  # the backfill moved into the contract: v2 cannot start before v1 must stop
        {"c002_backfill_amount_cents.py": None,
         "c003_contract_amount.py": [('down_revision = "c002"', 'down_revision = "c001"'),
                                     ("def upgrade() -> None:\n", "def upgrade() -> None:\n    op.execute(\"UPDATE "
                                      "orders SET amount_cents = CAST(ROUND(amount * 100) AS INTEGER)\")\n")]},
        "compatibility", ["contracts too early", "shop v1 still runs"]),
    "two heads": (  # two developers each wrote a revision on c002
        {"c004_validate_amount_cents.py": ('down_revision = "c003"', 'down_revision = "c002"')},
        "structure", ["2 heads", "c003 (c003_contract_amount.py)", "c004 (c004_validate_amount_cents.py)",
                      f"The line forks at c003_contract_amount.py, line {line_of('c003_contract_amount.py', 'down_')} "
                      f"(down_revision = 'c002') and c004_validate_amount_cents.py, line "
                      f"{line_of('c004_validate_amount_cents.py', 'down_')} (down_revision = 'c002')",
                      "alembic merge heads"]),
    "two first revisions": (  # a second line started from nothing: c002 follows no revision
        {"c002_backfill_amount_cents.py": ('down_revision = "c001"', "down_revision = None")},
        "structure", ["2 heads", "The line forks at c001_expand_amount_cents.py, line "
                      f"{line_of('c001_expand_amount_cents.py', 'down_')} (down_revision = None) and "
                      f"c002_backfill_amount_cents.py, line {line_of('c002_backfill_amount_cents.py', 'down_')} "
                      "(down_revision = None)"]),
    "a syntax error": (
        {"c002_backfill_amount_cents.py": ("def upgrade() -> None:", "def upgrade() -> None")},
        "structure", [f"c002_backfill_amount_cents.py, line {line_of('c002_backfill_amount_cents.py', 'def upgrade')}",
                      "syntax error"]),
    "a down_revision with a typo": (
        {"c002_backfill_amount_cents.py": ('down_revision = "c001"', 'down_revision = "c00l"')},
        "structure", [f"c002_backfill_amount_cents.py, line {line_of('c002_backfill_amount_cents.py', 'down_rev')}",
                      "down_revision is 'c00l', and no revision in the folder has that id"]),
    "calls exit()": (
        {"c002_backfill_amount_cents.py": ("def upgrade() -> None:\n",
                                           "def upgrade() -> None:\n    raise SystemExit(3)\n")},
        "structure", ["SystemExit", f"line {line_of('c002_backfill_amount_cents.py', 'def upgrade') + 1} of "
                      "c002_backfill_amount_cents.py", "must not end the program"]),
    "drops the table": (  # the whole table "contracted"
        {"c003_contract_amount.py": (CONTRACT_BATCH, '    op.drop_table("orders")\n')},
        "structure", [f"c003_contract_amount.py, line {line_of('c003_contract_amount.py', CONTRACT_BATCH)}",
                      "drops the table orders"]),
    "a downgrade written for SQLite only": (
        {"c001_expand_amount_cents.py": ('[f"DROP TRIGGER {name}" for name in SQLITE_TRIGGERS] if on_sqlite() else '
                                         "POSTGRES_UNSYNC", '[f"DROP TRIGGER {name}" for name in SQLITE_TRIGGERS]')},
        "postgres", ["on PostgreSQL, the downgrade of revision c001 (c001_expand_amount_cents.py) failed",
                     "DROP TRIGGER amount_cents_on_insert", "c001_expand_amount_cents.py"]),
    "a lock held too long": (  # a slow rewrite, as on a big table: the shop's writes wait and give up
        {"c002_backfill_amount_cents.py": (
            'def upgrade() -> None:\n    set_timeouts()\n',
            'def upgrade() -> None:\n    set_timeouts()\n    if not on_sqlite():\n'
            '        op.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")\n'
            '        op.execute("SELECT pg_sleep(1.6)")\n')},
        "postgres", ["shop writes failed", "lock timeout"]),
    "no lock timeout": (  # c001's ALTER TABLE would wait for its lock as long as it takes, the shop queued behind it
        {"c001_expand_amount_cents.py": (TIMEOUTS, '''TIMEOUTS = ["SET LOCAL statement_timeout = '5s'"]''')},
        "squawk", ["squawk's require-lock-timeout in c001_expand_amount_cents.py (revision c001)",
                   "on `ALTER TABLE orders ALTER COLUMN amount DROP NOT NULL`", "lock_timeout"]),
    "a plain CREATE INDEX on PostgreSQL": (
        {"c002_backfill_amount_cents.py": (FILL, PLAIN_FILL_INDEX)},
        "squawk", ["squawk's require-concurrent-index-creation in c002_backfill_amount_cents.py (revision c002)",
                   "on `CREATE INDEX ix_orders_amount_cents ON orders (amount_cents)`",
                   "postgresql_concurrently=True", "autocommit_block()"]),
    "a squawk waiver without a reason": (
        {"c003_contract_amount.py": (BAN_DROP_COLUMN_WAIVER, '    "ban-drop-column": "ok",\n')},
        "squawk", [f"c003_contract_amount.py, line {line_of('c003_contract_amount.py', BAN_DROP_COLUMN_WAIVER)}: "
                   "the waiver of squawk's ban-drop-column gives no reason ('ok'), so it is refused"]),
    "squawk's own ignore comment instead of a waiver": (  # it would silence squawk, with no reason given
        {"c003_contract_amount.py": [(BAN_DROP_COLUMN_WAIVER, ""), (
            '    with op.batch_alter_table("orders") as batch:\n        batch.drop_column("amount")\n',
            '    op.execute("-- squawk-ignore ban-drop-column\\nALTER TABLE orders DROP COLUMN amount")\n'
            '    with op.batch_alter_table("orders") as batch:\n')]},
        "squawk", ["squawk's ban-drop-column in c003_contract_amount.py (revision c003)",
                   "A `-- squawk-ignore` comment does not count here: a waiver needs its reason, in SQUAWK_WAIVERS"]),
    "the model not matching the head": (  # an index the shop needs, built right, but not declared in the model
        {"c005_index_customer_id.py": INDEX_REVISION},
        "model", ["as `alembic check` would say", "the database at the head has an index ix_orders_customer_id on "
                  "orders (customer_id), which the model has not"]),
}


@pytest.mark.parametrize("name", WRONG_SOLUTIONS)
def test_each_wrong_solution_fails_exactly_its_check(tmp_path, name):
    changes, failing, words = WRONG_SOLUTIONS[name]
    learner = solution(tmp_path / "versions", changes)
    before = files_of(learner)
    card = grade(learner)
    statuses = card.statuses()
    assert statuses[failing] == FAIL, repr(card)
    assert [check for check, status in statuses.items() if status == FAIL] == [failing], repr(card)
    for check, status in statuses.items():
        if check in ("structure", failing) or status == NOT_RUN:
            continue
        assert status == PASS, repr(card)
    for word in words:
        assert word in card[failing].hint, repr(card)
    assert "Traceback" not in repr(card)
    assert files_of(learner) == before


def test_an_index_built_concurrently_passes_every_check(tmp_path):
    """The right form of the plain CREATE INDEX above: CONCURRENTLY, outside the migration's transaction."""
    card = grade(solution(tmp_path / "versions", {"c002_backfill_amount_cents.py": (FILL, CONCURRENT_FILL_INDEX)}))
    assert card.statuses() == dict.fromkeys(CHECKS, PASS), repr(card)


def test_a_slow_write_of_the_retired_shop_is_drained_before_the_contract(monkeypatch):
    """On a busy machine, shop v1's last write can still be under way when the rollout retires v1: the check waits
    for it, as a deploy waits for the old version's requests, instead of failing the reference's contract with
    'column "amount" does not exist' (it did, in CI and in the browser test)."""
    def slow_update(conn, order_id, amount):
        time.sleep(0.3)  # a slow request: its transaction has begun, its UPDATE comes late
        capstone.update_amount_v1(conn, order_id, amount)

    monkeypatch.setitem(capstone.SHOPS, "v1", capstone.V1._replace(update_amount=slow_update))
    line = check_postgres(REFERENCE, postgres_url())
    assert line.status == PASS, line


def test_an_old_transaction_elsewhere_on_the_server_does_not_fail_a_concurrent_index(tmp_path):
    """CREATE INDEX CONCURRENTLY waits for every older transaction in its database: a learner's other lesson holding
    one open (lesson 15's lock demonstration, say) must not fail a correct revision on lock_timeout."""
    versions = solution(tmp_path / "versions", {"c002_backfill_amount_cents.py": (FILL, CONCURRENT_FILL_INDEX)})
    elsewhere = create_engine(postgres_url(), isolation_level="REPEATABLE READ")
    with elsewhere.connect() as conn:
        conn.execute(text("SELECT count(*) FROM pg_class"))  # a snapshot, held until the block ends
        line = check_postgres(versions, postgres_url())
    elsewhere.dispose()
    assert line.status == PASS, line


HEAD = ("order_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, country TEXT NOT NULL, ordered_at TEXT NOT NULL, "
        "shipped_at TEXT, refunded_at TEXT, amount_cents INTEGER NOT NULL CHECK (amount_cents > 0)")


@pytest.mark.parametrize("table, words", [
    (HEAD, None),
    (HEAD + ", amount REAL", "the database at the head has a column orders.amount (REAL), which the model has not"),
    (HEAD.replace(", refunded_at TEXT", ""), "the model has a column orders.refunded_at (TEXT), the database at the "
                                             "head has not"),
    (HEAD.replace("amount_cents INTEGER", "amount_cents BIGINT"), "column orders.amount_cents is BIGINT in the "
                                                                  "database at the head, INTEGER in the model"),
    (HEAD.replace("amount_cents INTEGER NOT NULL", "amount_cents INTEGER"), "column orders.amount_cents accepts NULL "
                                                                          "in the database at the head, but is NOT "
                                                                          "NULL in the model"),
], ids=["as the model", "a column left", "a column lost", "another type", "NULL accepted"])
def test_the_model_check_names_each_difference_as_alembic_check_finds_it(table, words):
    engine = create_engine("sqlite://")
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE orders ({table})"))
    found = model_differences(engine)
    if words is None:
        assert found == [], found
    else:
        assert len(found) == 1 and found[0].startswith(words), found


COLLEAGUES_REVISION = '''"""A colleague's revision, written on c001 while c002 was written: a comment on the table."""

from alembic import op

revision = "x001"
down_revision = "c001"


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("SET LOCAL lock_timeout = '1s'")
        op.execute("SET LOCAL statement_timeout = '5s'")
        op.execute("COMMENT ON TABLE orders IS 'the shop''s orders'")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("COMMENT ON TABLE orders IS NULL")
'''
MERGE_REVISION = '''"""Merge the two heads (alembic merge heads).

Revision ID: m001
"""

revision = "m001"
down_revision = ("c002", "x001")


def upgrade() -> None:
    """Nothing to do: a merge only joins the two lines."""


def downgrade() -> None:
    """Nothing to undo: a merge only joins the two lines."""
'''


def test_two_heads_joined_by_alembic_merge_pass_every_check(tmp_path):
    """Two developers' branches and their merge (a down_revision that is a tuple): up, and back down, on both
    databases."""
    learner = solution(tmp_path / "versions", {"x001_comment.py": COLLEAGUES_REVISION, "m001_merge.py": MERGE_REVISION,
                                                "c003_contract_amount.py": ('down_revision = "c002"',
                                                                            'down_revision = "m001"')})
    card = grade(learner)
    assert card.statuses() == dict.fromkeys(CHECKS, PASS), repr(card)
    assert card["structure"].hint.startswith("6 revisions, one head"), repr(card)


ENDLESS = {
    "python": "    while True:\n        pass\n",
    "sql": '    op.execute("WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT count(*) FROM r")\n',
}


@pytest.mark.parametrize("loop", ENDLESS)
def test_an_endless_loop_is_stopped_at_its_line_and_the_other_checks_are_not_run(tmp_path, loop):
    """A Python loop is stopped by SIGALRM, a query that never ends by interrupting it: both named at their line."""
    learner = solution(tmp_path / "versions", {"c002_backfill_amount_cents.py": (
        "def upgrade() -> None:\n", "def upgrade() -> None:\n" + ENDLESS[loop])})
    line = line_of("c002_backfill_amount_cents.py", "def upgrade") + 1
    started = time.perf_counter()
    card = grade(learner, time_limit=3)
    assert time.perf_counter() - started < 7.5  # not the 3 + 5 s after which a check's process is killed
    assert card["structure"].status == FAIL
    assert f"still running after 3 s at line {line} of c002_backfill_amount_cents.py" in card["structure"].hint, card
    assert [line.status for line in card.lines[1:]] == [NOT_RUN] * (len(CHECKS) - 1), repr(card)


def test_a_loop_on_postgresql_only_is_stopped_once_and_the_card_comes_within_one_time_limit(tmp_path):
    """Only the checks that write PostgreSQL's SQL meet it: squawk (offline) is stopped at the loop's line, and the
    PostgreSQL check, which would meet it again, is not run."""
    learner = solution(tmp_path / "versions", {"c002_backfill_amount_cents.py": (
        "def upgrade() -> None:\n", "def upgrade() -> None:\n    dialect = op.get_context().dialect.name\n"
                                     '    while dialect == "postgresql":\n        pass\n')})
    line = line_of("c002_backfill_amount_cents.py", "def upgrade") + 2
    started = time.perf_counter()
    card = grade(learner, time_limit=3)
    assert time.perf_counter() - started < 3 + 7, repr(card)  # one limit, and the other checks (about 2 s)
    assert card.statuses() == {**dict.fromkeys(CHECKS[:5], PASS), "squawk": FAIL, "postgres": NOT_RUN}, repr(card)
    assert f"still running after 3 s at line {line} of c002_backfill_amount_cents.py" in card["squawk"].hint, card
    assert card["postgres"].hint == "not run: squawk ran out of time (see squawk); fix that first", repr(card)


@pytest.mark.parametrize("folder, words", [("nowhere", "there is no folder"), ("empty", "has no revisions"),
                                           (None, "give the folder of your revisions as a path"),
                                           (42, "not int")])
def test_a_wrong_folder_gets_a_verdict_not_a_traceback(tmp_path, folder, words):
    if isinstance(folder, str):
        (tmp_path / "empty").mkdir()
        folder = tmp_path / folder
    card = grade(folder)
    assert not card
    assert words in card["structure"].hint, repr(card)
    assert "Traceback" not in repr(card)


def instructors_run(folder: Path) -> subprocess.CompletedProcess:
    """``CAPSTONE=folder pytest tests/capstone_check.py``, as docs/instructors.md would have an instructor run it."""
    return subprocess.run([sys.executable, "-m", "pytest", "-n", "0", "-q", "tests/capstone_check.py"],
                          cwd=REPO, env={**os.environ, "CAPSTONE": str(folder)}, capture_output=True, text=True,
                          timeout=300, check=False)


def test_the_instructors_pytest_run_passes_the_reference_and_names_a_wrong_solutions_check(tmp_path):
    done = instructors_run(REFERENCE)
    assert done.returncode == 0 and f"{len(CHECKS)} passed" in done.stdout, done.stdout + done.stderr
    done = instructors_run(solution(tmp_path / "versions", WRONG_SOLUTIONS["truncating cast"][0]))
    assert done.returncode == 1 and f"1 failed, {len(CHECKS) - 1} passed" in done.stdout, done.stdout + done.stderr
    assert "FAILED tests/capstone_check.py::test_capstone[data]" in done.stdout, done.stdout
    assert "57 of 1,000 orders have a wrong amount_cents" in done.stdout, done.stdout
