"""A learner's time on the content modules of skills (written through db/schema/content.sql)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from skilltree.db.base import Base

# The table's comment, as migration 0034 writes it.
MODULE_PROGRESS_COMMENT = (
    "A learner's time on each content module of a skill: opened, seconds measured by "
    "heartbeats, done. Written only by content_heartbeat and content_module_done."
)


class UserSkillModuleProgress(Base):
    """One learner's progress in one content module of a skill: when they opened it, the
    seconds its heartbeats measured, and when they marked it done."""

    __tablename__ = "user_skill_module_progress"

    user_id: Mapped[str] = mapped_column(Text, ForeignKey("users.id", ondelete="CASCADE"))
    skill_id: Mapped[str] = mapped_column(Text, ForeignKey("skills.id", ondelete="CASCADE"))
    module_id: Mapped[str] = mapped_column(Text)
    """The module's `id` in the skill's content, or its position (1, 2, ...) without one."""
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    seconds_spent: Mapped[Decimal] = mapped_column(Numeric, server_default=text("0"))
    heartbeats: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        PrimaryKeyConstraint(
            "user_id", "skill_id", "module_id", name="user_skill_module_progress_pkey"
        ),
        Index("idx_module_progress_skill", "skill_id"),
        CheckConstraint("seconds_spent >= 0", name="seconds_spent_non_negative"),
        CheckConstraint("heartbeats >= 0", name="heartbeats_non_negative"),
        CheckConstraint("last_heartbeat_at >= opened_at", name="heartbeat_after_open"),
        {"comment": MODULE_PROGRESS_COMMENT},
    )
