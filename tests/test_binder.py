"""Binder's recipe, replayed: what repo2docker would build from binder/, then lesson 03 in a browser on it,
and lessons 15 and 16 on the course's own PostgreSQL server.

No Docker engine is needed: a fresh clone of the committed repository, a fresh venv with the Python
that binder/runtime.txt names, `pip install -r binder/requirements.txt` from the clone's root (which
installs the course itself through `-e .`), binder/postBuild if present, and JupyterLab started as
Binder starts it (through binder/start if present). Lesson 15 then runs top to bottom in that environment (nbconvert,
as `make record` does), with no POSTGRES_URL: its server lives in the clone's .pgdata/, as it would in Binder's home
folder. Takes about two and a half minutes.
"""

import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from coursekit.pgserver import running_pid
from tests.browser import (
    STEPPER_LESSON,
    copy_without_outputs,
    drive_stepper_lesson,
    find_chromium,
    free_port,
    isolated_jupyter_env,
    lab_command,
    running_lab,
)
from tests.conftest import REPO

pytestmark = pytest.mark.browser


def binder_python() -> str:
    runtime = (REPO / "binder" / "runtime.txt").read_text().strip()
    version = re.fullmatch(r"python-(3\.\d+)", runtime)
    assert version, f"binder/runtime.txt should read like python-3.11, not {runtime!r}"
    python = shutil.which(f"python{version[1]}")
    if python is None:
        pytest.skip(f"binder/runtime.txt asks for Python {version[1]}, which is not installed here")
    return python


def run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def badge_urlpath() -> str:
    readme = (REPO / "README.md").read_text()
    found = re.search(r"mybinder\.org/v2/gh/[^)\s]+\?urlpath=([^)\s]+)", readme)
    assert found, "the README has a Binder badge with a urlpath"
    return found[1].replace("%2F", "/")


def test_binder_recipe_builds_and_serves_the_lessons(tmp_path):
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("no Chromium found: install Debian's package (apt-get install chromium)")
    python = binder_python()
    clone = tmp_path / "repo"
    run(["git", "clone", "--quiet", str(REPO), str(clone)])
    run([python, "-m", "venv", str(tmp_path / "venv")])
    bin_dir = tmp_path / "venv" / "bin"
    env = {**isolated_jupyter_env(tmp_path / "jupyter"), "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    run([str(bin_dir / "pip"), "install", "--quiet", "--disable-pip-version-check", "-r", "binder/requirements.txt"],
        cwd=clone, env=env)
    if (clone / "binder" / "postBuild").exists():
        run(["bash", "binder/postBuild"], cwd=clone, env=env)
    # The course imports from the clone, not from the checkout under test.
    where = run([str(bin_dir / "python"), "-c", "import coursekit; print(coursekit.__file__)"], cwd=tmp_path, env=env)
    assert where.stdout.strip().startswith(str(clone)), where.stdout

    copy_without_outputs(clone / "notebooks" / STEPPER_LESSON, clone / "notebooks" / STEPPER_LESSON)
    port, token = free_port(), secrets.token_hex(16)
    command = lab_command([str(bin_dir / "jupyter")], clone, port, token)
    if (clone / "binder" / "start").exists():
        command = [str(clone / "binder" / "start"), *command]
    with running_lab(command, env, port, token, tmp_path / "lab.log") as url:
        with urllib.request.urlopen(f"{url}/{badge_urlpath()}?token={token}", timeout=30) as response:
            assert response.status == 200, "the README badge's urlpath opens in JupyterLab"
        lesson_path = badge_urlpath().removeprefix("lab/tree/")
        with urllib.request.urlopen(f"{url}/api/contents/{lesson_path}?token={token}&content=0", timeout=30) as r:
            assert r.status == 200, f"{lesson_path} exists on the Binder server"
        checked = drive_stepper_lesson(url, token, chromium, REPO / "test-artifacts" / "binder", folder="notebooks/")
    assert len(checked) == 6, checked
    run_lesson_15(clone, bin_dir, {name: value for name, value in env.items()
                                   if name not in ("POSTGRES_URL", "COURSE_PGDATA")})


