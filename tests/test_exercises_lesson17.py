"""Lesson 17's exercise checks: the solutions pass, the wrong answers a learner gives get a hint that names them.

Also the helpers the lesson's cells lean on (coursekit/alembic_cli.py): an edit that can run twice, a revision's
functions filled in, a column added to the model once, and the runner that runs the command line as CI does.
"""

import os
import sys
from pathlib import Path

import pytest
from alembic import command

from coursekit.alembic_cli import (
    add_column_to_model,
    edit,
    fill_in,
    forget_revision,
    functions_of,
    new_project,
    revision_file,
    run_alembic,
    run_alembic_steps,
)
from coursekit.exercises.lesson17 import _two_heads, check_ci_gate, check_merge
from tests.conftest import REPO
from tests.never_crash import row, unrelated
from tests.test_exercises import solutions

LESSON_17 = REPO / "notebooks" / "17-alembic-command-line-and-teamwork.ipynb"


def test_lesson_17_solutions_pass_their_checks():
    first, second = solutions(LESSON_17)
    namespace = {"command": command}
    exec(first, namespace)
    exec(second, namespace)
    verdict = check_merge(namespace["merge_all"])
    assert verdict.ok, verdict.message
    verdict = check_ci_gate(namespace["ci_gate"])
    assert verdict.ok, verdict.message
    assert "fails the drifted one at `alembic check`" in verdict.message
    assert "two heads at `alembic upgrade head`" in verdict.message


# --- Exercise 1: three heads ----------------------------------------------------------------------------------------

def merges(*revisions, upgrade="head", stamp=None):
    def merge_all(config):
        command.merge(config, list(revisions) if len(revisions) > 1 else revisions[0], message="merge")
        if upgrade:
            command.upgrade(config, upgrade)
        if stamp:
            command.stamp(config, stamp)
    return merge_all


def upgrades_heads(config):
    command.upgrade(config, "heads")


def deletes_two_branches(config):
    for revision in ("bob1", "carol1"):
        revision_file_of(config, revision).unlink()
    command.upgrade(config, "head")


def chains_bob_and_carol_onto_alice(config):
    for revision, onto in (("bob1", "alice1"), ("carol1", "bob1")):
        path = revision_file_of(config, revision)
        path.write_text(path.read_text().replace("down_revision: Union[str, Sequence[str], None] = '0001'",
                                                 f"down_revision: Union[str, Sequence[str], None] = '{onto}'"))
    command.upgrade(config, "head")


def revision_file_of(config, revision):
    return next((Path(config.get_main_option("script_location")) / "versions").glob(f"{revision}_*.py"))


def test_naming_the_three_heads_passes_too():
    assert check_merge(merges("alice1", "bob1", "carol1")).ok


@pytest.mark.parametrize(
    "answer, hint",
    [
        (None, "define a function `merge_all(config)`"),
        (merges("alice1", "bob1"), 'command.merge(config, "heads", ...) joins every head'),
        (upgrades_heads, "alembic heads still lists 3 heads (alice1, bob1, carol1)"),
        (merges("heads", upgrade=None), "but the database is at alice1: upgrade it to head after the merge"),
        (merges("heads", upgrade=None, stamp="head"), "stamp only writes the version"),
        (deletes_two_branches, "revision bob1 is gone"),
        (chains_bob_and_carol_onto_alice, "changed the file of revision bob1"),
    ],
)
def test_wrong_merges_get_a_hint(answer, hint):
    verdict = check_merge(answer)
    assert not verdict.ok and hint in verdict.message, verdict.message


def test_a_failed_command_points_at_the_learners_line_not_at_env_py():
    verdict = check_merge(merges("alice1", "bob1"))
    assert "(at line" in verdict.message and "test_exercises_lesson17.py" in verdict.message, verdict.message
    assert "env.py" not in verdict.message


def test_the_check_leaves_no_scratch_path_on_sys_path_and_prints_nothing(capsys):
    before = list(sys.path)
    check_merge(merges("heads"))
    assert sys.path == before and "model" not in sys.modules
    assert capsys.readouterr().out == ""


# --- Exercise 2: the CI gate ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "answer, hint",
    [
        (None, "as a list of commands"),
        ([], "has no command"),
        (["pytest"], "command 1 is `pytest`"),
        (["alembic"], "command 1 is `alembic`"),
        (["alembic check 'unclosed"], "cannot be read as a command line"),
        (["alembic check"], "CI's database starts empty: `alembic upgrade head` before `alembic check`"),
        (["alembic check", "alembic upgrade head"], "Target database is not up to date"),
        (["alembic upgrade head"], "passes a project whose model has a column, status"),
        (["alembic heads"], "passes a project whose model has a column, status"),
        (["alembic upgrade heads", "alembic check"], "passes a project with two heads"),
        (["alembic upgrade 0002", "alembic check"], "Name revisions that exist"),
        (["alembic upgrade head", "alembic edit head"], "opens a revision in an editor"),
    ],
)
def test_wrong_gates_get_a_hint(answer, hint):
    verdict = check_ci_gate(answer)
    assert not verdict.ok and hint in verdict.message, verdict.message


