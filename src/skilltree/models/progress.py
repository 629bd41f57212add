"""A learner's progress through trees and skills."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from skilltree.db.base import Base, LearnerIdMixin, TimestampMixin
from skilltree.models.enums import (
    CompletionMethod,
    ProgressEventKind,
    SkillProgressStatus,
    TreeProgressStatus,
    pg_enum,
)


class UserSkillTreeProgress(LearnerIdMixin, TimestampMixin, Base):
    """A learner's enrolment in, and progress through, one tree."""

    __tablename__ = "user_skill_tree_progress"

    user_id: Mapped[str] = mapped_column(Text, ForeignKey("users.id", ondelete="CASCADE"))
    skill_tree_id: Mapped[str] = mapped_column(
        Text, ForeignKey("skill_trees.id", ondelete="CASCADE", onupdate="CASCADE")
    )
    status: Mapped[TreeProgressStatus] = mapped_column(
        pg_enum(TreeProgressStatus), server_default=TreeProgressStatus.NOT_STARTED.value
    )
    progress_percent: Mapped[float] = mapped_column(Float, server_default=text("0"))
    skills_completed: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    total_skills: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    time_spent_minutes: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_activity_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    milestones_reached: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default=text("'{}'::text[]")
    )
    current_path: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default=text("'{}'::text[]")
    )

    __table_args__ = (
        PrimaryKeyConstraint("user_id", "id", name="user_skill_tree_progress_pkey"),
        UniqueConstraint("user_id", "skill_tree_id", name="unique_user_tree_progress"),
        Index("idx_user_tree_status", "user_id", "status"),
        Index("idx_tree_user_status", "skill_tree_id", "status"),
        Index("idx_tree_progress_activity", "last_activity_at"),
        CheckConstraint("progress_percent BETWEEN 0 AND 100", name="progress_percent_range"),
        CheckConstraint("skills_completed >= 0", name="skills_completed_non_negative"),
        CheckConstraint("total_skills >= 0", name="total_skills_non_negative"),
        CheckConstraint("time_spent_minutes >= 0", name="time_spent_minutes_non_negative"),
        CheckConstraint(
            "status <> 'COMPLETED' OR completed_at IS NOT NULL", name="completed_has_completed_at"
        ),
    )


class UserSkillProgress(LearnerIdMixin, TimestampMixin, Base):
    """A learner's state in one skill."""

    __tablename__ = "user_skill_progress"

    user_id: Mapped[str] = mapped_column(Text, ForeignKey("users.id", ondelete="CASCADE"))
    # The skill by the composite foreign key below alone (it implies a key on skill_id: 0045).
    skill_id: Mapped[str] = mapped_column(Text)
    # Denormalised for per-tree queries; the composite foreign key below keeps it true.
    skill_tree_id: Mapped[str] = mapped_column(Text)
    status: Mapped[SkillProgressStatus] = mapped_column(
        pg_enum(SkillProgressStatus), server_default=SkillProgressStatus.LOCKED.value
    )
    progress_percent: Mapped[float] = mapped_column(Float, server_default=text("0"))
    time_spent_minutes: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    attempts_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    completion_method: Mapped[CompletionMethod | None] = mapped_column(pg_enum(CompletionMethod))
    completion_score: Mapped[float | None] = mapped_column(Float)
    evidence_data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    unlocked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_activity_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    struggling_indicators: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    engagement_score: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (
        PrimaryKeyConstraint("user_id", "id", name="user_skill_progress_pkey"),
        UniqueConstraint("user_id", "skill_id", name="unique_user_skill_progress"),
        ForeignKeyConstraint(
            ["skill_id", "skill_tree_id"],
            ["skills.id", "skills.skill_tree_id"],
            name="user_skill_progress_skill_tree_fkey",
            ondelete="CASCADE",
            onupdate="CASCADE",
        ),
        Index("idx_user_skill_status", "user_id", "status"),
        Index("idx_skill_user_status", "skill_id", "status"),
        Index("idx_tree_user_progress", "skill_tree_id", "user_id"),
        # Only rows with a time: the LOCKED and AVAILABLE ones (each root of each enrolment)
        # add no entry (0045).
        Index(
            "idx_skill_progress_activity",
            "last_activity_at",
            postgresql_where=text("last_activity_at IS NOT NULL"),
        ),
        Index(
            "idx_skill_completion",
            "completed_at",
            postgresql_where=text("completed_at IS NOT NULL"),
        ),
        CheckConstraint("progress_percent BETWEEN 0 AND 100", name="progress_percent_range"),
        CheckConstraint("time_spent_minutes >= 0", name="time_spent_minutes_non_negative"),
        CheckConstraint("attempts_count >= 0", name="attempts_count_non_negative"),
        CheckConstraint("completion_score BETWEEN 0 AND 100", name="completion_score_range"),
        CheckConstraint("engagement_score BETWEEN 0 AND 1", name="engagement_score_range"),
        CheckConstraint(
            "status <> 'COMPLETED' OR completed_at IS NOT NULL", name="completed_has_completed_at"
        ),
    )


class ProgressEvent(Base):
    """One event of a learner's progress, appended in the event's own transaction, never updated.

    The primary key (user_id, occurred_at, id) keeps a learner's events in time order and
    includes `occurred_at`, so the table can be partitioned by month unchanged, and the
    learner, so it can be distributed by learner (docs/scaling.md); the analytics fold walks
    events by id.
    Skill and tree ids are kept without foreign keys: the history outlives deleted skills.
    """

    __tablename__ = "progress_events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True))
    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    user_id: Mapped[str] = mapped_column(Text, ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[ProgressEventKind] = mapped_column(pg_enum(ProgressEventKind))
    skill_tree_id: Mapped[str | None] = mapped_column(Text)
    skill_id: Mapped[str | None] = mapped_column(Text)
    achievement_id: Mapped[str | None] = mapped_column(Text)
    xp_delta: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))

    __table_args__ = (
        PrimaryKeyConstraint("user_id", "occurred_at", "id", name="progress_events_pkey"),
        Index("idx_progress_event_id", "id"),
        Index("idx_progress_event_time", "occurred_at"),
        Index("idx_progress_event_tree_time", "skill_tree_id", "occurred_at"),
    )
