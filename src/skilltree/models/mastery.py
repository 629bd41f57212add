"""Learners' mastery of completed skills: review cards and reviews (written through
db/schema/mastery.sql)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    SmallInteger,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from skilltree.db.base import Base
from skilltree.models.enums import MasteryLevel, pg_enum

# The tables' comments, as migration 0040 writes them.
CARDS_COMMENT = (
    "A learner's review card of a completed skill, from its first review on (before it, the "
    "completion stands for it: mastery_completion_rating): the FSRS card (fsrs.Card.to_dict()), "
    "when the next review is due, and the evidence its level stands on. Written only by "
    "mastery_record."
)
REVIEWS_COMMENT = (
    "Each mastery review once: its FSRS rating (1 Again, 2 Hard, 3 Good, 4 Easy), the graded "
    "attempt it was (none: self-rated recall), the level and due date before and after. "
    "Written only by mastery_record."
)


class SkillMastery(Base):
    """A learner's FSRS card of a completed skill and the evidence its level stands on."""

    __tablename__ = "skill_mastery"

    user_id: Mapped[str] = mapped_column(Text, ForeignKey("users.id", ondelete="CASCADE"))
    skill_id: Mapped[str] = mapped_column(Text, ForeignKey("skills.id", ondelete="CASCADE"))
    evidence: Mapped[Decimal] = mapped_column(Numeric(3, 1))
    verified: Mapped[bool]
    level: Mapped[MasteryLevel] = mapped_column(pg_enum(MasteryLevel))
    card: Mapped[dict[str, Any]] = mapped_column(JSONB)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_reviewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reviews: Mapped[int] = mapped_column(Integer)
    lapses: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        PrimaryKeyConstraint("user_id", "skill_id", name="skill_mastery_pkey"),
        Index("idx_skill_mastery_due", "user_id", "due_at", "skill_id"),
        {"comment": CARDS_COMMENT},
    )


class MasteryReview(Base):
    """One review of a learner's skill: its rating, and the level and due date it moved."""

    __tablename__ = "mastery_reviews"

    user_id: Mapped[str] = mapped_column(Text, ForeignKey("users.id", ondelete="CASCADE"))
    id: Mapped[str] = mapped_column(Text)
    skill_id: Mapped[str] = mapped_column(Text, ForeignKey("skills.id", ondelete="CASCADE"))
    attempt_id: Mapped[str | None] = mapped_column(Text)
    rating: Mapped[int] = mapped_column(SmallInteger)
    score: Mapped[float | None] = mapped_column(Float)
    on_time: Mapped[bool]
    level_before: Mapped[MasteryLevel] = mapped_column(pg_enum(MasteryLevel))
    level_after: Mapped[MasteryLevel] = mapped_column(pg_enum(MasteryLevel))
    due_before: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_after: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reviewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        PrimaryKeyConstraint("user_id", "id", name="mastery_reviews_pkey"),
        UniqueConstraint("user_id", "attempt_id", name="mastery_reviews_attempt_key"),
        ForeignKeyConstraint(
            ["user_id", "attempt_id"],
            ["assessment_attempts.user_id", "assessment_attempts.id"],
            name="mastery_reviews_attempt_fkey",
            ondelete="CASCADE",
        ),
        Index("idx_mastery_reviews_skill", "user_id", "skill_id", "reviewed_at"),
        {"comment": REVIEWS_COMMENT},
    )
