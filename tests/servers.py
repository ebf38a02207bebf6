"""Whether the database servers that some lessons and tests need are reachable (they skip, saying why, if not)."""

import functools
import os

from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

POSTGRES_URL = os.environ.get("POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MARIADB_URL = os.environ.get("MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
SERVER_NOTEBOOKS = {"10-migrating-a-live-server.ipynb"}


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


def why_servers_missing() -> str | None:
    """None when PostgreSQL and MariaDB both answer, else a reason to skip, with how to start them."""
    problems = [reason for reason in (unreachable(POSTGRES_URL), unreachable(MARIADB_URL)) if reason]
    if not problems:
        return None
    return "; ".join(problems) + " (README, Troubleshooting: how to start them; or set POSTGRES_URL and MARIADB_URL)"
