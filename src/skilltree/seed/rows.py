"""How seed rows reach the database: insert what is missing by natural key, never update."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from skilltree.db.base import Base, new_id

Row = dict[str, Any]


def insert_missing(
    session: Session, model: type[Base], key: Sequence[str], rows: Sequence[Row]
) -> dict[tuple[Any, ...], str]:
    """Insert the `rows` whose natural `key` is not taken yet; return the id of every row's key.

    Rows that exist are left untouched (not even their `updated_at`), so seeding twice is a no-op.
    """
    existing = ids_by_key(session, model, key, rows)
    missing = [row for row in rows if tuple(row[k] for k in key) not in existing]
    insert_rows(session, model, [{"id": new_id(), **row} for row in missing])
    return ids_by_key(session, model, key, rows)


def ids_by_key(
    session: Session, model: type[Base], key: Sequence[str], rows: Sequence[Row]
) -> dict[tuple[Any, ...], str]:
    """The ids of the rows of `model` whose natural `key` matches one of `rows`."""
    if not rows:
        return {}
    id_column, *columns = (getattr(model, name) for name in ("id", *key))
    wanted = {tuple(row[k] for k in key) for row in rows}
    # Narrow by the first key column in SQL, finish the match here: keys are few and short.
    found = session.execute(
        select(id_column, *columns).where(columns[0].in_({k[0] for k in wanted}))
    ).all()
    return {tuple(found_key): id_ for id_, *found_key in found if tuple(found_key) in wanted}


def insert_rows(session: Session, model: type[Base], rows: Sequence[Row]) -> None:
    """Bulk-insert `rows`, skipping any that collide with a unique key already present."""
    if rows:
        session.execute(insert(model).on_conflict_do_nothing(), list(rows))
