"""Aggregates of the audit trail for analytics, folded up to a watermark (`analytics_fold`).

No learner's id is stored here: only counts per skill, per tree and day, per platform period.
No foreign keys either (the history outlives deleted skills and trees, as progress_events
does); a fold drops what belonged to a deleted skill or tree. The views and
functions that read across learners for authors and admins are in db/schema/analytics.sql.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Double,
    Index,
    Integer,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from skilltree.db.base import Base


class AnalyticsFoldState(Base):
    """The one row saying up to which progress event the aggregates are folded."""

    __tablename__ = "analytics_fold_state"

    id: Mapped[bool] = mapped_column(Boolean, primary_key=True, server_default=text("true"))
    folded_through: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    """The last progress_events.id counted in the aggregates."""
    folded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (CheckConstraint("id", name="single"),)


class AnalyticsSkillCounts(Base):
    """Learners with each funnel event (UNLOCK, START, COMPLETE, SKIP) on a skill, folded."""

    __tablename__ = "analytics_skill_counts"

    skill_id: Mapped[str] = mapped_column(Text, primary_key=True)
    skill_tree_id: Mapped[str] = mapped_column(Text)
    unlocked: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    started: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    completed: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    skipped: Mapped[int] = mapped_column(Integer, server_default=text("0"))

    __table_args__ = (Index("idx_analytics_skill_counts_tree", "skill_tree_id"),)


class AnalyticsTreeDay(Base):
    """One tree's enrolments, skill completions and active learners on one UTC day, folded."""

    __tablename__ = "analytics_tree_days"

    skill_tree_id: Mapped[str] = mapped_column(Text, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    enrolments: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    completions: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    active_learners: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class AnalyticsPlatformPeriod(Base):
    """Distinct learners active on the platform in one UTC day, week or month, folded."""

    __tablename__ = "analytics_platform_periods"

    period: Mapped[str] = mapped_column(Text, primary_key=True)
    """'day', 'week' (from Monday) or 'month'."""
    first_day: Mapped[date] = mapped_column(Date, primary_key=True)
    active_learners: Mapped[int] = mapped_column(Integer, server_default=text("0"))

    __table_args__ = (CheckConstraint("period IN ('day', 'week', 'month')", name="period"),)


class AnalyticsSkillTimes(Base):
    """Time to complete one skill (p50/p95 minutes) as of its tree's snapshot:
    percentiles do not fold into counters, so they are recomputed per tree when it changed."""

    __tablename__ = "analytics_skill_times"

    skill_id: Mapped[str] = mapped_column(Text, primary_key=True)
    skill_tree_id: Mapped[str] = mapped_column(Text)
    completed: Mapped[int] = mapped_column(Integer)
    p50_minutes: Mapped[float | None] = mapped_column(Double)
    p95_minutes: Mapped[float | None] = mapped_column(Double)
    p50_spent_minutes: Mapped[float | None] = mapped_column(Double)
    p95_spent_minutes: Mapped[float | None] = mapped_column(Double)

    __table_args__ = (Index("idx_analytics_skill_times_tree", "skill_tree_id"),)


class AnalyticsTimeSnapshot(Base):
    """How current one tree's analytics_skill_times are (`analytics_refresh_skill_times`)."""

    __tablename__ = "analytics_time_snapshots"

    skill_tree_id: Mapped[str] = mapped_column(Text, primary_key=True)
    through_event: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    """Every progress event up to this id is reflected in the snapshot."""
    computed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the grouped pass ran (None: never yet)."""
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the snapshot was last found current."""
    stale: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    """Completed rows of the tree were deleted since (a deleted learner)."""
