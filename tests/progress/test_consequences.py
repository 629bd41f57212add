"""What a completion causes: levels, streaks in the learner's time zone, achievements."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from skilltree.models import Achievement, ProgressEvent, User, UserAchievement, UserProfile
from skilltree.progress import service
from tests.progress.conftest import Curriculum


def complete(client: TestClient, curriculum: Curriculum, key: str, learner: dict[str, str]) -> Any:
    response = client.post(
        f"/api/v1/skills/{curriculum.id(key)}/complete", json={}, headers=learner
    )
    assert response.status_code == 200, response.text
    return response.json()


def add_achievement(session: Session, name: str, criteria: dict[str, Any], reward: int) -> None:
    session.add(Achievement(name=name, description=name, criteria=criteria, xp_reward=reward))
    session.commit()


def test_levels_follow_the_xp_curve(
    client: TestClient, curriculum: Curriculum, learner: dict[str, str]
) -> None:
    first = complete(client, curriculum, "html", learner)  # 50 XP
    assert first["profile"]["currentLevel"] == 1
    assert first["levelUp"] is False
    second = complete(client, curriculum, "css", learner)  # 125 XP: level 2 starts at 100
    assert second["profile"]["currentLevel"] == 2
    assert second["levelUp"] is True


def test_achievements_are_awarded_once_and_rewards_can_earn_more(
    client: TestClient, curriculum: Curriculum, learner: dict[str, str], session: Session
) -> None:
    add_achievement(session, "First Steps", {"type": "skill_completion_count", "threshold": 1}, 60)
    add_achievement(session, "Centurion", {"type": "xp_threshold", "threshold": 100}, 5)
    add_achievement(session, "Ten", {"type": "skill_completion_count", "threshold": 10}, 500)
    done = complete(client, curriculum, "html", learner)
    # 50 for HTML + 60 for First Steps = 110, which crosses Centurion's 100: +5.
    assert sorted(a["name"] for a in done["achievements"]) == ["Centurion", "First Steps"]
    assert done["xpAwarded"] == 115
    assert done["profile"]["totalXp"] == 115
    assert done["profile"]["currentLevel"] == 2
    later = complete(client, curriculum, "css", learner)
    assert later["achievements"] == []
    earned = session.scalars(select(UserAchievement)).all()
    assert len(earned) == 2
    first_steps = next(e for e in earned if e.metadata_ and e.metadata_["value"] == 1)
    assert first_steps.metadata_["trigger"] == curriculum.id("html")


def test_category_milestone_and_tree_achievements(
    client: TestClient, curriculum: Curriculum, learner: dict[str, str], session: Session
) -> None:
    in_web = {
        "type": "skills_in_category",
        "threshold": 2,
        "additionalParams": {"category": "web"},
    }
    add_achievement(session, "Webby", in_web, 0)
    add_achievement(session, "Landmark", {"type": "milestones_reached", "threshold": 1}, 0)
    assert complete(client, curriculum, "html", learner)["achievements"] == []
    assert [a["name"] for a in complete(client, curriculum, "css", learner)["achievements"]] == [
        "Webby"
    ]
    assert [a["name"] for a in complete(client, curriculum, "layout", learner)["achievements"]] == [
        "Landmark"
    ]


def test_my_achievements_lists_earned_and_progress_toward_the_rest(
    client: TestClient, curriculum: Curriculum, learner: dict[str, str], session: Session
) -> None:
    add_achievement(session, "First Steps", {"type": "skill_completion_count", "threshold": 1}, 0)
    add_achievement(session, "Four", {"type": "skill_completion_count", "threshold": 4}, 0)
    complete(client, curriculum, "html", learner)
    mine = client.get("/api/v1/me/achievements", headers=learner).json()
    assert [a["name"] for a in mine["earned"]] == ["First Steps"]
    assert mine["earned"][0]["earnedAt"] is not None
    assert [(a["name"], a["progress"]) for a in mine["available"]] == [("Four", 25.0)]


def at(moment: datetime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "_now", lambda: moment)


@pytest.mark.parametrize(
    ("zone", "first", "second", "streak"),
    [
        # UTC+14: 09:00 UTC and 11:00 UTC the same UTC day are 23:00 and 01:00 locally.
        ("Pacific/Kiritimati", "2026-03-01T09:00", "2026-03-01T11:00", 2),
        # UTC-11: 10:00 and 12:00 UTC on the same UTC day are 23:00 and 01:00 locally.
        ("Pacific/Niue", "2026-03-01T10:00", "2026-03-01T12:00", 2),
        # In UTC those are the same day.
        ("UTC", "2026-03-01T09:00", "2026-03-01T11:00", 1),
        # A whole local day missed resets the streak.
        ("UTC", "2026-03-01T09:00", "2026-03-03T09:00", 1),
    ],
)
def test_streaks_count_calendar_days_in_the_learner_zone(
    client: TestClient,
    curriculum: Curriculum,
    learner: dict[str, str],
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
    zone: str,
    first: str,
    second: str,
    streak: int,
) -> None:
    user = session.scalars(select(User).where(User.username == "learner")).one()
    session.get(UserProfile, user.id).timezone = zone  # type: ignore[union-attr]
    session.commit()
    at(datetime.fromisoformat(first).replace(tzinfo=UTC), monkeypatch)
    assert complete(client, curriculum, "html", learner)["profile"]["currentStreak"] == 1
    at(datetime.fromisoformat(second).replace(tzinfo=UTC), monkeypatch)
    done = complete(client, curriculum, "css", learner)
    assert done["profile"]["currentStreak"] == streak
    assert done["profile"]["maxStreak"] == streak


def test_a_streak_grows_day_by_day_and_reads_zero_after_a_missed_day(
    client: TestClient,
    curriculum: Curriculum,
    learner: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    day = datetime(2026, 5, 1, 12, tzinfo=UTC)
    for i, key in enumerate(["html", "css", "js"]):
        at(day + timedelta(days=i), monkeypatch)
        assert complete(client, curriculum, key, learner)["profile"]["currentStreak"] == i + 1
    at(day + timedelta(days=3, hours=11), monkeypatch)
    assert (
        client.get("/api/v1/me/progress", headers=learner).json()["profile"]["currentStreak"] == 3
    )
    at(day + timedelta(days=4, hours=1), monkeypatch)
    profile = client.get("/api/v1/me/progress", headers=learner).json()["profile"]
    assert profile["currentStreak"] == 0
    assert profile["maxStreak"] == 3


def test_my_progress_lists_my_trees(
    client: TestClient, curriculum: Curriculum, learner: dict[str, str]
) -> None:
    assert client.get("/api/v1/me/progress", headers=learner).json()["trees"] == []
    complete(client, curriculum, "html", learner)
    mine = client.get("/api/v1/me/progress", headers=learner).json()
    assert [t["tree"]["slug"] for t in mine["trees"]] == ["frontend"]
    assert mine["trees"][0]["progress"]["skillsCompleted"] == 1
    assert mine["profile"]["totalXp"] == 50


def test_level_up_and_achievement_events_are_recorded(
    client: TestClient, curriculum: Curriculum, learner: dict[str, str], session: Session
) -> None:
    add_achievement(session, "First Steps", {"type": "skill_completion_count", "threshold": 1}, 60)
    complete(client, curriculum, "html", learner)
    events = session.scalars(select(ProgressEvent).order_by(ProgressEvent.id)).all()
    kinds = [e.kind.value for e in events]
    assert kinds[-2:] == ["ACHIEVEMENT", "LEVEL_UP"]
    assert events[-2].xp_delta == 60
    assert events[-1].details == {"from": 1, "to": 2}
