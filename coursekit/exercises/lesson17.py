"""Lesson 17's exercise checks (see :mod:`coursekit.exercises` for how checks behave).

Each check builds scratch Alembic projects of its own, as the lesson builds one (``alembic init``, the same edits:
``coursekit.alembic_cli.new_project``), in a temporary folder removed afterwards:

- Exercise 1, ``check_merge``: three developers' branches (alice1, bob1, carol1, each adding a column on 0001) give
  three heads, and the database is Alice's, at alice1. The learner's ``merge_all(config)`` must leave one head and the
  database at it, with every branch's column, and no teammate's revision changed or deleted.
- Exercise 2, ``check_ci_gate``: the learner's CI job, a list of ``alembic`` commands, is run for real (``python -m
  alembic`` in the project's folder, no shell) on three projects, each with an empty database as CI has: one in step
  (it must pass), one whose model has a column no revision adds, one with two heads (it must fail both).
"""

from __future__ import annotations

import contextlib
import io
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from coursekit.alembic_cli import (
    ALEMBIC_TIMEOUT_SECONDS,
    add_column_to_model,
    add_revision,
    keeping_sys_path,
    new_project,
    run_alembic_steps,
)
from coursekit.exercises import Verdict, explain_error

CREATE_ORDERS = """op.create_table(
    "orders",
    sa.Column("order_id", sa.Integer(), nullable=False),
    sa.Column("customer", sa.Text(), nullable=False),
    sa.Column("amount", sa.REAL(), nullable=False),
    sa.PrimaryKeyConstraint("order_id"),
)"""
BRANCHES = {"alice1": "coupon", "bob1": "shipped_at", "carol1": "note"}  # each developer's revision adds a column
MULTIPLE_HEADS = "Multiple head revisions"


def _add_column_revision(project: Path, revision: str, column: str, head: str) -> None:
    add_revision(project, revision, f"add {column}", head=head,
                 upgrade=f'op.add_column("orders", sa.Column("{column}", sa.Text()))',
                 downgrade=f'op.drop_column("orders", "{column}")')
    add_column_to_model(project, f'sa.Column("{column}", sa.Text)')


def _project_at_0001(folder: Path) -> Path:
    """A project whose one revision, 0001, creates orders as model.py declares it (MODEL_V1); no database yet."""
    project = new_project(folder)
    add_revision(project, "0001", "create orders", upgrade=CREATE_ORDERS, downgrade='op.drop_table("orders")')
    return project


def _config(project: Path, stdout) -> Config:
    """A Config for ``project`` built in Python, as lesson 11 built one: no ini file, so env.py leaves the notebook's
    logging alone (``fileConfig`` runs only for a file)."""
    config = Config(stdout=stdout)
    config.set_main_option("script_location", str(project / "migrations"))
    config.set_main_option("sqlalchemy.url", f"sqlite:///{project / 'dev.db'}")
    config.set_main_option("prepend_sys_path", str(project))
    config.set_main_option("path_separator", "os")
    return config


@contextlib.contextmanager
def _alembic_in_this_process():
    """Alembic's sys.path entries undone, its printing kept off the page (it prints paths of the scratch folder), and
    env.py's ``from model import metadata`` made to import this project's model.py, not one imported before."""
    sys.modules.pop("model", None)
    try:
        with keeping_sys_path(), contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        sys.modules.pop("model", None)


def _without_frames_under(error: BaseException, folder: Path) -> BaseException:
    """``error`` with the traceback frames of the scratch project's own files (env.py, revisions) left out, so that
    the learner's line is their call, not a line of env.py."""
    kept = []
    tb = error.__traceback__
    while tb is not None:
        if not tb.tb_frame.f_code.co_filename.startswith(str(folder)):
            kept.append(tb)
        tb = tb.tb_next
    for outer, inner in zip(kept, kept[1:], strict=False):
        outer.tb_next = inner
    if kept:
        kept[-1].tb_next = None
    return error.with_traceback(kept[0] if kept else None)


