"""Achievements as a learner sees them, and the leaderboard."""

from __future__ import annotations

from sqlalchemy.orm import Session

from skilltree.gamification import repository, rules
from skilltree.gamification.schemas import (
    AchievementOut,
    Leaderboard,
    LeaderboardEntry,
    MyAchievements,
)
from skilltree.models import User, UserProfile
from skilltree.progress import service as progress_service


def my_achievements(session: Session, user: User) -> MyAchievements:
    """The learner's earned achievements, and the visible ones ahead with their progress."""
    learner = progress_service.learner_measures(session, user.id)
    earned: list[AchievementOut] = []
    available: list[AchievementOut] = []
    for achievement, earning in repository.achievements_with_earning(session, user.id):
        threshold = float(achievement.criteria["threshold"])
        reached = rules.measure(achievement.criteria, learner)
        progress = 100.0 if earning or threshold <= 0 else min(100.0, 100 * reached / threshold)
        out = AchievementOut(
            id=achievement.id,
            name=achievement.name,
            description=achievement.description,
            category=achievement.category,
            rarity=achievement.rarity,
            xp_reward=achievement.xp_reward,
            badge_icon=achievement.badge_icon,
            badge_color=achievement.badge_color,
            progress=progress,
            earned_at=earning.earned_at if earning else None,
        )
        if earning:
            earned.append(out)
        elif achievement.is_visible:
            available.append(out)
    earned.sort(key=lambda a: (a.earned_at is None, a.earned_at), reverse=True)
    return MyAchievements(earned=earned, available=available)


def leaderboard(session: Session, limit: int, viewer: User | None) -> Leaderboard:
    """The top `limit` learners by XP (competition ranks), and the viewer's own place."""
    entries: list[LeaderboardEntry] = []
    for username, level, xp in repository.top_learners(session, limit):
        rank = entries[-1].rank if entries and entries[-1].total_xp == xp else len(entries) + 1
        entries.append(
            LeaderboardEntry(rank=rank, username=username, current_level=level, total_xp=xp)
        )
    me = None
    if viewer is not None:
        profile = session.get(UserProfile, viewer.id)
        xp, level = (profile.total_xp, profile.current_level) if profile else (0, 1)
        me = LeaderboardEntry(
            rank=repository.rank_of_xp(session, xp),
            username=viewer.username,
            current_level=level,
            total_xp=xp,
        )
    return Leaderboard(entries=entries, me=me)