def run_lesson_15(clone, bin_dir, env):
    """Lessons 15 and 16, Run All, in the Binder environment: no error, on the course's own server, stopped after."""
    for name in ("15-migrating-a-live-server.ipynb", "16-online-schema-changes.ipynb"):
        lesson = clone / "notebooks" / name
        copy_without_outputs(lesson, lesson)
        run([str(bin_dir / "jupyter"), "nbconvert", "--to", "notebook", "--execute", "--inplace", str(lesson)],
            cwd=clone, env=env)
        cells = [cell for cell in nbformat.read(lesson, as_version=4).cells if cell.cell_type == "code"]
        errors = [output for cell in cells for output in cell.outputs if output.output_type == "error"
                  and "raises-exception" not in cell.metadata.get("tags", [])]
        assert errors == [], (name, errors)
        assert cells[0].outputs[0]["text"].startswith("Using the course's own PostgreSQL server"), name
        assert (clone / ".pgdata" / "PG_VERSION").exists(), "the server's files live in the course folder"
        assert server_stops(clone / ".pgdata"), "the server stopped when the kernel ended"


def server_stops(folder, seconds=60):
    """True once no server runs on ``folder``. The last kernel's exit asks it to stop; its shutdown checkpoint can
    outlast the kernel (nbconvert kills a kernel that takes more than 5 s to exit), so it is waited for."""
    deadline = time.monotonic() + seconds
    while running_pid(folder) is not None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


LESSON_15 = REPO / "notebooks" / "15-migrating-a-live-server.ipynb"


def test_binder_start_gives_a_learner_who_is_not_root_a_mariadb_for_lesson_15(tmp_path, monkeypatch, capsys):
    """binder/start as Binder runs it (a user who is not root, home folder of their own): lesson 15's section 1 then
    runs its MariaDB half. apt.txt's package is not installed here: the test uses this machine's MariaDB binaries."""
    if os.geteuid() != 0 or not shutil.which("runuser"):
        pytest.skip("needs root, to run binder/start as the user 'nobody' (as Binder runs it as its notebook user)")
    if not os.path.exists("/usr/sbin/mariadbd"):
        pytest.skip("no MariaDB installed here (Binder installs it through binder/apt.txt)")
    home = Path(tempfile.mkdtemp(prefix="binder-home-"))
    home.chmod(0o755)
    shutil.chown(home, "nobody")
    port = free_port()
    try:
        run(["runuser", "-u", "nobody", "--", "env", "-i", f"HOME={home}", "PATH=/usr/bin:/bin",
             f"MARIADB_PORT={port}", str(REPO / "binder" / "start"), "true"], timeout=30)
        monkeypatch.setenv("MARIADB_URL", f"mysql+pymysql://root@127.0.0.1:{port}/test")
        monkeypatch.delenv("POSTGRES_URL", raising=False)
        cells = {cell.id: cell.source for cell in nbformat.read(LESSON_15, as_version=4).cells}
        namespace = {}
        exec(cells["c002"], namespace)
        answered = wait_for(lambda: exec(cells["4fa03c9f"], namespace) or not namespace["mariadb_problem"], 60)
        assert answered, namespace["mariadb_problem"]
        for cell_id in ("c004", "c005", "c007", "c008", "d8b1e2a0", "c010"):
            exec(cells[cell_id], namespace)
        assert "MariaDB says: CONSTRAINT `ck_amount_negative` failed for `orders`" in capsys.readouterr().out
    finally:
        pid_file = home / ".mariadb" / "mariadb.pid"
        if pid_file.exists():
            os.kill(int(pid_file.read_text()), signal.SIGTERM)
            wait_for(lambda: not pid_file.exists(), 30)
        shutil.rmtree(home)


def wait_for(condition, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return False
