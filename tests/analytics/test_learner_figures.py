"""A learner's own figures: the activity calendar in their time zone, and their pace."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from skilltree.analytics import repository, service
from skilltree.db.rls import act_as_learner, act_as_owner
from skilltree.errors import NotFound
from skilltree.models import User, UserProfile, UserSkillTreeProgress
from tests.analytics.conftest import Kind, World, add_event, at, enrol
from tests.factories import make_user

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _learner(session: Session, zone: str | None) -> User:
    user = make_user(session)
    session.add(UserProfile(user_id=user.id, timezone=zone))
    session.flush()
    return user


def _days(session: Session, user: User, now: datetime = NOW) -> dict[date, tuple[bool, int]]:
    calendar = service.calendar(session, user, now=now)
    assert len(calendar.days) == 365
    return {d.day: (d.active, d.xp) for d in calendar.days if d.events or d.xp}


def test_utc_plus_14_moves_late_utc_evenings_to_the_next_day(
    session: Session, world: World
) -> None:
    learner = _learner(session, "Pacific/Kiritimati")  # UTC+14, no daylight saving
    skill = world.skills["s1"]
    add_event(session, learner, Kind.START, at(1, 9, 59), skill=skill)  # 1st 23:59 there
    add_event(session, learner, Kind.COMPLETE, at(1, 10, 0), skill=skill, xp=10)  # 2nd 00:00
    add_event(session, learner, Kind.ACHIEVEMENT, at(1, 10, 1), xp=50)  # XP, not activity
    calendar = service.calendar(session, learner, now=NOW)  # the 3rd, 02:00 there
    assert calendar.time_zone == "Pacific/Kiritimati"
    assert calendar.days[-1].day == date(2026, 3, 3)
    assert _days(session, learner) == {
        date(2026, 3, 1): (True, 0),
        date(2026, 3, 2): (True, 60),
    }
    assert (calendar.active_days, calendar.xp) == (2, 60)


def test_utc_minus_11_moves_utc_mornings_to_the_day_before(session: Session, world: World) -> None:
    learner = _learner(session, "Pacific/Pago_Pago")  # UTC-11
    skill = world.skills["s1"]
    add_event(session, learner, Kind.COMPLETE, at(2, 10, 59), skill=skill, xp=10)  # 1st 23:59
    add_event(session, learner, Kind.ACTIVITY, at(2, 11, 0), skill=skill)  # 2nd 00:00 there
    calendar = service.calendar(session, learner, now=NOW)  # the 2nd, 01:00 there
    assert calendar.days[-1].day == date(2026, 3, 2)
    assert _days(session, learner) == {
        date(2026, 3, 1): (True, 10),
        date(2026, 3, 2): (True, 0),
    }


def test_the_calendar_covers_365_local_days_and_no_more(session: Session, world: World) -> None:
    learner = _learner(session, "Pacific/Kiritimati")
    first_day = date(2026, 3, 3) - timedelta(days=364)
    midnight_there = datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC)
    skill = world.skills["s1"]
    add_event(session, learner, Kind.START, midnight_there - timedelta(hours=14), skill=skill)
    add_event(session, learner, Kind.START, midnight_there - timedelta(hours=14, minutes=1),
              skill=skill)  # fmt: skip
    assert _days(session, learner) == {first_day: (True, 0)}


@pytest.mark.parametrize("zone", [None, "", "Mars/Olympus_Mons"])
def test_no_or_an_unknown_time_zone_means_utc(
    session: Session, world: World, zone: str | None
) -> None:
    learner = _learner(session, zone)
    add_event(session, learner, Kind.START, at(1, 23, 59), skill=world.skills["s1"])
    calendar = service.calendar(session, learner, now=NOW)
    assert calendar.time_zone == "UTC"
    assert _days(session, learner) == {date(2026, 3, 1): (True, 0)}


def test_the_calendar_shows_only_the_learners_own_days(session: Session, world: World) -> None:
    l1, l3 = world.learners["l1"], world.learners["l3"]
    assert _days(session, l1) == {date(2026, 3, 1): (True, 10), date(2026, 3, 2): (True, 0)}
    # As l3, even a query for l1's events sees none: row-level security.
    act_as_learner(session, l3.id)
    rows = repository.calendar(session, l1.id, "UTC", NOW, 365)
    act_as_owner(session)
    assert not any(row["events"] or row["xp"] for row in rows)


def test_the_calendar_over_http(api: TestClient, world: World) -> None:
    answer = api.get("/api/v1/analytics/me/calendar", headers=world.headers(world.learners["l3"]))
    assert answer.status_code == 200
    body = answer.json()
    assert len(body["days"]) == 365
    assert (body["activeDays"], body["xp"], body["timeZone"]) == (0, 0, "UTC")


def test_pace_against_the_median_of_five_enrolments(session: Session, world: World) -> None:
    tree = world.tree
    started = datetime(2026, 3, 1, tzinfo=UTC)
    others = [make_user(session) for _ in range(2)]
    for user, done in zip(others, (4, 10), strict=True):
        enrol(session, user, tree, started, skills_completed=done, started_at=started)
    # l1, l2, l3 (conftest) started on the 1st/2nd; make every start the 1st for round numbers
    for key, done in (("l1", 1), ("l2", 2), ("l3", 3)):
        enrolment = session.scalars(
            select(UserSkillTreeProgress).where(
                UserSkillTreeProgress.user_id == world.learners[key].id
            )
        ).one()
        enrolment.started_at, enrolment.skills_completed = started, done
    session.flush()
    now = datetime(2026, 3, 11, tzinfo=UTC)  # 10 days: paces 0.1, 0.2, 0.3, 0.4, 1.0
    pace = service.pace(session, others[0], "fixed", now=now)
    assert pace.skills_per_day == pytest.approx(0.4)
    assert pace.median_skills_per_day == pytest.approx(0.3)
    assert pace.relative_to_median == pytest.approx(4 / 3)
    assert pace.days_to_finish == pytest.approx((3 - 4) / 0.4)


def test_pace_has_no_median_under_five_enrolments(session: Session, world: World) -> None:
    pace = service.pace(session, world.learners["l2"], "fixed", now=at(3, 0, 10))
    assert pace.skills_per_day == pytest.approx(2.0)  # 2 skills in a day
    assert pace.median_skills_per_day is None
    assert pace.relative_to_median is None


def test_pace_needs_an_enrolment(api: TestClient, world: World) -> None:
    answer = api.get(
        "/api/v1/analytics/me/trees/fixed/pace", headers=world.headers(world.other_author)
    )
    assert answer.status_code == 404


def test_pace_over_http(api: TestClient, world: World) -> None:
    answer = api.get(
        "/api/v1/analytics/me/trees/fixed/pace", headers=world.headers(world.learners["l1"])
    )
    assert answer.status_code == 200
    assert answer.json()["skillsCompleted"] == 1


def test_pace_of_an_unknown_tree_is_not_found(session: Session, world: World) -> None:
    with pytest.raises(NotFound):
        service.pace(session, world.learners["l1"], "no-such-tree")