def _three_heads(folder: Path) -> tuple[Path, dict[str, str]]:
    """0001, then alice1, bob1 and carol1 on it; the database migrated to alice1. Also the revisions' texts."""
    project = _project_at_0001(folder)
    for revision, column in BRANCHES.items():
        _add_column_revision(project, revision, column, head="0001")
    with _alembic_in_this_process():
        command.upgrade(_config(project, io.StringIO()), "alice1")
    return project, _revision_texts(project)


def _revision_texts(project: Path) -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted((project / "migrations" / "versions").glob("*.py"))}


def _database_state(project: Path) -> tuple[list[str], set[str]]:
    """The revisions ``alembic_version`` holds, and the columns of orders."""
    engine = sa.create_engine(f"sqlite:///{project / 'dev.db'}", poolclass=sa.pool.NullPool)
    inspector = sa.inspect(engine)
    columns = {column["name"] for column in inspector.get_columns("orders")} if inspector.has_table("orders") else set()
    versions = []
    if inspector.has_table("alembic_version"):
        with engine.connect() as conn:
            versions = conn.exec_driver_sql("SELECT version_num FROM alembic_version ORDER BY 1").scalars().all()
    return versions, columns


def _teammates_revisions_changed(before: dict[str, str], after: dict[str, str]) -> str | None:
    for name, text in before.items():
        revision = name.split("_", 1)[0]
        if name not in after:
            return (f"revision {revision} is gone: a teammate's revision may already have run somewhere (Alice's "
                    "database is at alice1); keep every one, and join the heads with a merge revision.")
        if after[name] != text:
            return (f"your function changed the file of revision {revision}: rewriting a teammate's revision (its "
                    "down_revision, say) breaks every database that already ran it; add a merge revision instead.")
    return None


def _merge_hint(error: BaseException) -> str:
    if MULTIPLE_HEADS in str(error):
        return ' Heads are left to merge: command.merge(config, "heads", ...) joins every head at once.'
    return ""


def check_merge(merge_all) -> Verdict:
    """Exercise 1: three heads (alice1, bob1, carol1) merged into one, and the database at it with every column."""
    if not callable(merge_all):
        return Verdict(False, "define a function `merge_all(config)` that runs Alembic's commands (command.merge, ...) "
                              "with the config it is given, and run its cell first.")
    with tempfile.TemporaryDirectory(prefix="lesson17-check-") as folder:
        project, before = _three_heads(Path(folder))
        config = _config(project, io.StringIO())
        try:
            with _alembic_in_this_process():
                merge_all(config)
        except Exception as error:  # a learner's wrong command is an answer to explain, not a crash
            error = _without_frames_under(error, project)
            return Verdict(False, f"your function failed: {explain_error(error)}.{_merge_hint(error)}")
        if problem := _teammates_revisions_changed(before, _revision_texts(project)):
            return Verdict(False, problem)
        with _alembic_in_this_process():
            heads = sorted(ScriptDirectory.from_config(_config(project, io.StringIO())).get_heads())
        if len(heads) > 1:
            return Verdict(False, f"alembic heads still lists {len(heads)} heads ({', '.join(heads)}): merge every "
                                  'head; "heads" names them all.')
        versions, columns = _database_state(project)
        missing = [column for column in BRANCHES.values() if column not in columns]
        if versions != heads:
            return Verdict(False, f"one head, {heads[0]}, but the database is at {', '.join(versions) or 'base'}: "
                                  "upgrade it to head after the merge.")
        if missing:
            return Verdict(False, f"the database says it is at {heads[0]}, but orders has no column "
                                  f"{', '.join(missing)}: stamp only writes the version; upgrade runs the revisions.")
    return Verdict(True, f"one head, {heads[0]}, joins alice1, bob1 and carol1; the database is at it with every "
                         "branch's column, and no teammate's revision changed.")


# --- Exercise 2: a CI gate ----------------------------------------------------------------------------------------

MAX_STEPS = 8


