"""The SQL engine (migration 0014) against the Python read side, the difficulty fields, and
who may call it."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from skilltree.db.rls import act_as_learner
from skilltree.documents import StrugglingIndicators
from skilltree.graph import dag
from skilltree.models import CompletionMethod, SkillProgressStatus, UserSkillProgress
from skilltree.progress import service as progress_service
from skilltree.progress import states
from tests.factories import add_dependency, make_category, make_skill, make_tree, make_user
from tests.progress.conftest import Curriculum

STATUSES = st.sampled_from([None, *SkillProgressStatus])


@st.composite
def learners_in_trees(draw: st.DrawFn) -> tuple[list[list[int]], list[bool], list[bool], list[Any]]:
    size = draw(st.integers(1, 8))
    needs = [
        sorted(draw(st.sets(st.integers(0, i - 1), max_size=3))) if i else [] for i in range(size)
    ]
    optional = [draw(st.booleans()) for _ in range(size)]
    active = [draw(st.booleans()) or i == size - 1 for i in range(size)]
    rows = [draw(STATUSES) for _ in range(size)]
    return needs, optional, active, rows


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(example=learners_in_trees())
def test_sql_states_and_missing_prerequisites_agree_with_the_python_rules(
    session: Session, example: tuple[list[list[int]], list[bool], list[bool], list[Any]]
) -> None:
    needs, optional, active, rows = example
    with session.begin_nested() as scope:
        tree = make_tree(session, make_category(session))
        skills = [
            make_skill(
                session, tree, name=f"S{i % 3}", is_optional=optional[i], is_active=active[i]
            )
            for i in range(len(needs))
        ]
        for i, prerequisites in enumerate(needs):
            for p in prerequisites:
                add_dependency(session, skills[i], skills[p])
        user = make_user(session)
        for skill, status in zip(skills, rows, strict=True):
            completed = status is SkillProgressStatus.COMPLETED
            if status is not None:
                session.add(
                    UserSkillProgress(
                        user_id=user.id,
                        skill_id=skill.id,
                        skill_tree_id=tree.id,
                        status=status,
                        completed_at=func.now() if completed else None,
                        completion_method=CompletionMethod.MANUAL if completed else None,
                    )
                )
        session.flush()
        # The read side's view: active skills and their active prerequisites only.
        graph = {
            s.id: [skills[p].id for p in needs[i] if active[p]]
            for i, s in enumerate(skills)
            if active[i]
        }
        recorded = {s.id: rows[i] for i, s in enumerate(skills) if rows[i] is not None}
        optional_ids = {s.id for i, s in enumerate(skills) if optional[i]}
        names = {s.id: s.name for s in skills}
        for skill_id in graph:
            found = session.execute(
                text(
                    "SELECT progress_skill_state(:u, :s, (SELECT status FROM user_skill_progress"
                    " WHERE user_id = :u AND skill_id = :s)),"
                    " progress_missing_prerequisites(:u, :s)"
                ),
                {"u": user.id, "s": skill_id},
            ).one()
            assert found[0] == states.state_of(skill_id, graph, recorded, optional_ids).value
            distance = dag.transitive_prerequisites(graph, skill_id)
            expected = sorted(
                (p for p in distance if not states.is_satisfied(p, recorded, optional_ids)),
                key=lambda p: (distance[p], names[p], p),
            )
            assert [m["id"] for m in found[1]] == expected
        # Enrolling (with these rows kept from before) unlocks every skill the rules make
        # AVAILABLE that has no row yet or a LOCKED one, and nothing else.
        answer = session.execute(
            text("SELECT progress_enrol(:u, :slug, now())"), {"u": user.id, "slug": tree.slug}
        ).scalar_one()
        free = {
            s
            for s in graph
            if states.state_of(s, graph, recorded, optional_ids) is SkillProgressStatus.AVAILABLE
            and recorded.get(s) in {None, SkillProgressStatus.LOCKED}
        }
        assert {u["id"] for u in answer["unlocked"]} == free
        scope.rollback()


def row(session: Session, curriculum: Curriculum, key: str) -> UserSkillProgress:
    found = session.scalars(
        select(UserSkillProgress).where(UserSkillProgress.skill_id == curriculum.id(key))
    ).one()
    session.refresh(found)
    return found


def test_every_event_keeps_the_difficulty_fields_current(
    client: TestClient, curriculum: Curriculum, learner: dict[str, str], session: Session
) -> None:
    curriculum.skills["html"].estimated_minutes = 60
    session.commit()
    url = f"/api/v1/skills/{curriculum.id('html')}"
    client.post(f"{url}/start", headers=learner)
    started = row(session, curriculum, "html")
    assert started.struggling_indicators == {"attemptsOverEstimate": 0, "timeRatio": 0, "flags": []}
    assert started.engagement_score == 0
    for minutes in (40, 40, 20, 20):
        client.post(f"{url}/activity", json={"minutes": minutes}, headers=learner)
    working = row(session, curriculum, "html")
    # 120 of 60 minutes, 4 sittings where 2 were expected: struggling.
    assert working.struggling_indicators == {
        "attemptsOverEstimate": 2,
        "timeRatio": 2,
        "flags": ["over_time", "many_attempts", "stuck"],
    }
    assert working.engagement_score == 1
    StrugglingIndicators.model_validate(working.struggling_indicators)
    client.post(f"{url}/complete", json={"minutesSpent": 30}, headers=learner)
    done = row(session, curriculum, "html")
    assert done.struggling_indicators == {
        "attemptsOverEstimate": 2,
        "timeRatio": 2.5,
        "flags": ["over_time", "many_attempts"],
    }
    assert done.engagement_score == 1
    client.post(f"/api/v1/skills/{curriculum.id('tips')}/skip", headers=learner)
    skipped = row(session, curriculum, "tips")
    assert skipped.struggling_indicators == {"attemptsOverEstimate": 0, "flags": []}
    assert skipped.engagement_score == 0
    # Unlocking is not working on a skill: an unlocked, untouched row has neither field.
    unlocked = row(session, curriculum, "css")
    assert unlocked.struggling_indicators is None
    assert unlocked.engagement_score is None


def test_under_row_level_security_a_learner_acts_only_for_themselves(
    session: Session, curriculum: Curriculum
) -> None:
    me, other = make_user(session), make_user(session)
    session.commit()
    event = "SELECT progress_skill_event('START', :user, :skill, now())"
    act_as_learner(session, me.id)
    with pytest.raises(DBAPIError, match="only learner"), session.begin_nested():
        session.execute(text(event), {"user": other.id, "skill": curriculum.id("html")})
    mine = session.execute(text(event), {"user": me.id, "skill": curriculum.id("html")})
    assert mine.scalar_one()["skill"]["status"] == "IN_PROGRESS"
    act_as_learner(session, None)
    with pytest.raises(DBAPIError, match="only learner"), session.begin_nested():
        session.execute(text(event), {"user": me.id, "skill": curriculum.id("html")})


def test_the_service_raises_the_databases_refusals_as_sqlalchemy_errors(
    session: Session, curriculum: Curriculum
) -> None:
    """The event functions are called on the session's psycopg connection directly; what the
    database refuses still arrives as SQLAlchemy's DBAPIError (the app's error handler, `atomic`'s
    retries), and the session's savepoint still recovers."""
    me, other = make_user(session), make_user(session)
    session.commit()
    act_as_learner(session, me.id)
    with pytest.raises(DBAPIError, match="only learner") as refused, session.begin_nested():
        progress_service.start(session, other, curriculum.id("html"))
    assert isinstance(refused.value.orig, psycopg.errors.InsufficientPrivilege)
    outcome = progress_service.start(session, me, curriculum.id("html"))
    assert outcome.skill is not None
    assert outcome.skill.status is SkillProgressStatus.IN_PROGRESS
