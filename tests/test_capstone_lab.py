"""The capstone's bench (coursekit/capstone_lab.py), as the last lesson uses it: the learner's workspace is made once
and never overwritten; `alembic revision` (command line and Python) makes a step once, however often the cell runs; the
reference is copied only into a folder without revisions; a chain of Alembic revisions plays in the two-version stepper
with the capstone's shop v1 and v2, whose reads and writes at every phase are checked here against the phases' table
of the lesson (not against the code under test); a revision that does not load is a sentence, never a traceback."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from coursekit import capstone_lab as lab
from coursekit.alembic_setup import MIGRATIONS_DIR
from coursekit.capstone import REFERENCE
from coursekit.transition_stepper import TransitionStepper
from tests.test_transition_stepper import matrix_row, panel_reads

ALEMBIC = str(Path(sys.executable).parent / "alembic")
REFERENCE_FILES = sorted(path.name for path in REFERENCE.glob("*.py"))


def files_of(folder: Path) -> dict:
    return {path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file() and "__pycache__" not in path.parts}


def scripts_in(versions: Path) -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS_DIR), version_locations=[str(versions)])


def alembic(folder: Path, *arguments) -> subprocess.CompletedProcess:
    """The command line, as a cell's `!alembic -q -c capstone/alembic.ini ...` runs it (no DATABASE_URL set)."""
    environment = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    return subprocess.run([ALEMBIC, "-q", "-c", str(folder / "alembic.ini"), *arguments], cwd=folder.parent,
                          capture_output=True, text=True, env=environment, timeout=120, check=False)


@pytest.fixture
def workspace(tmp_path):
    folder = tmp_path / "capstone"
    lab.make_workspace(folder)
    return folder


def test_the_workspace_is_made_once_and_a_learners_files_are_never_overwritten(tmp_path):
    folder = tmp_path / "capstone"
    assert sorted(lab.make_workspace(folder)) == ["alembic.ini", "env.py", "script.py.mako"]
    assert (folder / "versions").is_dir()
    ini = folder / "alembic.ini"
    ini.write_text(ini.read_text() + "# my own setting\n")
    (folder / "versions" / "mine.py").write_text("# my revision\n")
    before = files_of(folder)
    assert lab.make_workspace(folder) == []
    assert files_of(folder) == before
    (folder / "env.py").unlink()
    assert lab.make_workspace(folder) == ["env.py"], "a missing part is made again"
    assert files_of(folder) == before
    assert not [path for path in folder.rglob("*") if "partial" in path.name]


def test_a_revision_made_twice_on_the_command_line_is_made_once_and_keeps_the_learners_edits(workspace):
    first = alembic(workspace, "revision", "-m", "expand: add amount_cents", "--rev-id", "c001")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "created c001 (expand: add amount_cents) in capstone/versions/", "as the lesson says"
    written = workspace / "versions" / "c001_expand_add_amount_cents.py"
    written.write_text(written.read_text().replace("def upgrade() -> None:\n    pass",
                                                   "def upgrade() -> None:\n    op.execute('SELECT 1')"))
    edited = files_of(workspace)
    for again in (("-m", "expand: add amount_cents", "--rev-id", "c001"),  # the same cell, run again
                  ("-m", "Expand: add amount_cents"),  # the same step without an id: Alembic would make one
                  ("-m", "something else", "--rev-id", "c001")):  # the same id: Alembic would overwrite or clash
        second = alembic(workspace, "revision", *again)
        assert second.returncode == 0, second.stderr
        assert second.stdout.startswith(
            "c001 exists already (capstone/versions/c001_expand_add_amount_cents.py): nothing was created")
        assert files_of(workspace) == edited, again
    assert scripts_in(workspace / "versions").get_heads() == ["c001"]
    assert "/" not in first.stdout.replace("capstone/versions/", ""), "no machine path in what a notebook records"


