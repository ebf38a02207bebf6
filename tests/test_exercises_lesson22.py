"""Lesson 22's exercise checks and its helpers (coursekit.orm_shop): the solutions pass, wrong answers get a hint that
names them, and what the lesson claims about the ORM and autogenerate holds on the pinned versions."""

import pytest
from alembic import op
from sqlalchemy import REAL, CheckConstraint, Column, MetaData, Table, Text, event, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, deferred, mapped_column, synonym

from coursekit.alembic_setup import run_as_revision
from coursekit.exercises.lesson22 import check_attribute_rename, check_not_null_order
from coursekit.models import ALLOWED_STATUS_CHECK, NAMING_CONVENTION
from coursekit.orm_shop import app_matrix, describe_differences, new_shop, try_the_app
from coursekit.verify import table_fingerprint
from tests.conftest import REPO
from tests.never_crash import row, unrelated
from tests.test_exercises import solutions

LESSON_22 = REPO / "notebooks" / "22-refactoring-with-the-orm.ipynb"
EVERY_COLUMN = ("order_id", "customer_id", "country", "ordered_at", "amount", "shipped_at", "refunded_at", "status")


def new_base():
    class Base(DeclarativeBase):
        metadata = MetaData(naming_convention=NAMING_CONVENTION)
    return Base


def model(amount_attribute="total", amount_column="amount", nullable=False, refunded_at=False, table="orders",
          extra=None):
    """Version 5 of the shop's model, or a wrong one: the attribute and column for the amount, refunded_at or not."""
    namespace = {
        "__tablename__": table,
        "__table_args__": (CheckConstraint(ALLOWED_STATUS_CHECK, name="status"),),
        "__annotations__": {"order_id": Mapped[str], "customer_id": Mapped[str], "country": Mapped[str],
                            "ordered_at": Mapped[str], amount_attribute: Mapped[float],
                            "shipped_at": Mapped[str | None], "status": Mapped[str]},
        "order_id": mapped_column(Text, primary_key=True),
        **{name: mapped_column(Text) for name in ("customer_id", "country", "ordered_at", "shipped_at")},
        amount_attribute: mapped_column(amount_column, REAL, nullable=nullable),
        "status": mapped_column(Text, server_default="pending", index=True),
        **(extra or {}),
    }
    if refunded_at:
        namespace["__annotations__"]["refunded_at"] = Mapped[str | None]
        namespace["refunded_at"] = mapped_column(Text)
    return type("OrderV5", (new_base(),), namespace)


def test_lesson_22_solutions_pass_their_checks():
    first, second = solutions(LESSON_22)
    namespace = {"new_base": new_base, "CheckConstraint": CheckConstraint, "ALLOWED_STATUS_CHECK": ALLOWED_STATUS_CHECK,
                 "Mapped": Mapped, "mapped_column": mapped_column, "Text": Text, "REAL": REAL}
    exec(first, namespace)
    exec(second, namespace)
    assert check_attribute_rename(namespace["OrderV5"]).ok
    assert check_not_null_order(namespace["steps"]).ok


def test_the_placeholders_are_wrong_answers():
    assert not check_attribute_rename(model(amount_column="total")).ok
    assert not check_not_null_order(["b", "a", "c", "d"]).ok


def unmapped_class():
    class Plain:
        total = 1.0
    return Plain


@pytest.mark.parametrize(
    "answer, hint",
    [
        (None, "give a class mapped by SQLAlchemy"),
        ("OrderV5", "you gave str 'OrderV5'"),
        (unmapped_class(), "a class it does not map"),
        (Table("orders", MetaData()), "give a class mapped by SQLAlchemy"),
        (model(amount_column="total"), "maps a column named 'total', which orders does not have"),
        (model(amount_attribute="amount"), "no attribute `total`"),
        (model(extra={"total": synonym("amount")}, amount_attribute="amount"), "still has an attribute `amount`"),
        (model(nullable=True), "modify_nullable orders.amount"),
        (model(refunded_at=True), "add_column orders.refunded_at"),
        (model(table="shop"), "maps the table 'shop'"),
    ],
)
def test_wrong_models_get_a_hint(answer, hint):
    result = check_attribute_rename(answer)
    assert not result.ok and hint in result.message, result.message


def test_an_object_of_the_model_is_told_to_give_the_class():
    result = check_attribute_rename(model()())
    assert not result.ok and "give the class itself" in result.message and " at 0x" not in result.message


def test_the_check_reads_every_total_back():
    assert "200 orders read back" in check_attribute_rename(model()).message


