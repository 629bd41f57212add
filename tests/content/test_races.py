"""Heartbeats of one learner on one module racing on real connections: the second waits for the
first and adds only what passed since it; never the same time twice."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from skilltree.content import repository
from skilltree.db.rls import act_as_learner
from skilltree.models import UserProfile, UserSkillModuleProgress
from tests.committed import committed_rows
from tests.content.conftest import module
from tests.factories import make_category, make_skill, make_tree, make_user
from tests.locks import Writer, wait_until_blocked

OPENED = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@dataclass
class Race:
    learner_id: str
    skill_id: str


def beat_at(race: Race, now: datetime) -> Callable[[Session], Any]:
    def work(session: Session) -> Any:
        act_as_learner(session, race.learner_id)
        return repository.module_call(
            session,
            "heartbeat",
            race.learner_id,
            race.skill_id,
            "1",
            now,
            unpublished_ok=False,
            max_gap_seconds=60,
            time_factor=2,
        )

    return work


@pytest.fixture
def race(engine: Engine) -> Iterator[Race]:
    """Committed rows: a skill with a 10-minute module a learner opened at OPENED."""
    with committed_rows(engine) as session:
        learner = make_user(session)
        tree = make_tree(session, make_category(session))
        skill = make_skill(
            session, tree, content={"type": "structured", "modules": [module("M", 10)]}
        )
        session.commit()
        found = Race(learner.id, skill.id)
        beat_at(found, OPENED)(session)
        session.commit()
        yield found


def logged(engine: Engine, race: Race) -> tuple[Decimal, int, float]:
    with Session(engine) as session:
        seconds, beats = session.execute(
            select(UserSkillModuleProgress.seconds_spent, UserSkillModuleProgress.heartbeats).where(
                UserSkillModuleProgress.user_id == race.learner_id
            )
        ).one()
        hours = session.execute(
            select(UserProfile.hours_learned).where(UserProfile.user_id == race.learner_id)
        ).scalar_one()
    return seconds, beats, hours


@pytest.mark.parametrize("second_at", [30, 20])
def test_racing_heartbeats_never_count_the_same_time_twice(
    engine: Engine, race: Race, second_at: int
) -> None:
    # Two heartbeats 30 s after the module was opened (a retry, or a second tab), or one of
    # them older: the first holds the learner; the second waits, then adds nothing.
    first = Writer(engine, beat_at(race, OPENED + timedelta(seconds=30)), hold=True).start()
    assert first.worked.wait(20)
    second = Writer(engine, beat_at(race, OPENED + timedelta(seconds=second_at))).start()
    wait_until_blocked(engine, second.pid)  # on the learner the first one holds
    counted = first.finish()
    again = second.finish()
    assert first.error is None
    assert second.error is None
    assert counted["addedSeconds"] == 30
    assert again["addedSeconds"] == 0
    seconds, beats, hours = logged(engine, race)
    assert (seconds, beats) == (30, 3)
    assert hours == pytest.approx(30 / 3600)
