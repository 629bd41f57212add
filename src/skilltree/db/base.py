"""Declarative base with PostgreSQL's own constraint names, and the id/timestamp mixins."""

from __future__ import annotations

import os
from datetime import datetime

from sqlalchemy import DateTime, MetaData, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# The names PostgreSQL and Prisma Migrate give by default, so the schema reads as the spec's;
# named indexes and unique constraints from the spec carry their explicit names instead.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "%(table_name)s_%(column_0_N_name)s_key",
    "ck": "%(table_name)s_%(constraint_name)s_check",
    "fk": "%(table_name)s_%(column_0_N_name)s_fkey",
    "pk": "%(table_name)s_pkey",
}

_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_ID_DIGITS = 23


def new_ids(count: int) -> list[str]:
    """`count` new row ids shaped as cuid2's (the spec's `@default(cuid())`): a lower-case letter,
    then 23 base-36 digits, from 119 random bits (as unguessable as a UUIDv4).

    Not cuid2's hash of time, counter and host: the `cuid2` package takes about 80 µs an id, which
    a 100,000-skill import or an enrolment in a large tree cannot afford; random bits need no
    coordination between hosts either.
    """
    pool = os.urandom(16 * count)
    ids = []
    for at in range(0, 16 * count, 16):
        n, first = divmod(int.from_bytes(pool[at : at + 16], "big"), 26)
        digits = [_BASE36[10 + first]]
        for _ in range(_ID_DIGITS):
            n, digit = divmod(n, 36)
            digits.append(_BASE36[digit])
        ids.append("".join(digits))
    return ids


def new_id() -> str:
    """A new row id (see `new_ids`)."""
    return new_ids(1)[0]


class Base(DeclarativeBase):
    """Base class of every SkillTree table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class IdMixin:
    """A text primary key shaped as a cuid2 (see `new_ids`)."""

    id: Mapped[str] = mapped_column(Text, primary_key=True, default=new_id)


class LearnerIdMixin:
    """A cuid2 `id` (see `new_ids`) kept with its learner: the table's primary key is
    (user_id, id), declared by the table, so a table distributed by learner has its learner in
    every key (docs/scaling.md)."""

    id: Mapped[str] = mapped_column(Text, default=new_id)


class TimestampMixin:
    """`created_at` set on insert; `updated_at` kept current by a trigger on every update."""

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AuditMixin(TimestampMixin):
    """Timestamps plus the ids of the users who created and last changed the row."""

    created_by: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[str | None] = mapped_column(Text)
