"""The rules in PostgreSQL (migration 0014): level curve, streaks in the learner's zone,
achievement measures, learner difficulty; and the Python copies kept for the seed agree."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text

from skilltree.documents import StrugglingIndicators
from skilltree.gamification import rules
from skilltree.progress.service import LearnerMeasures

# These examples only read: sharing the test's connection between them is safe.
READ_ONLY = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


def sql(connection: Connection, expression: str, **values: Any) -> Any:
    return connection.execute(text(f"SELECT {expression}"), values).scalar_one()


@pytest.mark.parametrize(
    ("xp", "level"), [(0, 1), (99, 1), (100, 2), (399, 2), (400, 3), (900, 4), (10_000, 11)]
)
def test_level_curve(connection: Connection, xp: int, level: int) -> None:
    assert sql(connection, "level_for_xp(:xp)", xp=xp) == level
    assert rules.level_for_xp(xp) == level


@READ_ONLY
@given(xp=st.integers(-10, 2_000_000_000))
def test_the_python_level_curve_agrees_with_sql(connection: Connection, xp: int) -> None:
    level = sql(connection, "level_for_xp(:xp)", xp=xp)
    assert level == rules.level_for_xp(xp)
    assert rules.xp_for_level(level) <= max(xp, 0) < rules.xp_for_level(level + 1)


def at(moment: str) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("current", "last", "now", "zone", "expected"),
    [
        (0, None, "2026-01-01T12:00", "UTC", 1),
        (3, "2026-01-01T08:00", "2026-01-01T20:00", "UTC", 3),
        (3, "2026-01-01T08:00", "2026-01-02T20:00", "UTC", 4),
        (3, "2026-01-01T08:00", "2026-01-03T08:00", "UTC", 1),
        (0, "2026-01-01T08:00", "2026-01-01T09:00", "UTC", 1),
        (5, "2025-12-31T12:00", "2026-01-01T12:00", "UTC", 6),
        # 09:00 and 11:00 UTC are 23:00 and 01:00 the next day at UTC+14.
        (1, "2026-03-01T09:00", "2026-03-01T11:00", "Pacific/Kiritimati", 2),
        (1, "2026-03-01T09:00", "2026-03-01T11:00", "Not/AZone", 1),
        (1, "2026-03-01T09:00", "2026-03-01T11:00", None, 1),
    ],
)
def test_streak_after_activity(
    connection: Connection,
    current: int,
    last: str | None,
    now: str,
    zone: str | None,
    expected: int,
) -> None:
    found = sql(
        connection,
        "streak_after_activity(:current, :last, :now, :zone)",
        current=current,
        last=at(last) if last else None,
        now=at(now),
        zone=zone,
    )
    assert found == expected


def test_local_days_and_the_streak_as_shown(connection: Connection) -> None:
    def day(zone: str | None) -> str:
        return str(
            sql(connection, "learner_local_day(:at, :zone)", at=at("2026-03-01T11:30"), zone=zone)
        )

    assert day("Pacific/Kiritimati") == "2026-03-02"  # UTC+14
    assert day("Pacific/Niue") == "2026-03-01"  # UTC-11
    assert day("Not/AZone") == "2026-03-01"
    assert day(None) == "2026-03-01"
    shown = "streak_as_of(3, :last, :now, 'UTC')"
    assert sql(connection, shown, last=at("2026-03-01T10:00"), now=at("2026-03-02T23:00")) == 3
    assert sql(connection, shown, last=at("2026-03-01T10:00"), now=at("2026-03-03T00:30")) == 0


CRITERIA = st.sampled_from(
    [
        "skill_completion_count",
        "xp_threshold",
        "streak_days",
        "trees_completed",
        "milestones_reached",
        "hours_learned",
        "skills_mastered",
    ]
)


@READ_ONLY
@given(
    kind=CRITERIA,
    threshold=st.integers(0, 50),
    values=st.tuples(*[st.integers(0, 60)] * 5),
    quarter_hours=st.integers(0, 240),
)
def test_python_measures_agree_with_sql(
    connection: Connection, kind: str, threshold: int, values: tuple[int, ...], quarter_hours: int
) -> None:
    skills, xp, streak, trees, milestones = values
    hours = quarter_hours / 4
    criteria = {"type": kind, "threshold": threshold}
    measured = sql(
        connection,
        "achievement_measure(CAST(:criteria AS jsonb), 'nobody', :s, :x, :b, :t, :m, :h)",
        criteria=json.dumps(criteria),
        s=skills,
        x=xp,
        b=streak,
        t=trees,
        m=milestones,
        h=hours,
    )
    learner = LearnerMeasures(
        skills_completed=skills,
        total_xp=xp,
        best_streak=streak,
        trees_completed=trees,
        milestones_reached=milestones,
        hours_learned=hours,
    )
    assert measured == rules.measure(criteria, learner)
    assert (measured >= threshold) == rules.is_met(criteria, learner)


@pytest.mark.parametrize(
    ("minutes", "attempts", "estimate", "status", "indicators", "engagement"),
    [
        (0, 0, 60, "IN_PROGRESS", {"attemptsOverEstimate": 0, "timeRatio": 0, "flags": []}, 0),
        (
            30,
            1,
            60,
            "IN_PROGRESS",
            {"attemptsOverEstimate": 0.5, "timeRatio": 0.5, "flags": []},
            0.5,
        ),
        (
            120,
            5,
            60,
            "IN_PROGRESS",
            {
                "attemptsOverEstimate": 2.5,
                "timeRatio": 2,
                "flags": ["over_time", "many_attempts", "stuck"],
            },
            1,
        ),
        (
            120,
            5,
            60,
            "COMPLETED",
            {"attemptsOverEstimate": 2.5, "timeRatio": 2, "flags": ["over_time", "many_attempts"]},
            1,
        ),
        (15, 1, None, "IN_PROGRESS", {"attemptsOverEstimate": 1, "flags": []}, 0.75),
        (0, 0, None, "COMPLETED", {"attemptsOverEstimate": 0, "flags": []}, 1),
    ],
)
def test_learner_difficulty(
    connection: Connection,
    minutes: int,
    attempts: int,
    estimate: int | None,
    status: str,
    indicators: dict[str, Any],
    engagement: float,
) -> None:
    found = connection.execute(
        text(
            "SELECT indicators, engagement FROM learner_difficulty(:m, :a, :e,"
            ' CAST(:s AS "SkillProgressStatus"))'
        ),
        {"m": minutes, "a": attempts, "e": estimate, "s": status},
    ).one()
    assert found.indicators == indicators
    assert found.engagement == pytest.approx(engagement)
    StrugglingIndicators.model_validate(found.indicators)


@READ_ONLY
@given(
    minutes=st.integers(0, 10_000),
    attempts=st.integers(0, 500),
    estimate=st.none() | st.integers(0, 2_000),
    status=st.sampled_from(["AVAILABLE", "IN_PROGRESS", "COMPLETED", "SKIPPED"]),
)
def test_learner_difficulty_is_always_a_valid_document_and_score(
    connection: Connection, minutes: int, attempts: int, estimate: int | None, status: str
) -> None:
    found = connection.execute(
        text(
            "SELECT indicators, engagement FROM learner_difficulty(:m, :a, :e,"
            ' CAST(:s AS "SkillProgressStatus"))'
        ),
        {"m": minutes, "a": attempts, "e": estimate, "s": status},
    ).one()
    StrugglingIndicators.model_validate(found.indicators)
    assert 0 <= found.engagement <= 1
