"""Repository-wide pytest set-up: lessons that need database servers skip, saying why, when none answers."""

import os

import pytest

from tests.servers import SERVER_NOTEBOOKS, why_servers_missing


def pytest_configure(config):
    # Under pytest-xdist, two workers may run lesson 10 at once (nbval, and the run-every-cell-twice test): each
    # worker's kernels get their own schema and database, which the lesson reads from LESSON10_SCHEMA.
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        os.environ.setdefault("LESSON10_SCHEMA", f"lesson10_{worker}")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in SERVER_NOTEBOOKS and item.path.suffix == ".ipynb":
            reason = why_servers_missing()
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))
            item.add_marker(pytest.mark.server)
