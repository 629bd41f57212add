"""Idempotency keys: the first answer to a request that a client may retry (not in the spec)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from skilltree.db.base import Base


class IdempotencyRecord(Base):
    """The answer given to a user's request carrying `Idempotency-Key: key`."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[str] = mapped_column(Text, ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[bytes] = mapped_column(LargeBinary)
    """SHA-256 of method, path and body: the same key on another request is refused."""
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[Any | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (PrimaryKeyConstraint("user_id", "key", name="idempotency_keys_pkey"),)
