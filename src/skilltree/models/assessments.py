"""Question banks and learners' attempts at them (written through db/schema/assessments.sql)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Float, ForeignKey, Index, PrimaryKeyConstraint, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from skilltree.db.base import Base

# The tables' comments, as migration 0030 writes them.
QUESTION_BANKS_COMMENT = (
    "An author's questions for one skill (skilltree.assessments.schemas.QuestionBank): "
    "settings and questions as learners see them; answer_keys (keys and explanations by "
    "question id) only through the assessment_* functions."
)
ATTEMPTS_COMMENT = (
    "A learner's attempts at a skill's question bank: the questions drawn (as shown), and "
    "once submitted the answers, per-question results, score. Written only by "
    "assessment_start and assessment_submit."
)


class QuestionBank(Base):
    """A skill's questions: settings and questions as learners see them, and the answer keys
    (with explanations) that the API's role cannot read."""

    __tablename__ = "question_banks"
    __table_args__ = ({"comment": QUESTION_BANKS_COMMENT},)

    skill_id: Mapped[str] = mapped_column(
        Text, ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True
    )
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB)
    questions: Mapped[list[Any]] = mapped_column(JSONB)
    answer_keys: Mapped[dict[str, Any]] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AssessmentAttempt(Base):
    """A learner's attempt at a skill's bank: the questions drawn, then its one grade."""

    __tablename__ = "assessment_attempts"

    user_id: Mapped[str] = mapped_column(Text, ForeignKey("users.id", ondelete="CASCADE"))
    id: Mapped[str] = mapped_column(Text)
    skill_id: Mapped[str] = mapped_column(Text, ForeignKey("skills.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    questions: Mapped[list[Any]] = mapped_column(JSONB)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answers: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    results: Mapped[list[Any] | None] = mapped_column(JSONB)
    score: Mapped[float | None] = mapped_column(Float)
    passed: Mapped[bool | None]
    expired: Mapped[bool | None]
    completion: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    review: Mapped[bool] = mapped_column(
        server_default=text("false"),
        comment="An attempt started when the skill was already completed: a mastery review "
        "(0040), which completes nothing again.",
    )

    __table_args__ = (
        PrimaryKeyConstraint("user_id", "id", name="assessment_attempts_pkey"),
        Index("idx_assessment_attempt_user_skill", "user_id", "skill_id", "started_at"),
        # Every learner's attempts at one skill, for its item analysis (migration 0042).
        Index("idx_assessment_attempt_skill", "skill_id"),
        {"comment": ATTEMPTS_COMMENT},
    )
