"""Two versions of the shop on one database while its schema changes: the UI-free layer of the transition stepper.

A :class:`Transition` holds a :class:`~coursekit.migrations.Migrator` (any chain of steps: lesson 05's expand →
migrate → contract, say) and the versions of the application, each given as its own three functions (the lesson's
``place_order_v1``, ``read_order_v1``, ``update_amount_v1``...). It knows which versions are deployed, and it refuses
any move that would break one of them: a step, or deploying a version the schema does not support yet.

"Break" is decided by one rule, :func:`check` (lesson 05's compatibility check): every version makes its writes (a new
order, a changed amount), then every version reads them all back, plus an order nobody touched, in a transaction that
is rolled back. A step is tried the same way: applied in a transaction that is rolled back
(:meth:`Migrator.rehearse`), the deployed versions checked there. The refusal names the query that would break, with
the SQL it runs and the database's answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import pandas as pd
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from coursekit.exercises import first_line
from coursekit.migrations import MigrationError, Migrator, recording

NOBODY = "(nobody)"
MATRIX_COLUMNS = ["written by", "read by", "order", "expected", "read", "ok"]


class ShopVersion(NamedTuple):
    """One version of the shop: its name and its three functions, each taking a connection first."""

    name: str
    place_order: Callable  # (conn, order_id, amount)
    read_order: Callable  # (conn, order_id) -> amount
    update_amount: Callable  # (conn, order_id, amount)


@dataclass(frozen=True)
class Call:
    """One run of one of a version's functions: the SQL it sent, and what it returned or the error's first line."""

    version: str
    function: str
    sql: tuple[str, ...]
    result: object = None
    error: str = ""
    action: str = ""  # place_order, read_order or update_amount

    @property
    def shown(self):
        """What a table shows for the call: its result, or the error (as lesson 05's ``attempt`` does)."""
        return self.error or self.result

    def query(self) -> str:
        """The statement the call sent last (the one that failed, when it failed), on one line."""
        return " ".join(self.sql[-1].split()) if self.sql else "(no SQL was sent)"


def call(conn, app, action: str, *arguments) -> Call:
    """Run ``app.<action>(conn, *arguments)``; an error is kept as its first line, never raised."""
    function = getattr(app, action)
    with recording(conn) as sent:
        try:
            result, error = function(conn, *arguments), ""
        except Exception as caught:  # shown in the matrix: which version failed, and how
            result, error = None, first_line(getattr(caught, "orig", caught))
    sql = tuple(statement for statement in sent if statement != "BEGIN")  # the transaction's own, not the app's
    return Call(app.name, getattr(function, "__name__", action), sql, result, error, action)


def default_writes(names: Sequence[str]) -> dict:
    """What each version writes in the check: lesson 05's ``WRITES`` for v1 and v2, the same pattern after them."""
    return {name: (f"NEW-BY-{name.upper()}", round(11.11 * (number + 1), 2), f"ORD-{number + 1:07d}",
                   round(33.33 + 11.11 * number, 2))
            for number, name in enumerate(names)}


@dataclass
class Check:
    """The outcome of :func:`check`: lesson 05's table (``frame``) and every function call it made (``calls``)."""

    frame: pd.DataFrame
    calls: list[tuple[Call, tuple]] = field(default_factory=list)  # (the call, its row of the frame or ())

    @property
    def ok(self) -> bool:
        return bool(self.frame["ok"].all())

    def cell(self, reader: str, writer: str) -> bool:
        """Whether ``reader`` read right everything ``writer`` wrote (``NOBODY``: the untouched order)."""
        rows = self.frame[(self.frame["read by"] == reader) & (self.frame["written by"] == writer)]
        return bool(len(rows)) and bool(rows["ok"].all())

    def can_write(self, version: str) -> bool:
        """Whether ``version``'s writes (a new order, a changed amount) ran without an error."""
        return not any(made.error for made, row in self.calls if made.version == version and not row)

    def sql_of(self, version: str) -> dict[str, str]:
        """The SQL each of ``version``'s functions sent during the check, by function name (place, read, update)."""
        made = {call.action: call for call, _ in self.calls if call.version == version}
        return {made[action].function: made[action].query()
                for action in ("place_order", "read_order", "update_amount") if action in made}

    def first_failure(self, versions: Iterable[str]) -> tuple[str, str]:
        """The first of ``versions`` that breaks and how, in one sentence (the query, its SQL and why); or ('', '')."""
        versions = set(versions)
        for made, row in self.calls:
            if made.version not in versions:
                continue
            if made.error:
                return made.version, (f"shop {made.version}'s {made.function} runs `{made.query()}` and the database "
                                      f"answers: {made.error}")
            if row and not row[-1]:
                writer, _, order, expected, read, _ = row
                source = "before the transition" if writer == NOBODY else f"by shop {writer}"
                return made.version, (f"shop {made.version}'s {made.function} runs `{made.query()}` and reads "
                                      f"{read!r} for order {order}, where {expected!r} was written {source}")
        return "", ""


def check(conn, apps: Sequence, writes: dict | None = None, untouched: tuple | None = None) -> Check:
    """Lesson 05's compatibility check on ``conn``, as it is: the caller owns (and rolls back) the transaction.

    Every version in ``apps`` places a new order and changes an old order's amount (``writes[name]`` is
    ``(new_id, new_amount, old_id, changed_amount)``); after each version's writes, every version reads them back.
    Last, every version reads ``untouched = (order_id, amount)``, an order nobody wrote to. A read is ok when it
    equals what was written.
    """
    writes = writes or default_writes([app.name for app in apps])
    rows, calls = [], []
    for writer in apps:
        new_id, new_amount, old_id, changed_amount = writes[writer.name]
        calls.append((call(conn, writer, "place_order", new_id, new_amount), ()))
        calls.append((call(conn, writer, "update_amount", old_id, changed_amount), ()))
        for reader in apps:
            for order_id, expected in ((new_id, new_amount), (old_id, changed_amount)):
                read = call(conn, reader, "read_order", order_id)
                rows.append((writer.name, reader.name, order_id, expected, read.shown, expected == read.shown))
                calls.append((read, rows[-1]))
    if untouched is not None:
        order_id, expected = untouched
        for reader in apps:
            read = call(conn, reader, "read_order", order_id)
            rows.append((NOBODY, reader.name, order_id, expected, read.shown, expected == read.shown))
            calls.append((read, rows[-1]))
    return Check(pd.DataFrame(rows, columns=MATRIX_COLUMNS), calls)


def compatibility(conn, apps: Sequence, writes: dict | None = None, untouched: tuple | None = None) -> pd.DataFrame:
    """:func:`check`'s table: one row a read, with who wrote it, who read it, what was expected and read, and ok."""
    return check(conn, apps, writes, untouched).frame


def sync_code(conn, table: str = "orders") -> list[tuple[str, str]]:
    """The triggers on ``table`` as ``(name, SQL)``, read from the database (sqlite_master, else information_schema)."""
    if conn.dialect.name == "sqlite":
        found = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :table "
                                  "ORDER BY name"), {"table": table})
    else:
        found = conn.execute(text("SELECT trigger_name, action_statement FROM information_schema.triggers "
                                  "WHERE event_object_table = :table ORDER BY trigger_name"), {"table": table})
    return [(name, sql) for name, sql in found]


