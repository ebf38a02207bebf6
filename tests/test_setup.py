"""`make setup` as a fresh machine meets it: with uv when it can be had, else with pip, the same pins either way.

Each test installs into a venv of its own in a scratch folder (the checkout's `.venv` is not touched) and reads the
versions installed there. The pip fallback is the slow one (about a minute): it is what a learner whose Python cannot
get uv waits for, so it is tested as they would meet it, by `make` itself.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

from tests.conftest import REPO
from tests.test_environment import pins

READ_VERSIONS = "import importlib.metadata as m, sys; print('\\n'.join(f'{n}=={m.version(n)}' for n in sys.argv[1:]))"


def path_without_uv() -> str:
    """PATH minus the folders that hold a `uv`, so that `make` has to get uv itself (or do without)."""
    folders = os.environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join(folder for folder in folders if not (Path(folder) / "uv").exists())


def make_setup(venv: Path, *variables: str) -> subprocess.CompletedProcess:
    python = shutil.which("python3")  # found before PATH loses uv's folder, which may hold python3 too
    return subprocess.run(["make", "-s", "setup", f"VENV={venv}", f"PYTHON={python}", *variables], cwd=REPO,
                          capture_output=True, text=True, timeout=900, env={**os.environ, "PATH": path_without_uv()})


def pinned() -> list[str]:
    """The pins as `name==version`, extras left out (`psycopg[binary]` is installed as `psycopg`)."""
    return sorted(re.sub(r"\[.*\]", "", line) for line in pins(REPO / "requirements.txt"))


def installed(venv: Path) -> list[str]:
    names = [line.split("==")[0] for line in pinned()]
    found = subprocess.run([venv / "bin" / "python", "-c", READ_VERSIONS, *names], capture_output=True, text=True)
    assert found.returncode == 0, found.stderr
    return sorted(found.stdout.split())


def test_setup_gets_uv_itself_and_installs_the_pins_and_the_course(tmp_path):
    result = make_setup(tmp_path / "venv")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "== installed with uv" in result.stdout, result.stdout
    assert installed(tmp_path / "venv") == pinned()
    course = subprocess.run([tmp_path / "venv" / "bin" / "python", "-c", "import coursekit; print(coursekit.__file__)"],
                            capture_output=True, text=True)
    assert course.stdout.strip() == str(REPO / "coursekit" / "__init__.py"), course.stderr
    assert (tmp_path / "venv" / "bin" / "pip").exists()  # a learner's `%pip install` still works


def test_without_uv_setup_says_so_and_installs_the_same_pins_with_pip(tmp_path):
    result = make_setup(tmp_path / "venv", "UV_VERSION=0.0.0")  # a uv that no index has: as if uv could not be had
    assert result.returncode == 0, result.stdout + result.stderr
    assert "uv is not available here: installing with pip" in result.stdout, result.stdout
    assert "== installed with pip" in result.stdout, result.stdout
    assert installed(tmp_path / "venv") == pinned()


def test_setup_forced_to_uv_fails_loudly_when_uv_cannot_be_had(tmp_path):
    result = make_setup(tmp_path / "venv", "UV_VERSION=0.0.0", "INSTALLER=uv")
    assert result.returncode != 0
    assert "uv could not install the course (INSTALLER=pip uses pip)" in result.stdout, result.stdout