@pytest.mark.parametrize(
    "answer, hint",
    [
        (None, "as a list of letters"), ("abcd", "as a list of letters"), ([1, 2], "in quotes"),
        (["a", "z"], "not among"), (["a", "b", "c"], "exactly once"), (["a", "b", "c", "d", "e"], "leave e out"),
        (["b", "a", "c", "d"], "b before a"), (["a", "c", "b", "d"], "c before b"),
        (["a", "b", "d", "c"], "d before c"), (["d", "a", "b", "c"], "d before c"),
    ],
)
def test_wrong_orders_get_a_hint(answer, hint):
    result = check_not_null_order(answer)
    assert not result.ok and hint in result.message, result.message


def test_letters_may_be_upper_case_or_spaced():
    assert check_not_null_order(["A", " b", "c ", "D"]).ok


def calls_on_insert(function):
    """A version 5 model (right otherwise) whose ``before_insert`` hook calls ``function(connection)``."""
    answer = model()
    event.listen(answer, "before_insert", lambda mapper, connection, target: function(connection))
    return (answer,)


NEVER_CRASH = [
    *unrelated(check_attribute_rename, "conn", ["which orders does not have", "autogenerate finds"],
               place=calls_on_insert),
    row(check_attribute_rename, model(amount_column="total"), ['mapped_column("amount", REAL)'],
        ["your code raised"]),
    row(check_attribute_rename, model(refunded_at=True), ["add_column orders.refunded_at"], ["your code raised"]),
    row(check_not_null_order, ["b", "a", "c", "d"], ["b before a", "no such column: orders.email"], ["leave e out"]),
    row(check_not_null_order, ["e", "b", "c", "d"], ["leave e out"], ["before"]),
]


# --- coursekit.orm_shop: what the lesson's tables of outcomes rest on -------------------------------------------

class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Order(Base):  # version 2 of the lesson: every column at head
    __tablename__ = "orders"
    order_id: Mapped[str] = mapped_column(Text, primary_key=True)
    customer_id: Mapped[str] = mapped_column(Text)
    country: Mapped[str] = mapped_column(Text)
    ordered_at: Mapped[str] = mapped_column(Text)
    amount: Mapped[float] = mapped_column(REAL)
    shipped_at: Mapped[str | None] = mapped_column(Text)
    refunded_at: Mapped[str | None] = deferred(mapped_column(Text))
    status: Mapped[str] = mapped_column(Text, server_default="pending", index=True)


def dropped_shop():
    shop = new_shop(rows=50)
    run_as_revision(shop, lambda: op.drop_column("orders", "refunded_at"))
    return shop


def test_try_the_app_changes_nothing_whether_it_works_or_fails():
    shop = new_shop(rows=50)
    with shop.connect() as conn:
        before = table_fingerprint(conn, "orders", EVERY_COLUMN)
    assert set(try_the_app(Order, shop).values()) == {"ok"}
    assert set(try_the_app(model(), shop).values()) == {"ok"}  # version 5 leaves refunded_at unmapped
    with shop.connect() as conn:
        assert table_fingerprint(conn, "orders", EVERY_COLUMN) == before


def test_a_deferred_column_is_still_inserted():
    outcome = try_the_app(Order, dropped_shop())
    assert outcome["list orders"] == "ok" and outcome["load one"] == "ok"
    assert outcome["insert one"] == "table orders has no column named refunded_at"


def test_app_matrix_has_a_row_per_version_and_database():
    frame = app_matrix({"v2": Order, "v5": model()}, {"head": new_shop(rows=10), "dropped": dropped_shop()})
    assert frame.index.tolist() == [("v2", "head"), ("v2", "dropped"), ("v5", "head"), ("v5", "dropped")]
    assert frame.loc[("v5", "dropped")].tolist() == ["ok"] * 4


def test_a_model_that_is_no_model_gets_words_not_a_crash():
    outcome = try_the_app(unmapped_class(), new_shop(rows=10))
    assert len(outcome) == 4 and "ok" not in outcome.values(), outcome


def test_describe_differences_names_each_kind():
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    shop = new_shop(rows=10)
    drifted = MetaData(naming_convention=NAMING_CONVENTION)
    Table("orders", drifted, Column("order_id", Text, primary_key=True),
          *(Column(name, Text, nullable=False) for name in ("customer_id", "country", "ordered_at")),
          Column("amount", REAL, nullable=True), *(Column(name, Text) for name in ("shipped_at", "refunded_at")))
    Table("payments", drifted, Column("payment_id", Text, primary_key=True))
    with shop.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_server_default": True})
        words = describe_differences(compare_metadata(context, drifted))
    assert sorted(words) == sorted(["add_table payments", "remove_index ix_orders_status",
                                    "remove_column orders.status", "modify_nullable orders.amount: False -> True"])


def test_the_lesson_model_reads_what_the_sql_reads():
    shop = new_shop(rows=30)
    with Session(shop) as session:
        amounts = session.execute(select(Order.order_id, Order.amount).order_by(Order.order_id)).all()
    with shop.connect() as conn:
        assert amounts == conn.exec_driver_sql("SELECT order_id, amount FROM orders ORDER BY order_id").all()
