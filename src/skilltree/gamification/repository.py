"""Gamification queries: earned achievements, the leaderboard and a learner's rank."""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from skilltree.models import (
    Achievement,
    User,
    UserAchievement,
    UserProfile,
    XpHistogram,
    XpHistogramPending,
)


def achievements_with_earning(
    session: Session, user_id: str
) -> list[tuple[Achievement, UserAchievement | None]]:
    """Every active achievement with the learner's earning of it (None if not earned)."""
    return [
        (achievement, earning)
        for achievement, earning in session.execute(
            select(Achievement, UserAchievement)
            .outerjoin(
                UserAchievement,
                (UserAchievement.achievement_id == Achievement.id)
                & (UserAchievement.user_id == user_id),
            )
            .where(Achievement.is_active)
            .order_by(Achievement.name, Achievement.id)
        ).tuples()
    ]


def top_learners(session: Session, limit: int) -> list[tuple[str, int, int]]:
    """(username, level, XP) of the `limit` learners with the most XP (ties by username)."""
    return [
        (username, level, xp)
        for username, level, xp in session.execute(
            select(User.username, UserProfile.current_level, UserProfile.total_xp)
            .join(User, User.id == UserProfile.user_id)
            .order_by(UserProfile.total_xp.desc(), User.username)
            .limit(limit)
        ).tuples()
    ]


def rank_of_xp(session: Session, total_xp: int) -> int:
    """The competition rank of a learner with `total_xp`: 1 + learners with more XP, summed over
    the XP histogram and its pending changes (one row per distinct XP value above, not one per
    learner). XP changes reach the histogram at commit: this transaction's own come first."""
    session.execute(text("SET CONSTRAINTS user_profiles_xp_histogram_update IMMEDIATE"))
    above = select(func.coalesce(func.sum(XpHistogram.learners), 0)).where(
        XpHistogram.total_xp > total_xp
    )
    pending = select(func.coalesce(func.sum(XpHistogramPending.learners), 0)).where(
        XpHistogramPending.total_xp > total_xp
    )
    counted = session.scalar(select(above.scalar_subquery() + pending.scalar_subquery()))
    return 1 + int(counted or 0)
