"""Property tests: any sequence of learner actions on any DAG keeps every progress invariant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from skilltree.errors import InvalidTransition, SkillLocked
from skilltree.models import (
    Achievement,
    ProgressEvent,
    ProgressEventKind,
    SkillProgressStatus,
    TreeProgressStatus,
    User,
    UserAchievement,
    UserProfile,
    UserSkillProgress,
    UserSkillTreeProgress,
)
from skilltree.progress import service
from skilltree.progress.schemas import CompleteRequest
from tests.factories import add_dependency, make_category, make_skill, make_tree

ACTIONS = st.sampled_from(["start", "complete", "skip", "activity"])


@st.composite
def scenarios(
    draw: st.DrawFn,
) -> tuple[list[list[int]], list[bool], list[tuple[str, int, int]], list[bool]]:
    size = draw(st.integers(1, 7))
    needs = [
        sorted(draw(st.sets(st.integers(0, i - 1), max_size=2))) if i else [] for i in range(size)
    ]
    optional = [draw(st.booleans()) for _ in range(size)]
    actions = draw(
        st.lists(
            st.tuples(ACTIONS, st.integers(0, size - 1), st.integers(0, 2)), min_size=1, max_size=15
        )
    )
    milestones = [draw(st.booleans()) for _ in range(size)]
    return needs, optional, actions, milestones


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(scenario=scenarios())
def test_any_sequence_of_actions_keeps_every_invariant(
    connection: Connection,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
    scenario: tuple[list[list[int]], list[bool], list[tuple[str, int, int]], list[bool]],
) -> None:
    needs, optional, actions, milestones = scenario
    with session.begin_nested() as example:
        tree = make_tree(session, make_category(session))
        skills = [
            make_skill(
                session,
                tree,
                xp_value=10 * (i + 1),
                is_optional=optional[i],
                is_milestone=milestones[i],
            )
            for i in range(len(needs))
        ]
        for i, prerequisites in enumerate(needs):
            for p in prerequisites:
                add_dependency(session, skills[i], skills[p])
        user = User(email="p@example.com", username="p", password_hash="x")
        session.add(user)
        session.flush()
        session.add(Achievement(
            name="Two", description="d", xp_reward=7,
            criteria={"type": "skill_completion_count", "threshold": 2},
        ))  # fmt: skip
        session.flush()
        day = datetime(2026, 1, 1, 12, tzinfo=UTC)
        active_days: set[object] = set()
        for action, index, days_later in actions:
            day += timedelta(days=days_later)
            monkeypatch.setattr(service, "_now", lambda moment=day: moment)
            skill_id = skills[index].id
            try:
                if action == "start":
                    outcome = service.start(session, user, skill_id)
                elif action == "complete":
                    outcome = service.complete(session, user, skill_id, CompleteRequest())
                elif action == "skip":
                    outcome = service.skip(session, user, skill_id)
                else:
                    outcome = service.record_activity(session, user, skill_id, 5)
            except (SkillLocked, InvalidTransition):
                continue
            if outcome.changed:
                active_days.add(day.date())
            check_invariants(session, user, needs, optional, skills, len(active_days))
        example.rollback()


def check_invariants(
    session: Session,
    user: User,
    needs: list[list[int]],
    optional: list[bool],
    skills: list[object],
    days_active: int,
) -> None:
    ids = [s.id for s in skills]  # type: ignore[attr-defined]
    rows = {
        r.skill_id: r
        for r in session.scalars(
            select(UserSkillProgress).where(UserSkillProgress.user_id == user.id)
        )
    }
    status = {i: rows[ids[i]].status if ids[i] in rows else None for i in range(len(ids))}

    def satisfied(i: int) -> bool:
        return status[i] is SkillProgressStatus.COMPLETED or (
            status[i] is SkillProgressStatus.SKIPPED and optional[i]
        )

    for i, prerequisites in enumerate(needs):
        if status[i] in {SkillProgressStatus.COMPLETED, SkillProgressStatus.IN_PROGRESS}:
            assert all(satisfied(p) for p in prerequisites), "a started skill was locked"
        if status[i] is SkillProgressStatus.COMPLETED:
            assert rows[ids[i]].completed_at is not None
    enrolment = session.scalars(
        select(UserSkillTreeProgress).where(UserSkillTreeProgress.user_id == user.id)
    ).one()
    completed = [i for i in status if status[i] is SkillProgressStatus.COMPLETED]
    assert enrolment.skills_completed == len(completed)
    assert enrolment.total_skills == len(ids)
    assert enrolment.progress_percent == pytest.approx(100 * len(completed) / len(ids))
    milestones = [ids[i] for i in completed if skills[i].is_milestone]  # type: ignore[attr-defined]
    assert enrolment.milestones_reached == sorted(milestones)
    required_done = all(
        status[i] in {SkillProgressStatus.COMPLETED, SkillProgressStatus.SKIPPED}
        for i in range(len(ids))
        if not optional[i]
    )
    finished = bool(completed) and required_done
    assert (enrolment.status is TreeProgressStatus.COMPLETED) == finished
    assert (enrolment.completed_at is not None) == finished
    profile = session.get(UserProfile, user.id)
    assert profile is not None
    rewards = session.scalar(
        select(func.coalesce(func.sum(Achievement.xp_reward), 0))
        .join(UserAchievement, UserAchievement.achievement_id == Achievement.id)
        .where(UserAchievement.user_id == user.id)
    )
    assert profile.total_xp == sum(10 * (i + 1) for i in completed) + rewards
    assert profile.total_xp == session.scalar(
        select(func.sum(ProgressEvent.xp_delta)).where(ProgressEvent.user_id == user.id)
    )
    assert profile.skills_completed == len(completed)
    unlock_events = session.execute(
        select(ProgressEvent.skill_id, func.count())
        .where(ProgressEvent.user_id == user.id, ProgressEvent.kind == ProgressEventKind.UNLOCK)
        .group_by(ProgressEvent.skill_id)
    ).all()
    unlocked_rows = {r.skill_id for r in rows.values() if r.unlocked_at is not None}
    assert dict(unlock_events) == dict.fromkeys(unlocked_rows, 1), "one UNLOCK event per unlock"
    assert profile.current_streak <= days_active
    assert profile.max_streak >= profile.current_streak
