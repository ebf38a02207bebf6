"""Repository-wide pytest set-up: lessons that need database servers skip, saying why, when none answers."""

import pytest

from tests.servers import SERVER_NOTEBOOKS, why_servers_missing


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in SERVER_NOTEBOOKS and item.path.suffix == ".ipynb":
            reason = why_servers_missing()
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))
            item.add_marker(pytest.mark.server)