def test_the_python_api_makes_each_step_once_and_chains_the_next_to_the_head(workspace, capsys):
    config = lab.workspace_config(workspace)
    for _ in range(2):
        for rev_id, message in [("c001", "expand: add amount_cents"), ("c002", "migrate: backfill amount_cents")]:
            command.revision(config, message=message, rev_id=rev_id)
    said = capsys.readouterr().out.splitlines()
    assert said[:2] == ["created c001 (expand: add amount_cents) in versions/",
                        "created c002 (migrate: backfill amount_cents) in versions/"]
    assert [line.split(" ")[:3] for line in said[2:]] == [["c001", "exists", "already"], ["c002", "exists", "already"]]
    found = scripts_in(workspace / "versions")
    assert found.get_heads() == ["c002"] and found.get_revision("c002").down_revision == "c001"
    assert len(list((workspace / "versions").glob("*.py"))) == 2
    table = lab.chain_table(workspace / "versions")
    assert list(table["revision"]) == ["c001", "c002"] and list(table["after"]) == ["(base)", "c001"]
    assert set(table["functions"]) == {"upgrade(): to write, downgrade(): to write"}


def test_the_workspace_is_next_to_the_running_notebook_wherever_the_lesson_was_copied(tmp_path, monkeypatch):
    """The kernel's folder is the notebook's: a copy of the lesson gets its own capstone/, named as the lesson names
    it, and the course's notebooks/capstone/ is not touched."""
    monkeypatch.chdir(tmp_path)
    assert sorted(lab.make_workspace()) == ["alembic.ini", "env.py", "script.py.mako"]
    assert (tmp_path / "capstone" / "versions").is_dir()
    command.revision(lab.workspace_config(), message="expand: add amount_cents", rev_id="c001")
    assert list(lab.chain_table()["file"]) == ["capstone/versions/c001_expand_add_amount_cents.py"]
    refused = lab.copy_reference()
    assert refused.startswith("Refused: capstone/versions holds revisions (c001_expand_add_amount_cents.py)"), refused
    assert "copy_reference('capstone/reference')" in refused
    assert lab.copy_reference("capstone/reference").startswith("Copied the reference into capstone/reference: ")


def test_other_commands_in_the_workspace_need_a_database_named(workspace):
    """Only `revision` runs on a throwaway database; `current` or `upgrade` without DATABASE_URL is refused."""
    for arguments in (("current",), ("upgrade", "head")):
        refused = alembic(workspace, *arguments)
        assert refused.returncode != 0 and "No database named" in refused.stdout + refused.stderr, arguments


def test_the_reference_is_copied_only_into_a_folder_without_revisions(tmp_path):
    target = tmp_path / "capstone" / "versions"
    said = lab.copy_reference(target)
    assert said == f"Copied the reference into versions: {', '.join(REFERENCE_FILES)}."
    assert sorted(files_of(target)) == REFERENCE_FILES
    assert all((target / name).read_bytes() == (REFERENCE / name).read_bytes() for name in REFERENCE_FILES)
    (target / REFERENCE_FILES[0]).write_text("# the learner's own work\n")
    before = files_of(target)
    refused = lab.copy_reference(target)
    assert refused.startswith("Refused: versions holds revisions (") and "nothing was copied" in refused
    assert "copy_reference('capstone/reference')" in refused
    assert files_of(target) == before, "a refusal changes nothing"
    assert repr(refused) == str(refused), "shown in a notebook as a sentence, without quotes"


def test_a_learners_stub_chain_plays_and_nothing_breaks_a_shop(workspace):
    config = lab.workspace_config(workspace)
    command.revision(config, message="expand: add amount_cents", rev_id="c001")
    stepper = lab.play(workspace / "versions")
    assert isinstance(stepper, TransitionStepper)
    assert [step.name for step in stepper.migrator.steps] == ["c001 expand"]
    stepper.toggles[0].value = True
    assert stepper.migrator.current() == 1, stepper.last_message
    stepper.panels["v2"].deployed.value = True
    assert "cannot be deployed at version 1 of 1" in stepper.last_message, "a stub adds no amount_cents"


