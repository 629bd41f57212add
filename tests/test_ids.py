"""Row ids have cuid2's shape: a lower-case letter then 23 base-36 digits, all distinct, from
random bits. Python's `new_ids` and SQL's `new_row_id()` (which the progress engine uses for the
rows it inserts) make the same ids."""

from __future__ import annotations

import re
import string

from sqlalchemy import text
from sqlalchemy.orm import Session

from skilltree.db.base import new_id, new_ids

CUID2_SHAPE = re.compile(r"^[a-z][0-9a-z]{23}$")


def test_ids_are_cuid2_shaped_and_distinct() -> None:
    ids = [*new_ids(10_000), new_id()]
    assert all(CUID2_SHAPE.match(i) for i in ids)
    assert len(set(ids)) == len(ids)


def sql_ids(session: Session, count: int) -> list[str]:
    """`count` ids made by new_row_id() in one statement, in the order it made them."""
    return list(
        session.scalars(
            text("SELECT new_row_id() FROM generate_series(1, :n) AS n ORDER BY n"), {"n": count}
        )
    )


def test_sql_ids_are_cuid2_shaped_and_distinct_row_by_row(session: Session) -> None:
    ids = sql_ids(session, 20_000)  # one statement: a new id for each row, not one per statement
    assert all(CUID2_SHAPE.match(i) for i in ids)
    assert len(set(ids)) == len(ids)
    again = sql_ids(session, 1)[0]  # and in the next statement of the same transaction
    assert again not in ids


def test_sql_ids_are_random_in_every_character_not_ordered(session: Session) -> None:
    """Random bits, as unguessable as a UUIDv4 (like new_ids): every character takes every value
    it can (a timestamp or counter in part of the id would not), and the order in which ids were
    made says nothing about their order. (2,000 ids: a value missing from a position by chance
    has odds below 1e-20.)"""
    ids = sql_ids(session, 2_000)
    assert {i[0] for i in ids} == set(string.ascii_lowercase)
    digits = set(string.digits + string.ascii_lowercase)
    assert [p for p in range(1, 24) if {i[p] for i in ids} != digits] == []
    assert ids != sorted(ids)


def test_sql_ids_draw_the_strong_random_source_once_an_id(session: Session) -> None:
    """One version 4 UUID an id, stretched to 24 bytes by SHA-256 (migration 0045): a draw costs
    about as much as the rest of the call, and the engine names a row per root at enrolment."""
    body = session.execute(text("SELECT pg_get_functiondef('new_row_id()'::regprocedure)"))
    source = body.scalar_one()
    assert source.count("gen_random_uuid()") == 1
    assert "sha256(uuid_send(gen_random_uuid()))" in source
