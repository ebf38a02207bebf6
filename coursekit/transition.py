"""Two versions of the shop on one database while its schema changes: the UI-free layer of the transition stepper.

A :class:`Transition` holds a :class:`~coursekit.migrations.Migrator` (any chain of steps: lesson 07's expand →
migrate → contract, say), the versions of the application, each given as its own three functions (the lesson's
``place_order_v1``, ``read_order_v1``, ``update_amount_v1``...), and the lesson's compatibility check, the ``rule``.
It knows which versions are deployed, and refuses any move that would break one of them: a step, or deploying a
version the schema does not support yet.

"Break" is decided by the lesson's rule alone: every version makes its writes, every version reads them back, in a
transaction that is rolled back (:func:`check` runs it, recording each function's SQL and errors). A step is tried the
same way: applied in a transaction that is rolled back (:meth:`Migrator.rehearse`), the deployed versions checked
there. A refusal names the query that would break, with the SQL it runs and the database's answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import pandas as pd
from sqlalchemy import text

from coursekit.exercises import first_line
from coursekit.migrations import MigrationError, Migrator, recording

NOBODY = "(nobody)"


class ShopVersion(NamedTuple):
    """One version of the shop: its name and its three functions, each taking a connection first."""

    name: str
    place_order: Callable  # (conn, order_id, amount)
    read_order: Callable  # (conn, order_id) -> amount
    update_amount: Callable  # (conn, order_id, amount)


ACTIONS = ("place_order", "read_order", "update_amount")


@dataclass(frozen=True)
class Call:
    """One run of one of a version's functions: the SQL it sent, and what it returned or the error's first line."""

    version: str
    action: str  # place_order, read_order or update_amount
    function: str  # its name in the lesson, e.g. place_order_v1
    order_id: object
    sql: tuple[str, ...]
    result: object = None
    error: str = ""

    @property
    def shown(self):
        """What a table shows for the call: its result, or the error (as lesson 07's ``attempt`` does)."""
        return self.error or self.result

    def query(self) -> str:
        """The statement the call sent last (the one that failed, when it failed), on one line."""
        return " ".join(self.sql[-1].split()) if self.sql else "(no SQL was sent)"


def call(conn, app, action: str, order_id, *arguments) -> Call:
    """Run ``app.<action>(conn, order_id, *arguments)``; an error is kept as its first line, never raised."""
    return _calling(conn, app, action, order_id, arguments)[0]


def _calling(conn, app, action: str, order_id, arguments) -> tuple[Call, Exception | None]:
    """Run one of ``app``'s functions, recording the SQL it sends: the Call, and the exception it raised (or None)."""
    function = getattr(app, action)
    result, error, caught = None, "", None
    with recording(conn) as sent:
        try:
            result = function(conn, order_id, *arguments)
        except Exception as raised:  # kept: which version failed, and how
            caught, error = raised, first_line(getattr(raised, "orig", raised))
    sql = tuple(statement for statement in sent if statement != "BEGIN")  # the transaction's own, not the app's
    return Call(app.name, action, getattr(function, "__name__", action), order_id, sql, result, error), caught


def watched(app, calls: list) -> ShopVersion:
    """``app`` with each function recorded into ``calls`` as it runs; it returns and raises as before."""

    def recorded(action):
        def run(conn, order_id, *arguments):
            made, caught = _calling(conn, app, action, order_id, arguments)
            calls.append(made)
            if caught is not None:
                raise caught
            return made.result

        run.__name__ = getattr(getattr(app, action), "__name__", action)
        return run

    return ShopVersion(app.name, *(recorded(action) for action in ACTIONS))


@dataclass
class Check:
    """A compatibility check's outcome: the rule's table (``frame``) and every function call it made (``calls``).

    The rule is the lesson's (``rule(conn, apps)``, lesson 07's ``compatibility`` on a connection): a table with the
    columns ``written by``, ``read by``, ``order``, ``expected``, ``read`` and ``ok``, one row a read.
    """

    frame: pd.DataFrame
    calls: list[Call] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.frame["ok"].all())

    def cell(self, reader: str, writer: str) -> bool:
        """Whether ``reader`` read right everything ``writer`` wrote (``NOBODY``: the untouched order)."""
        rows = self.frame[(self.frame["read by"] == reader) & (self.frame["written by"] == writer)]
        return bool(len(rows)) and bool(rows["ok"].all())

    def can_write(self, version: str) -> bool:
        """Whether ``version``'s writes (a new order, a changed amount) ran without an error."""
        return not any(made.error for made in self.calls if made.version == version and made.action != "read_order")

    def sql_of(self, version: str) -> dict[str, str]:
        """The SQL each of ``version``'s functions sent during the check, by function name (place, read, update)."""
        made = {call.action: call for call in self.calls if call.version == version}
        return {made[action].function: made[action].query() for action in ACTIONS if action in made}

    def first_failure(self, versions: Iterable[str]) -> tuple[str, str]:
        """The first of ``versions`` that breaks and how, in one sentence (the query, its SQL and why); or ('', '')."""
        versions = set(versions)
        wrong = self.frame[~self.frame["ok"].astype(bool)]
        for made in self.calls:
            if made.version not in versions:
                continue
            if made.error:
                return made.version, (f"shop {made.version}'s {made.function} runs `{made.query()}` and the database "
                                      f"answers: {made.error}")
            if made.action != "read_order":
                continue
            rows = wrong[(wrong["read by"] == made.version) & (wrong["order"] == made.order_id)]
            if len(rows):
                writer, expected, read = rows.iloc[0][["written by", "expected", "read"]]
                source = "before the transition" if writer == NOBODY else f"by shop {writer}"
                return made.version, (f"shop {made.version}'s {made.function} runs `{made.query()}` and reads "
                                      f"{_plain(read)} for order {made.order_id}, where {_plain(expected)} was "
                                      f"written {source}")
        return "", ""


