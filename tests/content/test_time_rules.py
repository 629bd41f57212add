"""The heartbeat rules in SQL (`content_heartbeat`): any sequence of heartbeats, at any times,
retried or out of order, never logs more than the wall-clock time they span, more than the
bound per heartbeat, nor more than the module's cap; and exactly what each one added."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from skilltree.db.rls import act_as_learner, act_as_owner
from skilltree.models import UserProfile, UserSkillModuleProgress
from tests.content.conftest import module
from tests.factories import make_category, make_skill, make_tree, make_user

BASE = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
BEAT = text(
    "SELECT content_heartbeat(:user, :skill, :module, :now, false, :gap,"
    " CAST(:factor AS numeric))::text"
)


def beat(session: Session, user: str, skill: str, now: datetime, gap: int, factor: str) -> Any:
    answer = session.execute(
        BEAT,
        {"user": user, "skill": skill, "module": "1", "now": now, "gap": gap, "factor": factor},
    ).scalar_one()
    return orjson.loads(answer)


def seconds_of(session: Session, user: str, skill: str) -> Decimal:
    return session.execute(
        select(UserSkillModuleProgress.seconds_spent).where(
            UserSkillModuleProgress.user_id == user, UserSkillModuleProgress.skill_id == skill
        )
    ).scalar_one()


# A heartbeat: a time (microseconds from BASE, two days either way), or a retry of the last one.
HEARTBEATS = st.lists(
    st.one_of(st.integers(-172_800_000_000, 172_800_000_000), st.just("retry")),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    heartbeats=HEARTBEATS,
    gap=st.integers(0, 120),
    factor=st.sampled_from(["0", "0.5", "1", "2", "3.7"]),
    estimate=st.one_of(st.integers(0, 30), st.just(0.5)),
)
def test_any_heartbeats_log_at_most_the_wall_clock_span_and_the_caps(
    session: Session, heartbeats: list[int | str], gap: int, factor: str, estimate: float
) -> None:
    with session.begin_nested() as example:
        tree = make_tree(session, make_category(session))
        skill = make_skill(
            session, tree, content={"type": "structured", "modules": [module("M", estimate)]}
        ).id
        user = make_user(session).id
        act_as_learner(session, user)
        cap = math.floor(Decimal(factor) * Decimal(str(estimate)) * 60)
        times: list[datetime] = []
        logged = Decimal(0)
        for offset in heartbeats:
            if offset == "retry":
                now = times[-1] if times else BASE
            else:
                now = BASE + timedelta(microseconds=int(offset))
            times.append(now)
            answer = beat(session, user, skill, now, gap, factor)
            assert "refused" not in answer, answer
            spent = seconds_of(session, user, skill)
            added = spent - logged
            logged = spent
            assert 0 <= added <= gap
            assert spent <= cap
            # Never more than the wall-clock time from the first heartbeat to the latest one.
            span = Decimal((max(times) - times[0]) // timedelta(microseconds=1)) / 10**6
            assert spent <= span
            assert spent <= Decimal((max(times) - min(times)) // timedelta(microseconds=1)) / 10**6
        act_as_owner(session)
        hours = session.execute(
            select(UserProfile.hours_learned).where(UserProfile.user_id == user)
        ).scalar_one()
        assert hours == pytest.approx(float(logged) / 3600)
        example.rollback()


def test_only_the_transactions_learner_logs_their_time(session: Session) -> None:
    tree = make_tree(session, make_category(session))
    skill = make_skill(
        session, tree, content={"type": "structured", "modules": [module("M", 5)]}
    ).id
    someone, other = make_user(session).id, make_user(session).id
    act_as_learner(session, other)
    with pytest.raises(Exception, match="only learner"), session.begin_nested():
        beat(session, someone, skill, BASE, 60, "2")
