import pytest
import sqlalchemy as sa
from alembic import op

from coursekit.exercises.lesson12 import check_amount_check_revision, check_rename_revision
from tests.conftest import REPO
from tests.test_exercises import solutions
from tests.test_exercises_lesson11 import nothing, revision

LESSON_12 = REPO / "notebooks" / "12-alembic-on-sqlite-and-for-review.ipynb"


def test_lesson_12_solutions_pass_their_checks():
    first, second = solutions(LESSON_12)
    assert check_rename_revision(*revision(first)).ok
    assert check_amount_check_revision(*revision(second)).ok


def rename(old, new):
    def run():
        with op.batch_alter_table("orders") as batch_op:
            batch_op.alter_column(old, new_column_name=new)
    return run


def add_and_drop(new, old):
    def run():
        op.add_column("orders", sa.Column(new, sa.REAL(), nullable=True))
        op.drop_column("orders", old)
    return run


def add_total():
    op.add_column("orders", sa.Column("total", sa.REAL(), nullable=True))


def rename_and_double():
    rename("amount", "total")()
    op.execute("UPDATE orders SET total = total * 2")


@pytest.mark.parametrize(
    "upgrade, downgrade, hint",
    [
        (None, None, "define a function"),
        (nothing, rename("total", "amount"), "no column `total`"),
        (add_total, rename("total", "amount"), "`amount` is still there"),
        (add_and_drop("total", "amount"), add_and_drop("amount", "total"), "drop + add loses them"),
        (rename_and_double, rename("total", "amount"), "not the old amounts"),
        (rename("amount", "total"), nothing, "rename total back to amount"),
        (rename("amount", "total"), add_and_drop("amount", "total"), "rename total back to amount"),
        (rename("amount", "total"), rename("nothing", "amount"), "looked for a column 'nothing'"),
        (rename("price", "total"), rename("total", "amount"), "your upgrade() failed"),
    ],
)
def test_wrong_renames_get_a_hint(upgrade, downgrade, hint):
    result = check_rename_revision(upgrade, downgrade)
    assert not result.ok and hint in result.message, result.message


def add_check(name, rule="amount >= 0"):
    def run():
        with op.batch_alter_table("orders") as batch_op:
            batch_op.create_check_constraint(name, rule)
    return run


def drop_check(name):
    def run():
        with op.batch_alter_table("orders") as batch_op:
            batch_op.drop_constraint(name, type_="check")
    return run


def add_check_without_batch():
    op.create_check_constraint("amount_not_negative", "orders", "amount >= 0")


def drop_check_without_batch():
    op.drop_constraint("amount_not_negative", "orders", type_="check")


def add_check_and_halve_amounts():
    add_check("amount_not_negative")()
    op.execute("UPDATE orders SET amount = amount / 2")


def test_the_short_name_drops_the_check_too():
    assert check_amount_check_revision(add_check("amount_not_negative"), drop_check("amount_not_negative")).ok


@pytest.mark.parametrize(
    "upgrade, downgrade, hint",
    [
        (None, nothing, "define a function `upgrade()`"),
        (add_check_without_batch, drop_check_without_batch, "only in batch mode"),
        (add_check(None), drop_check("amount_not_negative"), "give the constraint one (amount_not_negative)"),
        (add_check("amount_positive"), drop_check("amount_positive"), "no CHECK named ck_orders_amount_not_negative"),
        (add_check("amount_not_negative", "amount > 0"), drop_check("amount_not_negative"), "refuses an amount of 0"),
        (add_check("amount_not_negative", "amount >= -1"), drop_check("amount_not_negative"), "accepts an amount"),
        (add_check_and_halve_amounts, drop_check("amount_not_negative"), "the orders are not as they were"),
        (add_check("amount_not_negative"), drop_check("ck_orders_amount_not_negative"), "put ck_orders_ before a name"),
        (add_check("amount_not_negative"), drop_check_without_batch, "only in batch mode"),
        (add_check("amount_not_negative"), nothing, "after your downgrade the database is not as at head"),
        (lambda: op.drop_table("orders"), nothing, "there is no table `orders`"),
    ],
)
def test_wrong_amount_checks_get_a_hint(upgrade, downgrade, hint):
    result = check_amount_check_revision(upgrade, downgrade)
    assert not result.ok and hint in result.message, result.message
