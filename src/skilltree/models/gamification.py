"""Achievements and the learners who earned them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from skilltree.db.base import Base, IdMixin, LearnerIdMixin, TimestampMixin
from skilltree.models.catalog import HEX_COLOUR_PATTERN
from skilltree.models.enums import AchievementCategory, AchievementRarity, pg_enum


class Achievement(IdMixin, TimestampMixin, Base):
    """Something a learner can earn; its `criteria` say when (see AchievementCriteria)."""

    __tablename__ = "achievements"

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    category: Mapped[AchievementCategory] = mapped_column(
        pg_enum(AchievementCategory), server_default=AchievementCategory.PROGRESS.value
    )
    criteria: Mapped[dict[str, Any]] = mapped_column(JSONB)
    xp_reward: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    badge_icon: Mapped[str | None] = mapped_column(Text)
    badge_color: Mapped[str | None] = mapped_column(String(7))
    rarity: Mapped[AchievementRarity] = mapped_column(
        pg_enum(AchievementRarity), server_default=AchievementRarity.COMMON.value
    )
    is_visible: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))

    __table_args__ = (
        Index("idx_achievement_category", "category", "is_active"),
        Index("idx_achievement_rarity", "rarity"),
        CheckConstraint("xp_reward >= 0", name="xp_reward_non_negative"),
        CheckConstraint(f"badge_color ~ '{HEX_COLOUR_PATTERN}'", name="badge_color_hex"),
    )


class UserAchievement(LearnerIdMixin, Base):
    """An achievement a learner has earned, once."""

    __tablename__ = "user_achievements"

    user_id: Mapped[str] = mapped_column(Text, ForeignKey("users.id", ondelete="CASCADE"))
    achievement_id: Mapped[str] = mapped_column(
        Text, ForeignKey("achievements.id", ondelete="CASCADE", onupdate="CASCADE")
    )
    earned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    progress: Mapped[float] = mapped_column(Float, server_default=text("100"))
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONB)

    __table_args__ = (
        PrimaryKeyConstraint("user_id", "id", name="user_achievements_pkey"),
        UniqueConstraint("user_id", "achievement_id", name="unique_user_achievement"),
        Index("idx_user_achievement_date", "user_id", "earned_at"),
        Index("idx_achievement_users", "achievement_id"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_range"),
    )


class XpHistogram(Base):
    """How many learners hold each XP total, with the pending rows of XpHistogramPending
    (kept by triggers on user_profiles, db/schema/gamification.sql, never written by the
    application); a rank sums the rows above a learner's XP."""

    __tablename__ = "xp_histogram"

    total_xp: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    learners: Mapped[int] = mapped_column(Integer)


class XpHistogramPending(Base):
    """XP-histogram changes left for a value's row while another transaction held it
    (db/schema/gamification.sql); the next change of that value that gets the row folds them in."""

    __tablename__ = "xp_histogram_pending"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    total_xp: Mapped[int] = mapped_column(Integer)
    learners: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("idx_xp_histogram_pending_xp", "total_xp"),)