def _steps(ci_gate) -> list[str] | str:
    """The commands of the learner's gate, or what is wrong with its form."""
    if isinstance(ci_gate, str):
        ci_gate = [part for line in ci_gate.splitlines() for part in line.split("&&")]
    if not isinstance(ci_gate, list | tuple) or not all(isinstance(step, str) for step in ci_gate):
        return 'give the gate as a list of commands, one string each, e.g. ["alembic current"].'
    steps = [step.strip().removeprefix("!").strip() for step in ci_gate if step.strip()]
    if not steps:
        return "your gate has no command: a job that runs nothing passes everything."
    if len(steps) > MAX_STEPS:
        return f"your gate has {len(steps)} commands: a few alembic commands are enough."
    for number, step in enumerate(steps, 1):
        try:
            words = shlex.split(step)
        except ValueError as error:
            return f"command {number}, `{step}`, cannot be read as a command line: {error}."
        if words[0] != "alembic" or len(words) < 2:
            return f"command {number} is `{step}`: each command of this gate is an alembic command (alembic ...)."
        if "edit" in words[1:]:
            return f"command {number}, `{step}`, opens a revision in an editor: a CI job has no one to type in it."
    return steps


def _in_step(folder: Path) -> Path:
    return _project_at_0001(folder)


def _drifted(folder: Path) -> Path:
    project = _project_at_0001(folder)
    add_column_to_model(project, 'sa.Column("status", sa.Text)')  # in the model, in no revision
    return project


def _two_heads(folder: Path) -> Path:
    project = _project_at_0001(folder)
    for revision, column in list(BRANCHES.items())[:2]:
        _add_column_revision(project, revision, column, head="0001")
    return project


PROJECTS = {  # name: (how to build it, whether the gate must pass it, what it is, in words)
    "in step": (_in_step, True, "a project whose model and revisions agree"),
    "drifted": (_drifted, False, "a project whose model has a column, status, that no revision adds"),
    "two heads": (_two_heads, False, "a project with two heads, alice1 and bob1"),
}


def _last_words(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip() and not line.startswith("Traceback")]
    said = lines[-1].rstrip(".") if lines else "nothing"
    return said if len(said) <= 160 else said[:157] + "..."


def _fails_in_step_hint(failed: str, output: str) -> str:
    if "Target database is not up to date" in output:
        return " CI's database starts empty: `alembic upgrade head` before `alembic check`."
    if "Can't locate revision" in output or "No such revision" in output:
        return " Name revisions that exist, or head."
    return ""


def check_ci_gate(ci_gate) -> Verdict:
    """Exercise 2: the commands pass the project in step and fail the drifted one and the one with two heads."""
    steps = _steps(ci_gate)
    if isinstance(steps, str):
        return Verdict(False, steps)
    outcomes = {}
    with tempfile.TemporaryDirectory(prefix="lesson17-gate-") as folder:
        projects = {name: build(Path(folder) / name.replace(" ", "-")) for name, (build, *_) in PROJECTS.items()}
        try:
            ran = run_alembic_steps([(project, [shlex.split(step)[1:] for step in steps])
                                     for project in projects.values()])
        except subprocess.TimeoutExpired:
            return Verdict(False, f"your gate ran for over {ALEMBIC_TIMEOUT_SECONDS} seconds on three small projects "
                                  "and was stopped: does one of its commands wait for input?")
        for (name, (_, must_pass, described)), job in zip(PROJECTS.items(), ran, strict=True):
            status, output = job[-1]
            failed = steps[len(job) - 1] if status != 0 else None
            if must_pass and failed:
                return Verdict(False, f"your gate fails {described}: `{failed}` said: {_last_words(output)}."
                                      f"{_fails_in_step_hint(failed, output)}")
            if not must_pass and not failed:
                fix = (" `alembic check` after `alembic upgrade head` catches it." if name == "drifted" else
                       " A deploy's `alembic upgrade head` refuses it: run that, not `upgrade heads`.")
                return Verdict(False, f"your gate passes {described}.{fix}")
            outcomes[name] = (failed, _last_words(output))
    return Verdict(True, f"it passes the project in step, fails the drifted one at `{outcomes['drifted'][0]}` and the "
                         f"one with two heads at `{outcomes['two heads'][0]}`.")