@dataclass(frozen=True)
class Written:
    """An order the panels follow: who wrote it last and the amount written (``NOBODY``: as the data set had it)."""

    order_id: str
    by: str
    amount: object


class Transition:
    """Versions of the shop deployed against one database while a migrator moves it; every move keeps them working."""

    def __init__(self, migrator: Migrator, apps: Sequence, deployed: Iterable[str] | None = None,
                 writes: dict | None = None, untouched: str = "ORD-0000003"):
        if not isinstance(migrator, Migrator):
            raise MigrationError(
                f"Transition needs a Migrator (the steps to go through), got {type(migrator).__name__}.")
        names = [getattr(app, "name", None) for app in apps]
        if not names or len(set(names)) != len(names) or not all(isinstance(name, str) for name in names):
            raise MigrationError("Give the versions as ShopVersion(name, place_order, read_order, update_amount), "
                                 f"each with its own name; got names {names!r}.")
        self.migrator = migrator
        self.apps = {app.name: app for app in apps}
        self.writes = writes or default_writes(names)
        self.deployed: set[str] = set()
        for name in [names[0]] if deployed is None else deployed:
            self.deployed.add(self._known(name))
        self.written: list[Written] = [Written(untouched, NOBODY, self._read_untouched(untouched))]

    # --- the rule ---------------------------------------------------------------------------------

    @property
    def untouched(self) -> tuple:
        return self.written[-1].order_id, self.written[-1].amount

    def check_on(self, conn, names: Iterable[str]) -> Check:
        """The compatibility check of the versions ``names`` (in the given order of apps) on ``conn``."""
        chosen = [app for name, app in self.apps.items() if name in set(names)]
        return check(conn, chosen, self.writes, self.untouched)

    def matrix(self) -> Check:
        """Every version checked against the database as it is now (rolled back: nothing is kept)."""
        with self.migrator.engine.connect() as conn:
            transaction = conn.begin()
            try:
                return self.check_on(conn, self.apps)
            finally:
                transaction.rollback()

    # --- moves ------------------------------------------------------------------------------------

    def go_to(self, version: int) -> list:
        """Move the database to ``version``, unless that would break a deployed version (then nothing runs)."""
        target = self.migrator.check_version(version)
        now = self.migrator.current()
        if target != now and self.deployed:
            try:
                tried = self.migrator.rehearse(target, lambda conn: self.check_on(conn, self.deployed))
            except DBAPIError:
                tried = None  # the step itself fails: the real move below rolls back and says why
            if tried is not None and not tried.ok:
                broken, how = tried.first_failure(self.deployed)
                raise MigrationError(
                    f"Refused, nothing ran: {self._describe_move(now, target)} would break shop {broken}, which is "
                    f"deployed: {how}. Retire shop {broken} first (once every instance of the shop runs a version "
                    "that does not need this), then try again."
                )
        return self.migrator.go_to(target)

    def _describe_move(self, now: int, target: int) -> str:
        steps = self.migrator.steps
        if target > now:
            numbers = range(now + 1, target + 1)
            return "applying " + ", ".join(f"{number}. {steps[number - 1].name}" for number in numbers)
        return "undoing " + ", ".join(f"{number}. {steps[number - 1].name}" for number in range(now, target, -1))

    def deploy(self, name: str) -> str:
        """Deploy version ``name`` if the schema supports it (and it does not break the versions deployed)."""
        name = self._known(name)
        if name in self.deployed:
            return f"Shop {name} is already deployed; nothing changed."
        with self.migrator.engine.connect() as conn:
            transaction = conn.begin()
            try:
                tried = self.check_on(conn, self.deployed | {name})
            finally:
                transaction.rollback()
        if not tried.ok:
            broken, how = tried.first_failure([name])
            if not broken:  # the newcomer works, but its writes break a version already running
                broken, how = tried.first_failure(self.deployed)
            raise MigrationError(f"Refused: shop {name} cannot be deployed at version {self.migrator.current()} "
                                 f"of {self.migrator.head}: {how}.")
        self.deployed.add(name)
        return f"Shop {name} is deployed: {self._running()}."

    def retire(self, name: str) -> str:
        """Stop version ``name``: always allowed (the database does not need it running)."""
        name = self._known(name)
        if name not in self.deployed:
            return f"Shop {name} is not deployed; nothing changed."
        self.deployed.discard(name)
        if not self.deployed:
            return f"Shop {name} is retired. No version is deployed now: the shop is down."
        return f"Shop {name} is retired: {self._running()}."

    def _running(self) -> str:
        return "running now: " + ", ".join(self.deployed_names())

    def deployed_names(self) -> list[str]:
        return [name for name in self.apps if name in self.deployed]

    # --- the shop at work -------------------------------------------------------------------------

    def place_order(self, name: str, order_id: str, amount) -> Call:
        return self._write(name, "place_order", str(order_id).strip(), amount)

    def update_amount(self, name: str, order_id: str, amount) -> Call:
        return self._write(name, "update_amount", str(order_id).strip(), amount)

    def _write(self, name: str, action: str, order_id: str, amount) -> Call:
        """One write by a deployed version, committed; the order joins the ones the panels read."""
        name = self._known(name)
        if name not in self.deployed:
            raise MigrationError(f"Shop {name} is not deployed: deploy it first (its button above its panel).")
        if not order_id:
            raise MigrationError("Type an order id, e.g. ORD-0000001.")
        with self.migrator.engine.begin() as conn:
            if action == "update_amount" and call(conn, self.apps[name], "read_order", order_id).error.startswith(
                    "NoResultFound"):
                raise MigrationError(f"There is no order {order_id!r}: order ids look like ORD-0000001, or copy one "
                                     "from the panel's table.")
            made = call(conn, self.apps[name], action, order_id, amount)
        if made.error:
            return made
        untouched = self.written[-1]
        if order_id == untouched.order_id:  # no longer untouched: what the panels expect of it is the new amount
            self.written[-1] = Written(order_id, name, amount)
        else:
            others = [seen for seen in self.written[:-1] if seen.order_id != order_id]
            self.written = [Written(order_id, name, amount), *others[:4], untouched]
        return made

    def reads(self, name: str) -> list[tuple[Written, Call]]:
        """What version ``name`` reads now for every order the panels follow (the newest first)."""
        with self.migrator.engine.connect() as conn:
            return [(seen, call(conn, self.apps[name], "read_order", seen.order_id)) for seen in self.written]

    def _known(self, name: str) -> str:
        if name not in self.apps:
            raise MigrationError(f"There is no shop version {name!r}: the versions are {', '.join(self.apps)}.")
        return name

    def _read_untouched(self, order_id: str):
        """The untouched order's amount as read now by the first version that can read it (deployed ones first)."""
        readers = self.deployed_names() + [name for name in self.apps if name not in self.deployed]
        with self.migrator.engine.connect() as conn:
            for name in readers:
                read = call(conn, self.apps[name], "read_order", order_id)
                if not read.error and read.result is not None:
                    return read.result
        return None

    def summary(self) -> str:
        version = self.migrator.current()
        deployed = ", ".join(self.deployed_names()) or "none"
        return f"version {version} of {self.migrator.head}; deployed: {deployed}"
