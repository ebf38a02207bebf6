import pytest
import sqlalchemy as sa
from alembic import op

from coursekit.exercises.lesson11 import check_currency_revision, check_rename_revision
from tests.conftest import REPO
from tests.test_exercises import solutions

LESSON_07 = REPO / "notebooks" / "11-versioned-migrations-with-alembic.ipynb"


def revision(code):
    namespace = {"op": op, "sa": sa}
    exec(code, namespace)
    return namespace["upgrade"], namespace["downgrade"]


def test_lesson_07_solutions_pass_their_checks():
    first, second = solutions(LESSON_07)
    assert check_currency_revision(*revision(first)).ok
    assert check_rename_revision(*revision(second)).ok


def nothing():
    pass


def add_nullable_currency():
    op.add_column("orders", sa.Column("currency", sa.Text(), server_default="EUR"))


def add_usd_currency():
    op.add_column("orders", sa.Column("currency", sa.Text(), nullable=False, server_default="USD"))


def add_currency():
    op.add_column("orders", sa.Column("currency", sa.Text(), nullable=False, server_default="EUR"))


def add_currency_without_default():
    op.add_column("orders", sa.Column("currency", sa.Text(), nullable=False))


def drop_wrong_column():
    op.drop_column("orders", "nothing")


def drop_currency():
    op.drop_column("orders", "currency")


@pytest.mark.parametrize(
    "upgrade, downgrade, hint",
    [
        (None, drop_currency, "define a function `upgrade()`"),
        (add_currency, "drop it", "define a function `downgrade()`"),
        (nothing, drop_currency, "no column `currency`"),
        (add_nullable_currency, drop_currency, "accepts NULL"),
        (add_usd_currency, drop_currency, "use server_default='EUR'"),
        (add_currency_without_default, drop_currency, "A NOT NULL column needs a server_default"),
        (add_currency, drop_wrong_column, "your downgrade() failed"),
        (add_currency, nothing, "not as it was at head"),
        (lambda: op.execute("DELETE FROM orders"), drop_currency, "no column `currency`"),
    ],
)
def test_wrong_currency_revisions_get_a_hint(upgrade, downgrade, hint):
    result = check_currency_revision(upgrade, downgrade)
    assert not result.ok and hint in result.message, result.message


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
