"""Integrations that complete skills through signed webhooks, their secrets and deliveries
(written through db/schema/integrations.sql)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    PrimaryKeyConstraint,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from skilltree.db.base import Base, IdMixin, TimestampMixin

# The tables' comments, as migration 0033 writes them.
INTEGRATIONS_COMMENT = (
    "Systems that complete skills for learners through signed webhooks (method EXTERNAL): of "
    "one tree (skill_tree_id) or of the platform (NULL)."
)
SECRETS_COMMENT = (
    "Signing secrets of integrations (Standard Webhooks whsec_...), each valid until removed or "
    "expires_at: the secret only through integration_signing_secrets."
)
DELIVERIES_COMMENT = (
    "Accepted webhook deliveries (one per webhook-id, integration and learner) with the SHA-256 "
    "of their body and the completion's answer. Written only by integration_complete."
)


class Integration(IdMixin, TimestampMixin, Base):
    """A system (an LMS, a coding platform, CI) that completes skills by EXTERNAL."""

    __tablename__ = "integrations"

    name: Mapped[str] = mapped_column(String(100))
    skill_tree_id: Mapped[str | None] = mapped_column(
        Text, ForeignKey("skill_trees.id", ondelete="CASCADE")
    )
    """The tree whose skills it may complete; None: any tree's (an admin's integration)."""
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_by: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("idx_integration_tree", "skill_tree_id"),
        {"comment": INTEGRATIONS_COMMENT},
    )


class IntegrationSecret(Base):
    """One signing secret of an integration; the API's role never reads `secret`."""

    __tablename__ = "integration_secrets"

    integration_id: Mapped[str] = mapped_column(
        Text, ForeignKey("integrations.id", ondelete="CASCADE")
    )
    id: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(Text, deferred=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        PrimaryKeyConstraint("integration_id", "id", name="integration_secrets_pkey"),
        {"comment": SECRETS_COMMENT},
    )


class IntegrationDelivery(Base):
    """A webhook delivery an integration made for a learner, and the answer it got."""

    __tablename__ = "integration_deliveries"

    user_id: Mapped[str] = mapped_column(Text, ForeignKey("users.id", ondelete="CASCADE"))
    integration_id: Mapped[str] = mapped_column(
        Text, ForeignKey("integrations.id", ondelete="CASCADE")
    )
    webhook_id: Mapped[str] = mapped_column(Text)
    skill_id: Mapped[str] = mapped_column(Text)
    body_sha256: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    answer: Mapped[dict[str, Any] | None] = mapped_column(JSONB)

    __table_args__ = (
        PrimaryKeyConstraint(
            "user_id", "integration_id", "webhook_id", name="integration_deliveries_pkey"
        ),
        Index("idx_integration_delivery_received", "integration_id", "received_at"),
        {"comment": DELIVERIES_COMMENT},
    )
