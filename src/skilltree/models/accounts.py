"""Users, their profiles and their login sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Text,
    func,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, INET, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from skilltree.db.base import AuditMixin, Base, IdMixin, LearnerIdMixin, TimestampMixin
from skilltree.models.enums import UserRole, pg_enum


class User(IdMixin, AuditMixin, Base):
    """A person with an account: a learner, an author or an admin."""

    __tablename__ = "users"

    # Deferred: the API's role may not read these two (db/schema/security.sql), so a query for
    # users leaves them out; the owner (CLI, tests) loads them when they are used.
    email: Mapped[str] = mapped_column(Text, unique=True, deferred=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    password_hash: Mapped[str] = mapped_column(Text, deferred=True)
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    avatar_url: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    email_verified: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    role: Mapped[UserRole] = mapped_column(pg_enum(UserRole), server_default=UserRole.LEARNER.value)

    profile: Mapped[UserProfile | None] = relationship(back_populates="user", lazy="raise")

    __table_args__ = (
        Index("idx_user_email", "email"),
        Index("idx_user_username", "username"),
        Index("idx_user_activity", "is_active", "last_login_at"),
        # One name whatever its case: Maya_Chen and maya_chen cannot both exist.
        Index("users_username_lower_key", func.lower(literal_column("username")), unique=True),
        CheckConstraint("email = lower(email)", name="email_lowercase"),
    )


class UserProfile(TimestampMixin, Base):
    """A user's public profile, gamification totals and learning statistics."""

    __tablename__ = "user_profiles"

    user_id: Mapped[str] = mapped_column(
        Text, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    bio: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(200))
    website: Mapped[str | None] = mapped_column(Text)
    timezone: Mapped[str | None] = mapped_column(Text, server_default=text("'UTC'"))
    learning_goals: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default=text("'{}'::text[]")
    )
    interests: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"))
    preferences: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))

    total_xp: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    current_level: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    current_streak: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    max_streak: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_activity_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    skills_completed: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    hours_learned: Mapped[float] = mapped_column(Float, server_default=text("0"))
    trees_started: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    trees_completed: Mapped[int] = mapped_column(Integer, server_default=text("0"))

    user: Mapped[User] = relationship(back_populates="profile", lazy="raise")

    __table_args__ = (
        Index("idx_profile_xp", "total_xp"),
        Index("idx_profile_level", "current_level"),
        Index("idx_profile_activity", "last_activity_at"),
        CheckConstraint("total_xp >= 0", name="total_xp_non_negative"),
        CheckConstraint("current_level >= 1", name="current_level_positive"),
        CheckConstraint("current_streak >= 0", name="current_streak_non_negative"),
        CheckConstraint("max_streak >= current_streak", name="max_streak_at_least_current"),
        CheckConstraint("skills_completed >= 0", name="skills_completed_non_negative"),
        CheckConstraint("hours_learned >= 0", name="hours_learned_non_negative"),
        CheckConstraint("trees_started >= 0", name="trees_started_non_negative"),
        CheckConstraint("trees_completed >= 0", name="trees_completed_non_negative"),
    )


class UserSession(LearnerIdMixin, Base):
    """A login session; the bearer token is stored only as its SHA-256 hash."""

    __tablename__ = "user_sessions"

    user_id: Mapped[str] = mapped_column(Text, ForeignKey("users.id", ondelete="CASCADE"))
    # Deferred: the API's role may not read it (db/schema/security.sql); it finds a session
    # through `account_session(token_hash, user)`.
    token_hash: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    device_info: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    ip_address: Mapped[str | None] = mapped_column(INET)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_activity_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))

    __table_args__ = (
        PrimaryKeyConstraint("user_id", "id", name="user_sessions_pkey"),
        Index("idx_user_session_token", "token_hash"),
        Index("idx_user_session_active", "user_id", "is_active"),
        Index("idx_session_activity", "last_activity_at"),
        CheckConstraint("is_active OR ended_at IS NOT NULL", name="ended_sessions_have_ended_at"),
    )
