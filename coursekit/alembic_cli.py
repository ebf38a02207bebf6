"""Lesson 17's scratch Alembic projects: the command line as a team uses it, in a folder of its own.

The lesson runs the real ``alembic`` command (``!alembic ...`` in a cell). These helpers do what a developer does by
hand between two commands, so that the notebook can do it again on every run:

- ``use_this_pythons_alembic``: the ``alembic`` of the kernel's own Python first on ``PATH`` (a kernel started from a
  virtual environment does not always have its ``bin`` there, and ``!alembic`` would not be found);
- ``edit``: one edit of a file, as in an editor (the text to replace must be there, or the new text already);
- ``revision_file``, ``forget_revision``, ``functions_of``, ``fill_in``: find a revision file by its id, remove it
  (so that a cell writing it can run twice), show its ``upgrade()`` and ``downgrade()``, write their bodies;
- ``add_column_to_model``: a column added to ``model.py`` (the application's table), as a developer adds one.

``new_project`` builds a project as lesson 17 does by hand (``alembic init``, then the same edits), for the exercise
checks; ``run_alembic`` runs the command line in a project folder, as CI does, and returns the exit status and output.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shlex
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

from alembic import command
from alembic.config import Config

MODEL_V1 = '''import sqlalchemy as sa

metadata = sa.MetaData(naming_convention={"ix": "ix_%(column_0_label)s", "ck": "ck_%(table_name)s_%(constraint_name)s"})
orders = sa.Table(
    "orders", metadata,
    sa.Column("order_id", sa.Integer, primary_key=True),
    sa.Column("customer", sa.Text, nullable=False),
    sa.Column("amount", sa.REAL, nullable=False),
)
'''
END_OF_COLUMNS = ")\n"  # the last line of the orders table in model.py: new columns go before it
ALEMBIC_TIMEOUT_SECONDS = 120


def use_this_pythons_alembic() -> str:
    """Put the folder of this Python's ``alembic`` script first on ``PATH``, for ``!alembic``; return that folder."""
    folder = str(Path(sys.executable).parent)
    if os.environ.get("PATH", "").split(os.pathsep)[0] != folder:
        os.environ["PATH"] = folder + os.pathsep + os.environ.get("PATH", "")
    return folder


