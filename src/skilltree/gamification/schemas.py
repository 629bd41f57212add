"""Gamification API shapes (camelCase JSON)."""

from __future__ import annotations

from datetime import datetime

from skilltree.models import AchievementCategory, AchievementRarity
from skilltree.schemas import CamelModel


class AchievementOut(CamelModel):
    """An achievement; `progress` (0 to 100) is how far the learner is toward it."""

    id: str
    name: str
    description: str
    category: AchievementCategory
    rarity: AchievementRarity
    xp_reward: int
    badge_icon: str | None
    badge_color: str | None
    progress: float
    earned_at: datetime | None = None


class MyAchievements(CamelModel):
    """What the learner has earned, and the visible achievements still ahead."""

    earned: list[AchievementOut]
    available: list[AchievementOut]


class LeaderboardEntry(CamelModel):
    """A place on the leaderboard: only the username, level and XP are public."""

    rank: int
    username: str
    current_level: int
    total_xp: int


class Leaderboard(CamelModel):
    """The top learners by XP, and the caller's own place when signed in."""

    entries: list[LeaderboardEntry]
    me: LeaderboardEntry | None = None