def _plain(value) -> str:
    """A value as a learner reads it: NULL for a missing one (None or NaN), else its repr (numpy's as Python's)."""
    value = value.item() if hasattr(value, "item") else value
    return "NULL" if value is None or (isinstance(value, float) and value != value) else repr(value)


class RuleError(MigrationError):
    """The compatibility check itself failed (not a version of the shop): nothing can be decided until it is fixed."""


def check(conn, rule: Callable, apps: Sequence) -> Check:
    """Run ``rule(conn, apps)`` (the lesson's compatibility check) on ``conn``, recording every call it makes.

    The caller owns the transaction (and rolls it back): the rule's writes are only there to be read back.
    """
    calls: list[Call] = []
    name = getattr(rule, "__name__", "the rule")
    try:
        frame = rule(conn, [watched(app, calls) for app in apps])
        found = Check(frame, calls)
        found.frame["ok"].all()  # the columns the stepper reads are there
        found.frame[["written by", "read by", "order", "expected", "read"]]
    except Exception as error:  # the rule is a learner's cell: say what broke, never a traceback in a widget
        raise RuleError(f"The compatibility check {name}(conn, apps) failed: {first_line(error)}. Fix its cell "
                        "(it returns a table with the columns written by, read by, order, expected, read, ok), run "
                        "it again, then retry.") from error
    return found


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
    """Versions of the shop deployed against one database while a migrator moves it; every move keeps them working.

    ``rule(conn, apps)`` is the lesson's compatibility check on a connection (see :class:`Check`); ``untouched`` is the
    order it expects nobody to write (lesson 07's ``UNTOUCHED``): the panels follow it and refuse to write it.
    """

    def __init__(self, migrator: Migrator, apps: Sequence, rule: Callable, deployed: Iterable[str] | None = None,
                 untouched: str = "ORD-0000003"):
        if not isinstance(migrator, Migrator):
            raise MigrationError(
                f"Transition needs a Migrator (the steps to go through), got {type(migrator).__name__}.")
        names = [getattr(app, "name", None) for app in apps]
        if not names or len(set(names)) != len(names) or not all(isinstance(name, str) for name in names):
            raise MigrationError("Give the versions as ShopVersion(name, place_order, read_order, update_amount), "
                                 f"each with its own name; got names {names!r}.")
        if not callable(rule):
            raise MigrationError(f"rule must be the compatibility check, a function (conn, apps); got {rule!r}.")
        self.migrator = migrator
        self.apps = {app.name: app for app in apps}
        self.rule = rule
        self.deployed: set[str] = set()
        for name in [names[0]] if deployed is None else deployed:
            self.deployed.add(self._known(name))
        self.untouched = untouched
        self.written: list[Written] = [Written(untouched, NOBODY, self._read_untouched(untouched))]

    # --- the rule ---------------------------------------------------------------------------------

    def check_on(self, conn, names: Iterable[str]) -> Check:
        """The rule run on ``conn`` for the versions ``names`` (in the order the versions were given)."""
        names = set(names)
        return check(conn, self.rule, [app for name, app in self.apps.items() if name in names])

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
            except RuleError:
                raise
            except Exception:  # noqa: BLE001 - the step itself fails: the real move below rolls back and says why
                tried = None
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
        if order_id == self.untouched:
            raise MigrationError(f"Order {order_id} is the one the compatibility check expects nobody to write (it "
                                 "checks that old rows keep their amount): pick another order.")
        with self.migrator.engine.begin() as conn:
            if action == "update_amount" and call(conn, self.apps[name], "read_order", order_id).error.startswith(
                    "NoResultFound"):
                raise MigrationError(f"There is no order {order_id!r}: order ids look like ORD-0000001, or copy one "
                                     "from the panel's table.")
            made = call(conn, self.apps[name], action, order_id, amount)
        if not made.error:
            others = [seen for seen in self.written[:-1] if seen.order_id != order_id]
            self.written = [Written(order_id, name, amount), *others[:4], self.written[-1]]
        return made

    def new_order_id(self, name: str) -> str:
        """NEW-V1-1, NEW-V1-2...: the first id of version ``name``'s own that its read does not find in the database."""
        app = self.apps[self._known(name)]
        with self.migrator.engine.connect() as conn:
            for number in range(1, 100_000):
                order_id = f"NEW-{name.upper()}-{number}"
                found = call(conn, app, "read_order", order_id)
                if found.error:  # not found (or this version cannot read at all: its write will say why)
                    return order_id
        raise MigrationError(f"Shop {name} has placed 99,999 orders already: type an order id instead.")

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
