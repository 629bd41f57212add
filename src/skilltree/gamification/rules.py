"""The level curve and achievement measures in Python, for code that has no database at hand
(`GET /me/achievements` shows progress toward badges with `measure`).

The progress engine applies these rules in PostgreSQL (`level_for_xp`, `achievement_measure` in
db/schema/gamification.sql; streaks only there); tests/gamification/test_rules.py checks that both
copies agree.
"""

from __future__ import annotations

import math
from typing import Any

from skilltree.progress.service import LearnerMeasures

XP_PER_LEVEL_STEP = 100


def level_for_xp(total_xp: int) -> int:
    """The level reached with `total_xp`: level n starts at 100·(n-1)² XP (0, 100, 400, 900...)."""
    return 1 + math.isqrt(max(total_xp, 0) // XP_PER_LEVEL_STEP)


def xp_for_level(level: int) -> int:
    """The XP at which `level` starts."""
    return XP_PER_LEVEL_STEP * (level - 1) ** 2


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
        "hours_learned": learner.hours_learned,
        "skills_mastered": learner.skills_mastered,
    }
    return values[kind]


def is_met(criteria: dict[str, Any], learner: LearnerMeasures) -> bool:
    """Whether the learner meets `criteria` (its measure has reached the threshold)."""
    return measure(criteria, learner) >= float(criteria["threshold"])
