"""The capstone's bench: what the last lesson needs that is not the lesson itself.

- :func:`make_workspace` makes the learner's own Alembic folder, ``capstone/`` next to the running notebook (the
  kernel's folder: ``notebooks/capstone/`` for the course's copy; ``alembic.ini``, ``env.py``, ``script.py.mako``,
  ``versions/``); it adds what is missing and never overwrites a file. Paths are shown relative to that folder.
- The workspace's ``env.py`` calls :func:`run_workspace_env`: ``alembic revision`` there refuses to create a revision
  that exists already (same id, or same message), so running a cell twice keeps one head and the learner's edits.
- :func:`workspace_config` is that folder's Alembic ``Config`` for the Python API (``command.revision(config, ...)``).
- :func:`chain_table` lists the learner's revisions; :func:`copy_reference` copies the reference solution into a
  folder only when it holds no revision (it refuses, and says how, otherwise).
- :func:`play` puts a chain of Alembic revisions into the two-version stepper (lesson 08's
  :class:`~coursekit.transition_stepper.TransitionStepper`) with the capstone's shop v1 and v2
  (:data:`coursekit.capstone.V1`, :data:`~coursekit.capstone.V2`): each revision is one step, upgraded and downgraded
  by Alembic itself on the stepper's database. A chain that does not load gets a sentence naming the file and line.

The grader is :func:`coursekit.capstone.grade`; this module only prepares and plays.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pandas as pd
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.exc import DBAPIError

from coursekit.alembic_setup import MIGRATIONS_DIR
from coursekit.capstone import REFERENCE, V1, V2, config_for, empty_body, euros_to_cents, load_error, orders_database
from coursekit.dataset import read_orders_csv
from coursekit.exercises import explain_error
from coursekit.migrations import MigrationError, Migrator, Step
from coursekit.transition import ShopVersion, Transition
from coursekit.transition_stepper import TransitionStepper

# Relative: found next to the running notebook (the kernel's working folder), wherever the lesson was copied, never
# in the course's checkout unless the lesson runs there.
WORKSPACE = Path("capstone")

WORKSPACE_INI = """\
# The capstone's Alembic settings (made by coursekit.capstone_lab.make_workspace; yours, never overwritten).
# From the lesson's folder (the one holding capstone/):  alembic -c capstone/alembic.ini revision -m "..." --rev-id c001
[alembic]
script_location = %(here)s
path_separator = os
# env.py runs for `alembic revision` too: a revision that exists already (same id or message) is not made again.
revision_environment = true

# Logging for the command line (the course's env.py reads it for upgrade, current...), as in migrations/alembic.ini.
[loggers]
keys = root,sqlalchemy,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console
qualname =

[logger_sqlalchemy]
level = WARNING
handlers =
qualname = sqlalchemy.engine

[logger_alembic]
level = INFO
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
"""

WORKSPACE_ENV = '''\
"""The capstone workspace's Alembic environment (made by coursekit.capstone_lab; see run_workspace_env there)."""

from coursekit.capstone_lab import run_workspace_env

