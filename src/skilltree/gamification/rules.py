"""The pure rules of gamification: the level curve, daily streaks, achievement criteria."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

XP_PER_LEVEL_STEP = 100


def level_for_xp(total_xp: int) -> int:
    """The level reached with `total_xp`: level n starts at 100·(n-1)² XP (0, 100, 400, 900...)."""
    return 1 + math.isqrt(max(total_xp, 0) // XP_PER_LEVEL_STEP)


def xp_for_level(level: int) -> int:
    """The XP at which `level` starts."""
    return XP_PER_LEVEL_STEP * (level - 1) ** 2


def learner_zone(timezone: str | None) -> ZoneInfo:
    """The learner's time zone (UTC when unset or unknown)."""
    try:
        return ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_day(moment: datetime, timezone: str | None) -> date:
    """The calendar day `moment` falls on for a learner in `timezone`."""
    return moment.astimezone(learner_zone(timezone)).date()


def next_streak(current: int, last_active: date | None, today: date) -> int:
    """The daily streak after activity on `today`, given the streak and the last active day.

    Activity again on the same day keeps the streak; on the next day extends it; after a missed
    day it starts again at 1.
    """
    if last_active is None or current <= 0:
        return 1
    gap = (today - last_active).days
    if gap <= 0:
        return current
    return current + 1 if gap == 1 else 1


@dataclass(frozen=True)
class LearnerMeasures:
    """What achievement criteria are measured against."""

    skills_completed: int = 0
    total_xp: int = 0
    best_streak: int = 0
    trees_completed: int = 0
    milestones_reached: int = 0
    skills_by_category: dict[str, int] = field(default_factory=dict)


def measure(criteria: dict[str, Any], learner: LearnerMeasures) -> float:
    """The learner's value of the measure `criteria` names (validated AchievementCriteria)."""
    kind = criteria["type"]
    if kind == "skills_in_category":
        return learner.skills_by_category.get(criteria["additionalParams"]["category"], 0)
    values = {
        "skill_completion_count": learner.skills_completed,
        "xp_threshold": learner.total_xp,
        "streak_days": learner.best_streak,
        "trees_completed": learner.trees_completed,
        "milestones_reached": learner.milestones_reached,
    }
    return values[kind]


def is_met(criteria: dict[str, Any], learner: LearnerMeasures) -> bool:
    """Whether the learner meets `criteria` (its measure has reached the threshold)."""
    return measure(criteria, learner) >= float(criteria["threshold"])
