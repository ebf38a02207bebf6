"""Repository-wide pytest set-up: the session's own PostgreSQL server, and the server lessons' schemas per worker."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from coursekit.pgserver import DATA_FOLDER_VARIABLE, stop
from tests.servers import OWN_URL_VARIABLE, SERVER_NOTEBOOKS, own_postgres_url


def pytest_configure(config):
    # Under pytest-xdist, two workers may run a server lesson at once (nbval, and the run-every-cell-twice test): each
    # worker's kernels get their own schema and database, which lesson NN reads from LESSONNN_SCHEMA.
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        for notebook in SERVER_NOTEBOOKS:
            number = notebook[:2]
            os.environ.setdefault(f"LESSON{number}_SCHEMA", f"lesson{number}_{worker}")
        return
    # The first process (xdist's controller, or the only one) sets up what its workers and kernels inherit: the
    # lessons run on the course's own server, in a data folder of this session's own (so neither a learner's
    # .pgdata nor another test run is touched), and a POSTGRES_URL you set is kept for the tests of your own server.
    if OWN_URL_VARIABLE not in os.environ:
        os.environ[OWN_URL_VARIABLE] = os.environ.pop("POSTGRES_URL", "") or own_postgres_url()
    if DATA_FOLDER_VARIABLE not in os.environ:
        config._course_pgdata = Path(tempfile.mkdtemp(prefix="course-pg-")) / "data"
        os.environ[DATA_FOLDER_VARIABLE] = str(config._course_pgdata)


def pytest_unconfigure(config):
    folder = getattr(config, "_course_pgdata", None)
    if folder is not None:  # this session made the folder: stop the server it may have started, and delete it
        stop(folder)
        shutil.rmtree(folder.parent, ignore_errors=True)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in SERVER_NOTEBOOKS and item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.server)
