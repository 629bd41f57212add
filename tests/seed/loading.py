"""Seed tests load a data set once per module, in a transaction rolled back at the module's end,
and compare snapshots of every row to prove that loading again changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from skilltree.models import Base


@contextmanager
def loaded_once(engine: Engine, load: Callable[[Session], None]) -> Iterator[Connection]:
    """A connection inside a transaction that sees what `load` wrote; rolled back on exit."""
    with engine.connect() as connection:
        transaction = connection.begin()
        with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
            load(session)
            session.commit()  # releases the session's savepoint into the outer transaction
        yield connection
        transaction.rollback()


@contextmanager
def session_on(connection: Connection) -> Iterator[Session]:
    """A session on `connection` whose work is rolled back on exit."""
    savepoint = connection.begin_nested()
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        yield session
    savepoint.rollback()


def database_snapshot(connection: Connection) -> dict[str, list[Any]]:
    """Every row of every table with its physical location (ctid), which any UPDATE changes even
    when it writes the same values, and even inside one transaction where now() stands still."""
    return {
        table: list(connection.execute(text(f"SELECT ctid, * FROM {table} ORDER BY ctid")).all())
        for table in sorted(Base.metadata.tables)
    }
