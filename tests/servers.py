"""The servers the tests use: the course's own PostgreSQL by default, and, where one answers, your own.

The server lessons (SERVER_NOTEBOOKS) and the PostgreSQL tests run on the course's own server (coursekit.pgserver),
which the test session starts in a folder of its own (conftest.py), so nothing here skips on a machine without
PostgreSQL. The path through a server of your own is tested too where one answers at OWN_POSTGRES_URL: the
POSTGRES_URL you ran the tests with, else the local server with trust authentication. MariaDB is optional (lesson
15's first section and lesson 23 run on it where one answers).
"""

import functools
import os

from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

LOCAL_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
OWN_URL_VARIABLE = "COURSE_TEST_OWN_POSTGRES_URL"  # conftest.py moves POSTGRES_URL here for the session
MARIADB_URL = os.environ.get("MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
SERVER_NOTEBOOKS = {  # the lessons that use a server: marked `server`, and given a schema per test worker (conftest.py)
    "15-migrating-a-live-server.ipynb", "16-online-schema-changes.ipynb",
    "18-a-foreign-key-to-data-that-breaks-it.ipynb", "21-rename-a-table-behind-a-view.ipynb",
    "23-online-ddl-on-mariadb.ipynb",
}


def own_postgres_url() -> str:
    """The user's own PostgreSQL server, for the tests of that path (they skip where it does not answer)."""
    return os.environ.get(OWN_URL_VARIABLE) or LOCAL_POSTGRES_URL


@functools.cache
def unreachable(url: str) -> str | None:
    """None when a server answers at ``url``, else why not."""
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 5})  # a silent host must not hang the tests
    except Exception as error:  # a malformed URL, a driver that is not installed
        return f"cannot use the server URL: {error}"
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return None
    except DBAPIError as error:
        return f"no server at {engine.url.render_as_string()}: {str(error.orig).splitlines()[0]}"
    finally:
        engine.dispose()
