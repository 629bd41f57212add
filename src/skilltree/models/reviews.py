"""Project reviews: trees' mentors, skills' rubrics and learners' submissions (written through
db/schema/reviews.sql)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from skilltree.db.base import Base

# The tables' comments, as migration 0038 writes them.
MENTORS_COMMENT = (
    "The mentors a tree's author names: they review the tree's project submissions, with the "
    "author and admins."
)
RUBRICS_COMMENT = (
    "An author's rubric for one PROJECT skill (skilltree.reviews.schemas.Rubric): criteria with "
    "levels (points) and the minimum an approval needs."
)
SUBMISSIONS_COMMENT = (
    "Learners' project submissions and the one review each gets: PENDING in the queue "
    "(claimable_at: when a reviewer may claim it), then APPROVED or CHANGES_REQUESTED. Written "
    "only by project_submit, project_claim and project_decide."
)


class TreeMentor(Base):
    """A user the tree's author named to review the tree's project submissions."""

    __tablename__ = "tree_mentors"

    skill_tree_id: Mapped[str] = mapped_column(
        Text, ForeignKey("skill_trees.id", ondelete="CASCADE")
    )
    mentor_id: Mapped[str] = mapped_column(Text, ForeignKey("users.id", ondelete="CASCADE"))
    added_by: Mapped[str | None] = mapped_column(Text, ForeignKey("users.id", ondelete="SET NULL"))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        PrimaryKeyConstraint("skill_tree_id", "mentor_id", name="tree_mentors_pkey"),
        Index("idx_tree_mentors_mentor", "mentor_id"),
        {"comment": MENTORS_COMMENT},
    )


class ProjectRubric(Base):
    """A PROJECT skill's rubric (skilltree.reviews.schemas.Rubric, as stored)."""

    __tablename__ = "project_rubrics"
    __table_args__ = ({"comment": RUBRICS_COMMENT},)

    skill_id: Mapped[str] = mapped_column(
        Text, ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True
    )
    rubric: Mapped[dict[str, Any]] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


PENDING = text("status = 'PENDING'")


class ProjectSubmission(Base):
    """A learner's project submission: its place in the review queue, then its one decision."""

    __tablename__ = "project_submissions"

    user_id: Mapped[str] = mapped_column(Text, ForeignKey("users.id", ondelete="CASCADE"))
    id: Mapped[str] = mapped_column(Text)
    skill_id: Mapped[str] = mapped_column(Text)
    skill_tree_id: Mapped[str] = mapped_column(Text)
    round: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(Text)
    content: Mapped[dict[str, Any]] = mapped_column(JSONB)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    claimable_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[str | None] = mapped_column(
        Text, ForeignKey("users.id", ondelete="SET NULL")
    )
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by: Mapped[str | None] = mapped_column(
        Text, ForeignKey("users.id", ondelete="SET NULL")
    )
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    feedback: Mapped[str | None] = mapped_column(Text)
    scores: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    points: Mapped[float | None] = mapped_column(Float)
    completion: Mapped[dict[str, Any] | None] = mapped_column(JSONB)

    __table_args__ = (
        PrimaryKeyConstraint("user_id", "id", name="project_submissions_pkey"),
        UniqueConstraint("user_id", "skill_id", "round", name="project_submissions_round_key"),
        ForeignKeyConstraint(
            ["skill_id", "skill_tree_id"],
            ["skills.id", "skills.skill_tree_id"],
            name="project_submissions_skill_tree_fkey",
            ondelete="CASCADE",
            onupdate="CASCADE",
        ),
        Index(
            "project_submissions_one_pending",
            "user_id",
            "skill_id",
            unique=True,
            postgresql_where=PENDING,
        ),
        Index(
            "project_submissions_one_approved",
            "user_id",
            "skill_id",
            unique=True,
            postgresql_where=text("status = 'APPROVED'"),
        ),
        Index(
            "idx_project_submissions_queue",
            "submitted_at",
            "id",
            "claimable_at",
            postgresql_where=PENDING,
        ),
        Index(
            "idx_project_submissions_tree_queue",
            "skill_tree_id",
            "submitted_at",
            "id",
            "claimable_at",
            postgresql_where=PENDING,
        ),
        Index("idx_project_submissions_id", "id"),
        {"comment": SUBMISSIONS_COMMENT},
    )
