"""The shop as an ORM application (lesson 22): fresh databases, what one version of the shop does, drift in words.

The lesson writes the shop's ORM models in its own cells; this module holds what is not the lesson, which its
exercise checks use too:

- :func:`new_shop`: a fresh SQLite database in memory at the newest revision (*head*, lesson 11) with the shop's
  orders: the table that :mod:`coursekit.models` declares;
- :func:`try_the_app`: what one version of the shop does on a database, as the running application would: list the
  orders, load one by its key, insert one, change a status. Each action answers "ok" or the database's own words;
  every write is rolled back, so the database stays as it was. :func:`app_matrix` tries several versions on several
  databases;
- :func:`describe_differences`: what Alembic's ``compare_metadata`` found, as short words (its tuples hold
  SQLAlchemy objects whose repr shows memory addresses).
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

from coursekit.alembic_setup import scratch_database_at

ACTIONS = ("list orders", "load one", "insert one", "change a status")
NEW_ORDER = {"order_id": "ORD-NEW-0001", "customer_id": "C-0001", "country": "DE", "ordered_at": "2026-03-01",
             "amount": 12.5}  # by column name; an order's other columns are left to their defaults


def new_shop(rows: int = 1_000):
    """A fresh SQLite database in memory at head, with the shop's first ``rows`` orders (the seeded data set)."""
    return scratch_database_at("head", rows=rows)


def error_words(error: BaseException) -> str:
    """What went wrong: the database's own words when the database said it, else the exception's type and message."""
    if isinstance(error, DBAPIError):
        return str(error.orig).splitlines()[0]
    said = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {said}"


def _first_key(session: Session, model):
    key = sa_inspect(model).primary_key[0]
    return session.execute(select(key).order_by(key).limit(1)).scalar_one()


def _new_order(model):
    """An object of ``model`` for :data:`NEW_ORDER`, each value given to the attribute that maps its column."""
    mapper = sa_inspect(model)
    values = {}
    for name, value in NEW_ORDER.items():
        column = mapper.local_table.columns.get(name)
        if column is not None and column in mapper.columns.values():
            values[mapper.get_property_by_column(column).key] = value
    return model(**values)


def act(session: Session, model, action: str) -> None:
    if action == "list orders":
        session.scalars(select(model).order_by(sa_inspect(model).primary_key[0]).limit(20)).all()
    elif action == "load one":
        session.get(model, _first_key(session, model))
    elif action == "insert one":
        session.add(_new_order(model))
        session.flush()
    elif action == "change a status":
        session.get(model, _first_key(session, model)).status = "cancelled"
        session.flush()


def try_the_app(model, engine) -> dict[str, str]:
    """What a version of the shop whose model is ``model`` does on ``engine``: each action's "ok" or error words.

    Every action runs in its own transaction, rolled back at the end, so the database is left as it was.
    """
    outcome = {}
    for action in ACTIONS:
        with Session(engine) as session:
            try:
                act(session, model, action)
                outcome[action] = "ok"
            except (SQLAlchemyError, AttributeError, TypeError) as error:
                outcome[action] = error_words(error)
            finally:
                session.rollback()
    return outcome


def app_matrix(models: dict, databases: dict) -> pd.DataFrame:
    """One row per (version, database), one column per action: what each version of the shop does on each database."""
    rows = {(version, database): try_the_app(model, engine)
            for version, model in models.items() for database, engine in databases.items()}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.names = ["version", "database"]
    return frame


def _describe(difference) -> str:
    if isinstance(difference, list):  # column changes come as a list of tuples, one per column
        return "; ".join(_describe(change) for change in difference)
    kind = difference[0]
    if kind in ("add_column", "remove_column"):
        return f"{kind} {difference[2]}.{difference[3].name}"
    if kind in ("add_table", "remove_table", "add_index", "remove_index", "add_constraint", "remove_constraint"):
        return f"{kind} {getattr(difference[1], 'name', difference[1])}"
    if kind.startswith("modify_"):
        old, new = difference[-2:]
        if kind == "modify_default":
            old, new = (getattr(getattr(d, "arg", None), "text", getattr(d, "arg", d)) for d in (old, new))
        return f"{kind} {difference[2]}.{difference[3]}: {old!s} -> {new!s}"
    return kind


def describe_differences(differences) -> list[str]:
    """``compare_metadata``'s differences as short words: ``add_column orders.channel``, ``modify_default ...``."""
    return [_describe(difference) for difference in differences]