def edit(path: Path | str, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` in the file, once; nothing to do when ``new`` is there already (a second run)."""
    path = Path(path)
    text = path.read_text()
    if old in text:
        path.write_text(text.replace(old, new, 1))
    elif new not in text:
        raise ValueError(f"{path.name} has neither {old!r} nor {new!r}")


def revision_file(project: Path | str, revision: str) -> Path:
    """The file of ``revision`` in the project's ``migrations/versions`` (named ``<id>_<message>.py``)."""
    found = sorted((Path(project) / "migrations" / "versions").glob(f"{revision}_*.py"))
    if len(found) != 1:
        raise LookupError(f"{len(found)} files for revision {revision} in {Path(project).name}/migrations/versions")
    return found[0]


def forget_revision(project: Path | str, revision: str) -> None:
    """Remove the file of ``revision`` if there is one, so that the cell that writes it can run again."""
    for path in (Path(project) / "migrations" / "versions").glob(f"{revision}_*.py"):
        path.unlink()


def functions_of(path: Path | str, start: str = "def upgrade") -> str:
    """A revision file from ``start`` on: its functions, without the header (which holds the date it was made)."""
    text = Path(path).read_text()
    return text[text.index(start):].rstrip() + "\n"


def fill_in(path: Path | str, upgrade: str, downgrade: str) -> None:
    """Write the bodies of an empty revision's ``upgrade()`` and ``downgrade()`` (each ``pass`` in the template)."""
    for name, body in (("Upgrade", upgrade), ("Downgrade", downgrade)):
        indented = "\n".join("    " + line for line in body.strip().splitlines())
        edit(path, f'    """{name} schema."""\n    pass', f'    """{name} schema."""\n{indented}')


def add_column_to_model(project: Path | str, column: str) -> None:
    """Add ``column`` (Python source, e.g. ``sa.Column("coupon", sa.Text)``) to the orders table in model.py."""
    model = Path(project) / "model.py"
    text = model.read_text()
    if f"    {column},\n" not in text:
        head, _, tail = text.rpartition(END_OF_COLUMNS)
        model.write_text(f"{head}    {column},\n{END_OF_COLUMNS}{tail}")


@contextlib.contextmanager
def keeping_sys_path():
    """Undo what Alembic adds to ``sys.path`` (the project's ``prepend_sys_path``) when a command runs in-process."""
    saved = list(sys.path)
    try:
        yield
    finally:
        sys.path[:] = saved


def new_project(folder: Path | str, model: str = MODEL_V1) -> Path:
    """A project as lesson 17 makes one: ``alembic init migrations`` in ``folder``, the same four edits, the model."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = Config(str(folder / "alembic.ini"))
    with keeping_sys_path(), contextlib.redirect_stdout(io.StringIO()):  # "Creating directory ...": shown once
        command.init(config, str(folder / "migrations"))
    ini = folder / "alembic.ini"
    edit(ini, "sqlalchemy.url = driver://user:pass@localhost/dbname", "sqlalchemy.url = sqlite:///%(here)s/dev.db")
    edit(ini, "prepend_sys_path = .", "prepend_sys_path = %(here)s")
    edit(ini, "[logger_alembic]\nlevel = INFO", "[logger_alembic]\nlevel = WARNING")
    edit(folder / "migrations" / "env.py", "target_metadata = None",
         "from model import metadata\ntarget_metadata = metadata")
    (folder / "model.py").write_text(model)
    return folder


def add_revision(project: Path | str, revision: str, message: str, upgrade: str, downgrade: str,
                 head: str = "head") -> Path:
    """A revision as ``alembic revision -m message --rev-id revision --head head`` writes it (``--splice`` when
    ``head`` is a revision: a new branch from it), its functions filled in."""
    config = Config(str(Path(project) / "alembic.ini"))
    with keeping_sys_path(), contextlib.redirect_stdout(io.StringIO()):  # "Generating <path> ... done"
        command.revision(config, message=message, rev_id=revision, head=head, splice=head != "head")
    path = revision_file(project, revision)
    fill_in(path, upgrade, downgrade)
    return path


def run_alembic(project: Path | str, arguments: str | list[str]) -> tuple[int, str]:
    """Run ``alembic <arguments>`` in the project's folder, as CI runs it: the exit status, and what it printed."""
    return run_alembic_steps([(project, [arguments])])[0][0]


def run_alembic_steps(jobs: list[tuple[Path | str, list[str | list[str]]]]) -> list[list[tuple[int, str]]]:
    """For each ``(project, steps)``, run the steps (``alembic`` commands, without the word alembic) in the project's
    folder until one fails, as a CI job does; per job, each step's exit status and output.

    All jobs run in one new Python process, by ``alembic.config.main``, the function the ``alembic`` script calls:
    one start-up of Python and SQLAlchemy instead of one per command, and nothing of it in the caller's process."""
    plan = [[str(project), [shlex.split(step) if isinstance(step, str) else list(step) for step in steps]]
            for project, steps in jobs]
    environment = {name: value for name, value in os.environ.items() if name != "DATABASE_URL"}
    done = subprocess.run([sys.executable, "-m", "coursekit.alembic_cli"], input=json.dumps(plan), env=environment,
                          capture_output=True, text=True, timeout=ALEMBIC_TIMEOUT_SECONDS)
    if done.returncode != 0:
        raise RuntimeError(f"the alembic runner failed: {done.stderr[-2000:]}")
    return [[(status, output) for status, output in job] for job in json.loads(done.stdout)]


def _run_one(argv: list[str]) -> tuple[int, str]:
    """``alembic <argv>`` in this process, in the current folder: its exit status (255 for Alembic's -1, as a shell
    shows it) and what it wrote. The output is caught at the file descriptors, as a terminal would get it: Alembic's
    Config writes to the ``sys.stdout`` it found when it was imported, and its log to ``sys.stderr``."""
    from alembic.config import main

    with tempfile.TemporaryFile(mode="w+") as captured:
        saved = os.dup(1), os.dup(2)
        os.dup2(captured.fileno(), 1)
        os.dup2(captured.fileno(), 2)
        try:
            main(argv=argv, prog="alembic")
            status = 0
        except SystemExit as leaving:
            code = leaving.code
            status = (code % 256) if isinstance(code, int) else (0 if code is None else 1)
            if isinstance(code, str):
                print(code, file=sys.stderr)
        except Exception:  # an error Alembic itself does not catch (a broken revision file): a traceback, status 1
            traceback.print_exc()
            status = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
        captured.seek(0)
        return status, captured.read()


def _runner() -> None:
    """``python -m coursekit.alembic_cli``: the jobs of ``run_alembic_steps`` (JSON on stdin), results on stdout."""
    plan = json.loads(sys.stdin.read())
    sys.stdout.reconfigure(line_buffering=True)  # the output of a step in the order it was written
    original_path, results = list(sys.path), []
    for project, steps in plan:
        os.chdir(project)
        job = []
        for argv in steps:
            sys.path[:] = original_path  # each command adds the project to sys.path, and imports its model.py afresh
            sys.modules.pop("model", None)
            status, output = _run_one(argv)
            job.append((status, output))
            if status != 0:
                break
        results.append(job)
    sys.stdout.write(json.dumps(results))


if __name__ == "__main__":
    _runner()