run_workspace_env()
'''


class Said(str):
    """A sentence for the learner: shown as it reads in a notebook (no quotes), and still a str in tests."""

    def __repr__(self) -> str:
        return str(self)


def shown(path) -> str:
    """``path`` as the running notebook's folder sees it (``capstone/versions``), or its name outside: no machine
    paths. That folder is the working folder of the kernel, and of a cell's ``!alembic``."""
    path = Path(path).resolve()
    try:
        return path.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.name


def put_alembic_on_path() -> None:
    """Let ``!alembic`` in a cell find this Python's Alembic (the course's .venv, even when it is not activated)."""
    scripts = str(Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")


# --- the workspace ------------------------------------------------------------------------------------------------

def make_workspace(folder=WORKSPACE) -> list[str]:
    """Make ``folder`` an Alembic folder of its own: what is missing is made, nothing is overwritten.

    Returns the parts it made (empty when everything was there already)."""
    folder = Path(folder)
    made = []
    (folder / "versions").mkdir(parents=True, exist_ok=True)
    for name, content in (("alembic.ini", WORKSPACE_INI), ("env.py", WORKSPACE_ENV),
                          ("script.py.mako", (MIGRATIONS_DIR / "script.py.mako").read_text(encoding="utf-8"))):
        target = folder / name
        if not target.exists():
            _write_new(target, content)
            made.append(name)
    return made


def _write_new(target: Path, content: str) -> None:
    """Write ``target`` whole or not at all (a reader never sees half a file); never replaces an existing one."""
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    partial.write_text(content, encoding="utf-8")
    try:
        os.link(partial, target)  # fails if target exists: a file written meanwhile is kept
    except FileExistsError:
        pass
    finally:
        partial.unlink()


def workspace_config(folder=WORKSPACE) -> Config:
    """The workspace's ``alembic.ini`` as a Config for the Python API, quiet like ``alembic -q`` (Alembic's own
    "Generating <path>" line names a full path on your machine; the workspace's env.py says what it made)."""
    import argparse

    return Config(str(Path(folder) / "alembic.ini"), cmd_opts=argparse.Namespace(quiet=True))


def existing_revision(versions, rev_id: str | None, message: str | None):
    """The revision in ``versions`` with id ``rev_id`` or the message ``message`` (its docstring's first line)."""
    wanted = (message or "").strip().lower()
    for script in ScriptDirectory(str(MIGRATIONS_DIR), version_locations=[str(versions)]).walk_revisions():
        doc = (script.doc or "").strip().lower()
        if script.revision == rev_id or (wanted and doc == wanted):
            return script
    return None


def one_revision_per_step(context, revision, directives) -> None:
    """Alembic's hook before a revision file is written: none is written when the revision exists already."""
    versions = Path(context.script.dir) / "versions"
    for directive in list(directives):
        try:
            found = existing_revision(versions, directive.rev_id, directive.message)
        except Exception as error:  # noqa: BLE001 - a revision of the learner's that does not load: say which
            directives.remove(directive)
            print(f"{directive.rev_id} was not created: {not_loaded(error, versions)} Fix that file first.")
            continue
        if found is not None:
            directives.remove(directive)
            print(f"{found.revision} exists already ({shown(found.path)}): nothing was created, and your file is as "
                  "you left it. A new step needs a new message and a new --rev-id.")
        else:
            print(f"created {directive.rev_id} ({directive.message}) in {shown(versions)}/")


def run_workspace_env() -> None:
    """The workspace's env.py. ``alembic revision`` runs it (``revision_environment = true``): it needs no database,
    so it gets an empty one in memory, and the hook above. Any other command (upgrade, current...) runs the course's
    own env.py, which migrates only a database you name (``DATABASE_URL``) and refuses otherwise."""
    from alembic import context

    if "revision_context" not in context._proxy.context_opts:  # noqa: SLF001 - how Alembic tells a revision apart
        import runpy

        runpy.run_path(str(MIGRATIONS_DIR / "env.py"))
        return
    engine = create_engine("sqlite://")
    with engine.connect() as connection:
        context.configure(connection=connection, process_revision_directives=one_revision_per_step)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


# --- looking at a chain --------------------------------------------------------------------------------------------

def _functions_state(path: Path) -> str:
    import ast

    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except SyntaxError as error:
        return f"syntax error, line {error.lineno}"
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    return ", ".join(f"{name}(): {'to write' if name in functions and empty_body(functions[name]) else 'written'}"
                     if name in functions else f"no {name}()" for name in ("upgrade", "downgrade"))


def chain_table(versions=WORKSPACE / "versions") -> pd.DataFrame | Said:
    """The revisions in ``versions``, first to last: id, the one before, file, message, and what is still ``pass``."""
    try:
        scripts = list(reversed(list(ScriptDirectory(str(MIGRATIONS_DIR),
                                                     version_locations=[str(versions)]).walk_revisions())))
    except Exception as error:  # noqa: BLE001 - a learner's file that does not load is a sentence
        return Said(not_loaded(error, Path(versions)))
    return pd.DataFrame(
        [(script.revision, script.down_revision or "(base)", shown(script.path), (script.doc or "").strip(),
          _functions_state(Path(script.path))) for script in scripts],
        columns=["revision", "after", "file", "message", "functions"])


def copy_reference(folder=WORKSPACE / "versions") -> Said:
    """Copy the reference revisions into ``folder``, only if it holds no revision: your files are never replaced."""
    folder = Path(folder)
    theirs = sorted(path.name for path in folder.glob("*.py")) if folder.is_dir() else []
    if theirs:
        next_to_it = folder.parent.resolve() != Path.cwd().resolve()
        elsewhere = f"{shown(folder.parent)}/reference" if next_to_it else "reference"
        return Said(f"Refused: {shown(folder)} holds revisions ({', '.join(theirs)}), and nothing was copied. To "
                    f"compare, copy the reference into a folder of its own: copy_reference('{elsewhere}'); to start "
                    f"again from it, rename {shown(folder)} first (your files stay there), then copy.")
    folder.mkdir(parents=True, exist_ok=True)
    copied = []
    for source in sorted(REFERENCE.glob("*.py")):
        _write_new(folder / source.name, source.read_text(encoding="utf-8"))
        copied.append(source.name)
    return Said(f"Copied the reference into {shown(folder)}: {', '.join(copied)}.")


# --- the two-version stepper on a chain of Alembic revisions --------------------------------------------------------

def _in_euros(shop) -> ShopVersion:
    """A shop as the stepper's panels use it: every amount in euros (shop v2's cents divided by 100 to be shown, and
    an amount typed in euros written by v2 as its cents), so that each panel can compare what it reads with what was
    written. The SQL each version sends is its own, unchanged."""
    if shop.name == "v1":
        return ShopVersion("v1", shop.place_order, shop.read_order, shop.update_amount)

    def place_order_v2(conn, order_id, euros):
        shop.place_order(conn, order_id, euros_to_cents(euros))

    def read_order_v2(conn, order_id):
        cents = shop.read_order(conn, order_id)
        return None if cents is None else cents / 100

    def update_amount_v2(conn, order_id, euros):
        shop.update_amount(conn, order_id, euros_to_cents(euros))

    return ShopVersion("v2", place_order_v2, read_order_v2, update_amount_v2)


SHOPS_IN_EUROS = (_in_euros(V1), _in_euros(V2))
WRITES_IN_EUROS = {"v1": ("NEW-BY-V1", 11.11, "ORD-0000001", 33.33), "v2": ("NEW-BY-V2", 22.22, "ORD-0000002", 44.44)}
UNTOUCHED = "ORD-0000003"


def money_rule(conn, apps) -> pd.DataFrame:
    """Lesson 07's compatibility check for the money shop: each version writes, every version reads every write and
    an order nobody wrote; right means the amount read (in euros) is the amount written."""
    written = {}
    for writer in apps:
        new_id, new_amount, old_id, changed = WRITES_IN_EUROS[writer.name]
        for action, order_id, amount in ((writer.place_order, new_id, new_amount),
                                         (writer.update_amount, old_id, changed)):
            try:
                action(conn, order_id, amount)
            except Exception:  # noqa: BLE001, S112 - the recorded call says which version failed, and how
                continue
            written[order_id] = (writer.name, amount)
    original = {row[0]: row[4] for row in read_orders_csv()}
    written[UNTOUCHED] = ("(nobody)", original[UNTOUCHED])
    rows = []
    for order_id, (by, amount) in written.items():
        for reader in apps:
            try:
                read = reader.read_order(conn, order_id)
            except Exception as error:  # noqa: BLE001 - shown in the table
                read = f"{type(error).__name__}"
            rows.append((by, reader.name, order_id, amount, read))
    frame = pd.DataFrame(rows, columns=["written by", "read by", "order", "expected", "read"])
    return frame.assign(ok=[isinstance(read, float) and read == expected
                            for read, expected in zip(frame["read"], frame["expected"], strict=True)])


class NotAChain(ValueError):
    """The folder holds no single line of revisions for the stepper to play (none, or several heads)."""


def phase_of(script) -> str:
    """A step's short name from its message: "expand: add amount_cents" → "expand"."""
    words = re.split(r"[:,;.(]", (script.doc or "").strip(), maxsplit=1)[0].strip().lower()
    return words[:24] or "(no message)"


def alembic_on(conn, versions: Path, action: str, target: str) -> None:
    """``alembic upgrade`` or ``downgrade`` to ``target`` on ``conn``. The database's own errors are the migrator's to
    word (rolled back, the database's answer); any other says which file and line, as the grader does."""
    try:
        getattr(command, action)(config_for(versions, conn), target)
    except DBAPIError:
        raise
    except Exception as error:  # noqa: BLE001 - the learner's revision: a sentence, not a traceback
        cause = not_loaded(error, versions) if isinstance(error, (SyntaxError, KeyError)) else explain_error(error)
        raise MigrationError(f"The {action} to {target} failed and was rolled back, nothing changed: {cause} "
                             "Fix the file, save it, and click again.") from error


def not_loaded(error: BaseException, versions: Path) -> str:
    """Why the chain does not load, with the file and line (the grader's words; a syntax error in the stepper's)."""
    if isinstance(error, SyntaxError):
        return (f"{Path(error.filename or '?').name}, line {error.lineno}: a syntax error ({error.msg}): "
                f"`{(error.text or '').strip()}`.")
    return load_error(error, versions)


def revision_steps(versions) -> list[Step]:
    """One stepper step per revision of the chain in ``versions``: Alembic upgrades to it, or downgrades to the one
    before, on the step's own connection and transaction (so a failing revision changes nothing)."""
    versions = Path(versions)
    found = ScriptDirectory(str(MIGRATIONS_DIR), version_locations=[str(versions)])
    scripts = list(reversed(list(found.walk_revisions())))
    if not scripts:
        raise NotAChain(f"{shown(versions)} holds no revision: create them with `alembic revision -m \"...\"`.")
    heads = found.get_heads()
    if len(heads) != 1:
        raise NotAChain(f"{len(heads)} heads ({', '.join(sorted(heads))}): the stepper plays one line of revisions. "
                         "Each revision's down_revision must be the one before it.")
    steps = []
    for script in scripts:
        before = script.down_revision or "base"

        def upgrade(conn, revision=script.revision):
            alembic_on(conn, versions, "upgrade", revision)

        def downgrade(conn, revision=before):
            alembic_on(conn, versions, "downgrade", revision)

        steps.append(Step(f"{script.revision} {phase_of(script)}", (upgrade,), (downgrade,)))
    return steps


def transition(versions, deployed=("v1",)) -> Transition:
    """The 1,000 orders in memory (``amount REAL``), the chain in ``versions`` as steps, shop v1 and v2 beside it."""
    steps = revision_steps(versions)
    return Transition(Migrator(orders_database(), steps), SHOPS_IN_EUROS, rule=money_rule, deployed=deployed)


def play(versions=WORKSPACE / "versions") -> TransitionStepper | Said:
    """The two-version stepper on the chain in ``versions``; a chain that does not load gets a sentence saying which
    file and line, and what to do, instead of a traceback."""
    try:
        return TransitionStepper(transition(versions))
    except Exception as error:  # noqa: BLE001 - a learner's revision that does not load is a verdict, not a crash
        if isinstance(error, NotAChain):  # said in words already
            return Said(f"Not played: {error}")
        return Said(f"Not played: {not_loaded(error, Path(versions))} Fix it, save, and run this cell again.")
