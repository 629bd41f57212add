"""Declarative base with PostgreSQL's own constraint names, and the id/timestamp mixins."""

from __future__ import annotations

from datetime import datetime

from cuid2 import Cuid
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

_cuid = Cuid()


def new_id() -> str:
    """A new cuid2 identifier, as the spec's `@default(cuid())`."""
    return _cuid.generate()


class Base(DeclarativeBase):
    """Base class of every SkillTree table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class IdMixin:
    """A cuid2 text primary key."""

    id: Mapped[str] = mapped_column(Text, primary_key=True, default=new_id)


class TimestampMixin:
    """`created_at` set on insert; `updated_at` kept current by a trigger on every update."""

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AuditMixin(TimestampMixin):
    """Timestamps plus the ids of the users who created and last changed the row."""

    created_by: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[str | None] = mapped_column(Text)