@pytest.mark.parametrize(
    "answer",
    [
        "alembic upgrade head && alembic check",
        ["!alembic upgrade head", "alembic -c alembic.ini check"],
        ("alembic upgrade head", "alembic heads", "alembic check"),
    ],
)
def test_other_forms_of_the_right_gate_pass(answer):
    verdict = check_ci_gate(answer)
    assert verdict.ok, verdict.message


# --- The helpers -----------------------------------------------------------------------------------------------------

@pytest.fixture
def project(tmp_path):
    return new_project(tmp_path / "shop")


def test_an_edit_can_run_twice_and_says_when_it_finds_neither_text(project):
    ini = project / "alembic.ini"
    edit(ini, "sqlalchemy.url = sqlite:///%(here)s/dev.db", "sqlalchemy.url = sqlite:///%(here)s/other.db")
    once = ini.read_text()
    edit(ini, "sqlalchemy.url = sqlite:///%(here)s/dev.db", "sqlalchemy.url = sqlite:///%(here)s/other.db")
    assert ini.read_text() == once and once.count("other.db") == 1
    with pytest.raises(ValueError, match="neither"):
        edit(ini, "no such line", "nor this one")


def test_a_column_is_added_to_the_model_once(project):
    for _ in range(2):
        add_column_to_model(project, 'sa.Column("coupon", sa.Text)')
    model = (project / "model.py").read_text()
    assert model.count('sa.Column("coupon", sa.Text),') == 1 and model.rstrip().endswith(")")


def test_a_revision_written_by_the_command_line_is_filled_in_and_forgotten(project):
    status, output = run_alembic(project, "-q revision -m 'add coupon' --rev-id 0001")
    assert status == 0, output
    fill_in(revision_file(project, "0001"), upgrade='op.add_column("orders", sa.Column("coupon", sa.Text()))',
            downgrade='op.drop_column("orders", "coupon")')
    functions = functions_of(revision_file(project, "0001"))
    assert functions.startswith("def upgrade") and 'op.drop_column("orders", "coupon")' in functions
    assert "pass" not in functions and "Create Date" not in functions
    forget_revision(project, "0001")
    with pytest.raises(LookupError):
        revision_file(project, "0001")


def test_the_runner_reports_exit_statuses_as_a_shell_does_and_stops_at_the_first_failure(project):
    [job] = run_alembic_steps([(project, ["current", "upgrade nowhere", "current"])])
    assert [status for status, _ in job] == [0, 255]
    assert "Can't locate revision identified by 'nowhere'" in job[1][1]


def test_the_runner_ignores_a_database_url_in_the_environment(project, monkeypatch):
    monkeypatch.setitem(os.environ, "DATABASE_URL", "postgresql://nobody@nowhere/none")
    status, output = run_alembic(project, "current")
    assert status == 0, output


# --- What the lesson says autogenerate and alembic check do not see -------------------------------------------------

def test_alembic_check_misses_a_check_constraint_and_a_changed_server_default_unless_told(project):
    status, output = run_alembic(project, "-q revision --autogenerate -m 'create orders' --rev-id 0001")
    assert status == 0, output
    model = project / "model.py"
    edit(model, '    sa.Column("customer", sa.Text, nullable=False),\n',
         '    sa.Column("customer", sa.Text, nullable=False, server_default="anonymous"),\n'
         '    sa.CheckConstraint("amount > 0", name="amount_positive"),\n')
    [job] = run_alembic_steps([(project, ["upgrade head", "check"])])
    assert job[-1][0] == 0 and "No new upgrade operations detected" in job[-1][1], job
    edit(project / "migrations" / "env.py", "connection=connection, target_metadata=target_metadata\n",
         "connection=connection, target_metadata=target_metadata, compare_server_default=True\n")
    [job] = run_alembic_steps([(project, ["check"])])
    assert job[-1][0] == 255 and "modify_default" in job[-1][1], job
    assert "amount_positive" not in job[-1][1], "the CHECK is still not seen"


def test_with_two_heads_a_new_revision_must_say_which_branch_it_continues(tmp_path):
    project = _two_heads(tmp_path / "two-heads")
    [job] = run_alembic_steps([(project, ["upgrade heads", "revision -m next"])])
    assert [status for status, _ in job] == [0, 255] and "Multiple heads are present" in job[-1][1], job


# --- Never-crash rows (collected by tests/test_checkers_never_crash.py) -------------------------------------------

MERGE_HINTS = ["Heads are left to merge", "stamp only", "upgrade it to head"]
NEVER_CRASH = [
    *unrelated(check_merge, "plain", MERGE_HINTS),
    row(check_merge, merges("alice1", "bob1"), ["Multiple head revisions", 'command.merge(config, "heads"'],
        ["stamp only"]),
    row(check_merge, upgrades_heads, ["still lists 3 heads"], ["Heads are left to merge", "stamp"]),
    row(check_merge, merges("heads", upgrade=None, stamp="head"), ["stamp only writes the version"],
        ["Heads are left"]),
    row(check_ci_gate, ["alembic check"], ["Target database is not up to date", "upgrade head` before"],
        ["two heads"]),
    row(check_ci_gate, ["alembic upgrade heads", "alembic check"], ["passes a project with two heads"],
        ["database starts empty"]),
    row(check_ci_gate, ["alembic upgrade head"], ["passes a project whose model has a column"], ["two heads"]),
    row(check_ci_gate, 42, ["as a list of commands"], ["database"], name="not a list"),
]
