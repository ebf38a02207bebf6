import pytest
import sqlalchemy as sa
from alembic import command, op

from coursekit.exercises.lesson11 import check_bare_status_column, check_currency_revision
from tests.conftest import REPO
from tests.test_exercises import solutions

LESSON_11 = REPO / "notebooks" / "11-versioned-migrations-with-alembic.ipynb"


def revision(code):
    namespace = {"op": op, "sa": sa}
    exec(code, namespace)
    return namespace["upgrade"], namespace["downgrade"]


def test_lesson_11_solutions_pass_their_checks():
    first, second = solutions(LESSON_11)
    assert check_currency_revision(*revision(first)).ok
    namespace = {"command": command}
    exec(second, namespace)
    assert check_bare_status_column(namespace["to_bare_status"]).ok


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


def moves(*steps):
    """A learner's to_bare_status that runs these (command, target) steps in order."""
    def to_bare_status(run_alembic):
        for action, target in steps:
            run_alembic(action, target)
    return to_bare_status


def deletes_an_order_on_the_way(run_alembic):
    run_alembic(command.upgrade, "0002")
    run_alembic(command.downgrade, "0002")
    run_alembic(lambda config: config.attributes["connection"].exec_driver_sql(
        "DELETE FROM orders WHERE rowid = (SELECT min(rowid) FROM orders)"))


@pytest.mark.parametrize(
    "answer, hint",
    [
        (None, "define a function `to_bare_status(run_alembic)`"),
        (moves((command.downgrade, "-3")), "A relative target counts from where the database is"),
        (moves((command.downgrade, "0002")), "At 0001, revision 0002 is above: downgrade only goes down"),
        (moves((command.upgrade, "0002")), "from head, your function left the database at 0005, not 0002. Nothing "
                                           "moved it down"),
        (moves(), "left the database at 0005, not 0002"),
        (moves((command.downgrade, "base"), (command.upgrade, "0002")), "going through base"),
        (deletes_an_order_on_the_way, "its orders changed (199 orders, 200 before)"),
        (moves((command.upgrade, "0001"), (command.downgrade, "0001")), "left the database at 0001, not 0002"),
    ],
)
def test_wrong_moves_to_0002_get_a_hint(answer, hint):
    result = check_bare_status_column(answer)
    assert not result.ok and hint in result.message, result.message


def test_the_refusal_points_at_the_learners_call_not_at_env_py():
    result = check_bare_status_column(moves((command.downgrade, "-3")))
    assert "env.py" not in result.message and "test_exercises_lesson11.py" in result.message, result.message
