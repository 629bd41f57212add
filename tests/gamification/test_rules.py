"""The level curve, daily streaks and achievement criteria, without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skilltree.gamification import rules


@pytest.mark.parametrize(
    ("xp", "level"), [(0, 1), (99, 1), (100, 2), (399, 2), (400, 3), (900, 4), (10_000, 11)]
)
def test_level_curve(xp: int, level: int) -> None:
    assert rules.level_for_xp(xp) == level


@given(st.integers(0, 10_000_000))
def test_level_starts_at_its_xp(xp: int) -> None:
    level = rules.level_for_xp(xp)
    assert rules.xp_for_level(level) <= xp < rules.xp_for_level(level + 1)


@pytest.mark.parametrize(
    ("current", "last", "today", "expected"),
    [
        (0, None, date(2026, 1, 1), 1),
        (3, date(2026, 1, 1), date(2026, 1, 1), 3),
        (3, date(2026, 1, 1), date(2026, 1, 2), 4),
        (3, date(2026, 1, 1), date(2026, 1, 3), 1),
        (0, date(2026, 1, 1), date(2026, 1, 1), 1),
        (5, date(2025, 12, 31), date(2026, 1, 1), 6),
    ],
)
def test_next_streak(current: int, last: date | None, today: date, expected: int) -> None:
    assert rules.next_streak(current, last, today) == expected


def test_local_day_uses_the_learner_zone() -> None:
    moment = datetime(2026, 3, 1, 11, 30, tzinfo=UTC)
    assert rules.local_day(moment, "Pacific/Kiritimati") == date(2026, 3, 2)  # UTC+14
    assert rules.local_day(moment, "Pacific/Niue") == date(2026, 3, 1)  # UTC-11
    assert rules.local_day(moment, "Not/AZone") == date(2026, 3, 1)
    assert rules.local_day(moment, None) == date(2026, 3, 1)


def test_criteria_measures() -> None:
    learner = rules.LearnerMeasures(
        skills_completed=10,
        total_xp=450,
        best_streak=7,
        trees_completed=1,
        milestones_reached=2,
        skills_by_category={"web-development": 5},
    )
    assert rules.is_met({"type": "skill_completion_count", "threshold": 10}, learner)
    assert not rules.is_met({"type": "skill_completion_count", "threshold": 11}, learner)
    assert rules.is_met({"type": "xp_threshold", "threshold": 450}, learner)
    assert rules.is_met({"type": "streak_days", "threshold": 7}, learner)
    assert rules.is_met({"type": "trees_completed", "threshold": 1}, learner)
    assert not rules.is_met({"type": "milestones_reached", "threshold": 3}, learner)
    in_category = {
        "type": "skills_in_category",
        "threshold": 5,
        "additionalParams": {"category": "web-development"},
    }
    assert rules.is_met(in_category, learner)
    in_category["additionalParams"] = {"category": "design"}
    assert not rules.is_met(in_category, learner)
