"""An event happens at the time the engine is given (`now`), not when its transaction began: the
audit trail, the achievements it awards and the enrolment it makes say so, as its skill rows and
the streak do (the calendar counts events by that time, the streak by the same one)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from skilltree.models import Achievement
from skilltree.progress import service
from skilltree.progress.schemas import CompleteRequest
from tests.factories import make_user
from tests.progress.conftest import Curriculum

FIRST = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
SECOND = FIRST + timedelta(days=1, hours=2)


def test_every_record_of_an_event_carries_the_events_time(
    session: Session, curriculum: Curriculum, monkeypatch: pytest.MonkeyPatch
) -> None:
    session.add(
        Achievement(
            name="First Steps",
            description="d",
            criteria={"type": "skill_completion_count", "threshold": 1},
            xp_reward=100,  # 50 for html + 100: a level-up too
        )
    )
    user = make_user(session)
    monkeypatch.setattr(service, "_now", lambda: FIRST)
    service.enrol(session, user, "frontend")
    service.start(session, user, curriculum.id("html"))
    service.complete(session, user, curriculum.id("html"), CompleteRequest(minutes_spent=30))
    monkeypatch.setattr(service, "_now", lambda: SECOND)
    service.record_activity(session, user, curriculum.id("css"), 20)
    service.skip(session, user, curriculum.id("tips"))

    events = session.execute(
        text("SELECT kind::text, occurred_at FROM progress_events WHERE user_id = :u ORDER BY id"),
        {"u": user.id},
    ).all()
    kinds = [kind for kind, _ in events]
    assert {"ENROLL", "UNLOCK", "START", "COMPLETE", "ACHIEVEMENT", "LEVEL_UP"} <= set(
        kinds[: kinds.index("ACTIVITY")]
    )
    at = kinds.index("ACTIVITY")
    assert [when for _, when in events] == [FIRST] * at + [SECOND] * (len(events) - at)
    assert kinds[at:] == ["ACTIVITY", "SKIP", "UNLOCK"]  # skipping tips frees pro

    earned_at, enrolled_at = session.execute(
        text(
            "SELECT (SELECT earned_at FROM user_achievements WHERE user_id = :u),"
            " (SELECT created_at FROM user_skill_tree_progress WHERE user_id = :u)"
        ),
        {"u": user.id},
    ).one()
    assert (earned_at, enrolled_at) == (FIRST, FIRST)
