"""Accounts queries: users by login name, and the live session a token belongs to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from skilltree.models import User, UserSession


def find_user_by_email(session: Session, email: str) -> User | None:
    """The user whose (lower-cased) email is `email`, with their profile."""
    statement = select(User).options(joinedload(User.profile)).where(User.email == email)
    return session.scalars(statement).one_or_none()


def find_user_by_username(session: Session, username: str) -> User | None:
    """The user called `username` whatever its case, with their profile."""
    # Matches the unique index on lower(username) (migration 0022): at most one user.
    statement = (
        select(User)
        .options(joinedload(User.profile))
        .where(func.lower(User.username) == func.lower(username))
    )
    return session.scalars(statement).one_or_none()


def find_live_session(
    session: Session, token_hash: bytes, now: datetime
) -> tuple[UserSession, User] | None:
    """The active, unexpired session with `token_hash` and its active user (profile loaded)."""
    statement = (
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .options(joinedload(User.profile))
        .where(
            UserSession.token_hash == token_hash,
            UserSession.is_active,
            UserSession.expires_at > now,
            User.is_active,
        )
    )
    return session.execute(statement).tuples().one_or_none()
