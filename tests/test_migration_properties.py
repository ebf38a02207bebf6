"""Property-based, stateful tests of the migration engine (hypothesis).

Random sequences of upgrades, downgrades, resets, invalid targets, new orders, changed amounts and
status writes (some refused by the CHECK of step 3) must keep every order's id and amount exactly as
a simple model says, and the schema at every version equal to the one reached by upgrading from scratch.
"""

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from coursekit.dataset import generate_orders, insert_orders
from coursekit.migrations import MigrationError, Migrator
from coursekit.order_steps import ALLOWED_STATUSES, CREATE_ORDERS, ORDER_STEPS
from coursekit.schema import rules_frame, schema_frame

ROWS = 30
HEAD = len(ORDER_STEPS)


def shop():
    engine = create_engine("sqlite:///:memory:")
    with engine.begin() as conn:
        conn.execute(text(CREATE_ORDERS))
        insert_orders(conn, generate_orders(ROWS))
    return engine


def schema_of(engine):
    return schema_frame(engine).to_dict("records"), rules_frame(engine).to_dict("records")


SCHEMAS_BY_DDL = {}


def schema_of_fast(engine):
    """:func:`schema_of`, read again only when the database's DDL text changed (it is a function of that text)."""
    with engine.connect() as conn:
        ddl = tuple(conn.execute(text("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name")).all())
    if ddl not in SCHEMAS_BY_DDL:
        SCHEMAS_BY_DDL[ddl] = schema_of(engine)
    return SCHEMAS_BY_DDL[ddl]


def schemas_from_scratch():
    schemas = {}
    for version in range(HEAD + 1):
        engine = shop()
        Migrator(engine, ORDER_STEPS).upgrade(version)
        schemas[version] = schema_of(engine)
    return schemas


EXPECTED_SCHEMAS = schemas_from_scratch()
order_ids = st.text(min_size=1, max_size=20).map(lambda s: f"NEW-{s}")
statuses = st.one_of(st.sampled_from([*ALLOWED_STATUSES, "lost", "status'; DROP TABLE orders; --"]),
                     st.text(max_size=10))
amounts = st.floats(min_value=0.01, max_value=1e9, allow_nan=False, allow_infinity=False)


class MigrationMachine(RuleBasedStateMachine):
    @initialize()
    def start(self):
        self.engine = shop()
        self.migrator = Migrator(self.engine, ORDER_STEPS)
        self.version = 0
        self.orders = {row[0]: row[4] for row in generate_orders(ROWS)}

    @rule(version=st.integers(0, HEAD))
    def go_to(self, version):
        self.move(version)

    def move(self, version):
        try:
            self.migrator.go_to(version)
            self.version = version
        except MigrationError as error:  # only step 3 may refuse: a status outside the allowed list
            assert "CHECK constraint failed" in str(error) and self.version < 3 <= version
            self.version = 2  # steps 1 and 2 ran, each committed; step 3 was rolled back

    @rule(version=st.integers(0, HEAD))
    def upgrade_or_refuse(self, version):
        if version < self.version:
            with pytest.raises(MigrationError, match="use downgrade"):
                self.migrator.upgrade(version)
        else:
            self.move(version)

    @rule(version=st.integers(0, HEAD))
    def downgrade_or_refuse(self, version):
        if version > self.version:
            with pytest.raises(MigrationError, match="use upgrade"):
                self.migrator.downgrade(version)
        else:
            self.migrator.downgrade(version)  # undoing never meets a CHECK
            self.version = version

    @rule(version=st.one_of(st.integers(-5, -1), st.integers(HEAD + 1, 99), st.floats(), st.text(max_size=5),
                            st.none(), st.booleans()),
          move=st.sampled_from(["go_to", "upgrade", "downgrade"]))
    def invalid_target_is_refused(self, version, move):
        if version is None and move == "upgrade":
            move = "go_to"  # upgrade(None) means "to the newest version", by design
        with pytest.raises(MigrationError, match="There is no version"):
            getattr(self.migrator, move)(version)

    @rule()
    def reset(self):
        self.migrator.reset()
        self.version = 0

    @rule(order_id=order_ids, amount=amounts)
    def insert_order(self, order_id, amount):
        if order_id in self.orders:
            return
        with self.engine.begin() as conn:
            conn.execute(
                text("INSERT INTO orders (order_id, customer_id, country, ordered_at, amount) "
                     "VALUES (:order_id, 'C-1', 'DE', '2025-06-01', :amount)"),
                {"order_id": order_id, "amount": amount},
            )
        self.orders[order_id] = amount

    @rule(data=st.data(), amount=amounts)
    def change_amount(self, data, amount):
        order_id = data.draw(st.sampled_from(sorted(self.orders)))
        with self.engine.begin() as conn:
            conn.execute(text("UPDATE orders SET amount = :amount WHERE order_id = :order_id"),
                         {"amount": amount, "order_id": order_id})
        self.orders[order_id] = amount

    @precondition(lambda self: self.version >= 1)
    @rule(data=st.data(), status=statuses)
    def write_status(self, data, status):
        order_id = data.draw(st.sampled_from(sorted(self.orders)))
        try:
            with self.engine.begin() as conn:
                conn.execute(text("UPDATE orders SET status = :status WHERE order_id = :order_id"),
                             {"status": status, "order_id": order_id})
        except IntegrityError:
            assert self.version >= 3 and status not in ALLOWED_STATUSES

    @invariant()
    def every_order_intact(self):
        with self.engine.connect() as conn:
            stored = dict(conn.execute(text("SELECT order_id, amount FROM orders")).all())
        assert stored == self.orders

    @invariant()
    def schema_matches_the_version(self):
        assert self.migrator.current() == self.version
        assert schema_of_fast(self.engine) == EXPECTED_SCHEMAS[self.version]

    def teardown(self):
        self.engine.dispose()


MigrationMachine.TestCase.settings = settings(
    max_examples=500, stateful_step_count=15, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestMigrationSequences = MigrationMachine.TestCase