# The phases' table of the last lesson, as matrix rows (writes, reads v1's, reads v2's, reads old rows) per version.
EXPECTED_MATRIX = {
    0: {"v1": ["green", "green", "-", "green"], "v2": ["red", "red", "-", "red"]},
    1: {"v1": ["green", "green", "green", "green"], "v2": ["green", "green", "green", "red"]},
    2: {"v1": ["green", "green", "green", "green"], "v2": ["green", "green", "green", "green"]},
    3: {"v1": ["red", "-", "red", "red"], "v2": ["green", "-", "green", "green"]},
    4: {"v1": ["red", "-", "red", "red"], "v2": ["green", "-", "green", "green"]},
}


def cents_of(stepper, order_id):
    with stepper.migrator.engine.connect() as conn:
        return conn.execute(text("SELECT amount_cents FROM orders WHERE order_id = :id"), {"id": order_id}).scalar()


def test_the_reference_chain_plays_in_the_stepper_with_both_shops_reading_and_writing_at_every_phase():
    stepper = lab.play(REFERENCE)
    assert isinstance(stepper, TransitionStepper), stepper
    head = len(REFERENCE_FILES)
    assert [step.name for step in stepper.migrator.steps][:3] == ["c001 expand", "c002 migrate", "c003 contract"]
    for name in ("v1", "v2"):
        assert matrix_row(stepper, name) == EXPECTED_MATRIX[0][name], name
    stepper.panels["v2"].deployed.value = True
    assert f"cannot be deployed at version 0 of {head}" in stepper.last_message
    assert "no column named amount_cents" in stepper.last_message

    stepper.toggles[0].value = True  # expand
    assert stepper.migrator.current() == 1, stepper.last_message
    stepper.panels["v1"].amount_box.value = 9.2
    stepper.panels["v1"].place_button.click()
    assert panel_reads(stepper, "v2")[0] == ("NEW-V1-1", "9.2 (shop v1)", "9.2", "green"), "the trigger rounded it"
    assert cents_of(stepper, "NEW-V1-1") == 920, "9.20 is 920 cents, not 919"
    assert panel_reads(stepper, "v2")[-1][2:] == ("NULL", "red"), "an old order: not filled in before c002"
    stepper.panels["v2"].deployed.value = True
    assert "cannot be deployed at version 1" in stepper.last_message and "reads NULL for order" in stepper.last_message
    for name in ("v1", "v2"):
        assert matrix_row(stepper, name) == EXPECTED_MATRIX[1][name], name

    stepper.toggles[1].value = True  # migrate
    stepper.panels["v2"].deployed.value = True
    assert stepper.last_message == "Shop v2 is deployed: running now: v1, v2."
    for name in ("v1", "v2"):
        assert matrix_row(stepper, name) == EXPECTED_MATRIX[2][name], name
    stepper.panels["v2"].amount_box.value = 78.1
    stepper.panels["v2"].place_button.click()
    assert cents_of(stepper, "NEW-V2-1") == 7810
    assert panel_reads(stepper, "v1")[0] == ("NEW-V2-1", "78.1 (shop v2)", "78.1", "green"), "v1 reads v2's order"
    stepper.panels["v1"].order_box.value = "NEW-V2-1"
    stepper.panels["v1"].amount_box.value = 2.51
    stepper.panels["v1"].update_button.click()
    assert cents_of(stepper, "NEW-V2-1") == 251 and panel_reads(stepper, "v2")[0][2:] == ("2.51", "green")

    stepper.toggles[2].value = True  # contract, while v1 runs
    assert "would break shop v1, which is deployed" in stepper.last_message and stepper.migrator.current() == 2
    stepper.panels["v1"].deployed.value = False
    for version in range(3, head + 1):
        stepper.toggles[version - 1].value = True
        assert stepper.migrator.current() == version, stepper.last_message
        for name in ("v1", "v2"):
            assert matrix_row(stepper, name) == EXPECTED_MATRIX[min(version, 4)][name], (version, name)
    columns = {column["name"]: column for column in inspect(stepper.migrator.engine).get_columns("orders")}
    assert "amount" not in columns and not columns["amount_cents"]["nullable"]
    assert all(colour == "green" for *_, colour in panel_reads(stepper, "v2"))

    stepper.reset_button.click()  # v2 still runs: undoing c001 would drop its column
    assert "would break shop v2, which is deployed" in stepper.last_message
    assert stepper.migrator.current() == head
    stepper.panels["v1"].deployed.value = True  # back down to where v1 runs again: c002
    stepper.toggles[2].value = False
    assert stepper.migrator.current() == 2, stepper.last_message
    assert cents_of(stepper, "NEW-V2-1") == 251
    for name in ("v1", "v2"):
        assert matrix_row(stepper, name) == EXPECTED_MATRIX[2][name], name


def broken_copy(tmp_path, name_start, old, new) -> Path:
    folder = tmp_path / "versions"
    lab.copy_reference(folder)
    path = next(folder.glob(f"{name_start}_*.py"))
    source = path.read_text()
    assert source.count(old) == 1
    path.write_text(source.replace(old, new))
    return folder


def test_a_revision_with_a_syntax_error_gets_a_sentence_with_its_file_and_line_not_a_traceback(tmp_path):
    folder = broken_copy(tmp_path, "c002", "def upgrade() -> None:", "def upgrade() -> None")
    said = lab.play(folder)
    assert isinstance(said, str) and said.startswith("Not played: c002_backfill_amount_cents.py, line "), said
    assert "a syntax error (expected ':')" in said and said.endswith("Fix it, save, and run this cell again.")
    assert isinstance(lab.chain_table(folder), str)


def test_a_revision_broken_after_the_stepper_was_made_is_reported_by_the_click(tmp_path):
    folder = tmp_path / "versions"
    lab.copy_reference(folder)
    stepper = lab.play(folder)
    path = next(folder.glob("c002_*.py"))
    path.write_text(path.read_text().replace("def upgrade() -> None:", "def upgrade() -> None"))
    stepper.toggles[0].value = True  # Alembic loads every file of the chain, so c001 cannot run either
    assert stepper.migrator.current() == 0 and not stepper.toggles[0].value
    assert stepper.last_message.startswith(
        "⚠️ The upgrade to c001 failed and was rolled back, nothing changed: c002_backfill_amount_cents.py, line "
    ), stepper.last_message
    assert "a syntax error (expected ':'): `def upgrade() -> None`. Fix the file" in stepper.last_message
    path.write_text(path.read_text().replace("def upgrade() -> None\n", "def upgrade() -> None:\n"))
    stepper.toggles[0].value = True  # fixed and saved: the same stepper goes on
    assert stepper.migrator.current() == 1, stepper.last_message


def test_two_heads_or_an_empty_folder_are_said_not_played(tmp_path):
    folder = broken_copy(tmp_path, "c002", 'down_revision = "c001"', "down_revision = None")
    assert lab.play(folder).startswith("Not played: 2 heads (")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert lab.play(empty) == 'Not played: empty holds no revision: create them with `alembic revision -m "..."`.'


def test_a_new_revision_next_to_a_broken_one_is_not_made_and_the_broken_file_is_named(workspace):
    first = workspace / "versions" / "c001_expand.py"
    first.write_text('"""expand"""\nrevision = "c001"\ndown_revision = None\ndef upgrade(:\n    pass\n')
    said = alembic(workspace, "revision", "-m", "migrate", "--rev-id", "c002")
    assert said.returncode == 0 and "Traceback" not in said.stdout + said.stderr, said.stderr
    assert said.stdout.strip() == ("c002 was not created: c001_expand.py, line 4: a syntax error (invalid syntax): "
                                   "`def upgrade(:`. Fix that file first."), said.stdout
    assert [path.name for path in (workspace / "versions").glob("*.py")] == ["c001_expand.py"]
