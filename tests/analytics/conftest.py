"""A small fixed world whose analytics are computed by hand in the tests.

Tree `fixed` (by `author`): s1 (root, 60 min) <- s2 (optional, 30 min), s1 <- s3 (120 min).
Learners (all times UTC, March 2026; the 1st is a Sunday):
- l1: enrols 1st 10:00, starts s1 10:05, completes it 11:05 (s2, s3 unlocked), skips s2 on the
  2nd 09:00, starts s3 the 2nd 09:30;
- l2: enrols 1st 23:30, starts s1 the 2nd 00:10, completes it the 3rd 00:10, completes s2
  (never started) the 3rd 01:00;
- l3: enrols the 2nd 12:00 and does nothing more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from skilltree.models import (
    CompletionMethod,
    ProgressEvent,
    ProgressEventKind,
    Skill,
    SkillCategory,
    SkillProgressStatus,
    SkillTree,
    TreeProgressStatus,
    User,
    UserRole,
    UserSkillProgress,
    UserSkillTreeProgress,
)
from tests.api import bearer
from tests.factories import (
    add_dependency,
    make_category,
    make_skill,
    make_token,
    make_tree,
    make_user,
)

Kind = ProgressEventKind
Status = SkillProgressStatus


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of March 2026, UTC."""
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def add_event(
    session: Session,
    user: User,
    kind: ProgressEventKind,
    when: datetime,
    tree: SkillTree | None = None,
    skill: Skill | None = None,
    xp: int = 0,
) -> None:
    """Append one event as the progress engine would have."""
    session.add(
        ProgressEvent(
            user_id=user.id,
            kind=kind,
            occurred_at=when,
            skill_tree_id=tree.id if tree else (skill.skill_tree_id if skill else None),
            skill_id=skill.id if skill else None,
            xp_delta=xp,
        )
    )
    session.flush()


def drop_committed(
    engine: Engine, learners: Sequence[User], tree: SkillTree, category: SkillCategory
) -> None:
    """Delete what a test committed for itself (learners, tree, category), then fold and check
    the snapshots, so that the aggregates and snapshots forget the deleted tree."""
    with engine.begin() as conn:
        conn.execute(
            text("DELETE FROM users WHERE id = ANY(:ids)"), {"ids": [u.id for u in learners]}
        )
        conn.execute(text("DELETE FROM skill_trees WHERE id = :t"), {"t": tree.id})
        conn.execute(text("DELETE FROM skill_categories WHERE id = :c"), {"c": category.id})
        conn.execute(text("SELECT analytics_fold()"))
        conn.execute(text("SELECT analytics_skill_times_check()"))


def fold(session: Session) -> int:
    """Fold the events so far into the aggregates."""
    return int(session.execute(text("SELECT analytics_fold()")).scalar_one())


@dataclass
class World:
    """The fixed world; `headers` signs in as a user."""

    tree: SkillTree
    skills: dict[str, Skill]
    author: User
    other_author: User
    admin: User
    learners: dict[str, User]
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, user: User) -> dict[str, str]:
        return bearer(self.tokens[user.id])


def enrol(
    session: Session, user: User, tree: SkillTree, when: datetime, **values: Any
) -> UserSkillTreeProgress:
    """An enrolment of `user` in `tree` (of 3 skills) made at `when`."""
    enrolment = UserSkillTreeProgress(
        user_id=user.id,
        skill_tree_id=tree.id,
        created_at=when,
        total_skills=3,
        **values,
    )
    session.add(enrolment)
    return enrolment


def _row(session: Session, user: User, skill: Skill, status: Status, **values: Any) -> None:
    if status is Status.COMPLETED:
        values.setdefault("completion_method", CompletionMethod.MANUAL)
    session.add(
        UserSkillProgress(
            user_id=user.id,
            skill_id=skill.id,
            skill_tree_id=skill.skill_tree_id,
            status=status,
            **values,
        )
    )


@pytest.fixture
def world(session: Session) -> World:
    author = make_user(session, UserRole.AUTHOR)
    tree = make_tree(session, make_category(session), slug="fixed", created_by=author.id)
    s1 = make_skill(session, tree, key="s1", name="S1", estimated_minutes=60, position_y=0)
    s2 = make_skill(
        session, tree, key="s2", name="S2", estimated_minutes=30, is_optional=True, position_y=1
    )
    s3 = make_skill(session, tree, key="s3", name="S3", estimated_minutes=120, position_y=2)
    add_dependency(session, s2, s1)
    add_dependency(session, s3, s1)
    l1, l2, l3 = (make_user(session) for _ in range(3))

    add_event(session, l1, Kind.ENROLL, at(1, 10), tree=tree)
    add_event(session, l1, Kind.UNLOCK, at(1, 10), skill=s1)
    add_event(session, l1, Kind.START, at(1, 10, 5), skill=s1)
    add_event(session, l1, Kind.COMPLETE, at(1, 11, 5), skill=s1, xp=10)
    add_event(session, l1, Kind.UNLOCK, at(1, 11, 5), skill=s2)
    add_event(session, l1, Kind.UNLOCK, at(1, 11, 5), skill=s3)
    add_event(session, l1, Kind.SKIP, at(2, 9), skill=s2)
    add_event(session, l1, Kind.START, at(2, 9, 30), skill=s3)
    add_event(session, l2, Kind.ENROLL, at(1, 23, 30), tree=tree)
    add_event(session, l2, Kind.UNLOCK, at(1, 23, 30), skill=s1)
    add_event(session, l2, Kind.START, at(2, 0, 10), skill=s1)
    add_event(session, l2, Kind.COMPLETE, at(3, 0, 10), skill=s1, xp=10)
    add_event(session, l2, Kind.UNLOCK, at(3, 0, 10), skill=s2)
    add_event(session, l2, Kind.UNLOCK, at(3, 0, 10), skill=s3)
    add_event(session, l2, Kind.COMPLETE, at(3, 1), skill=s2, xp=10)
    add_event(session, l3, Kind.ENROLL, at(2, 12), tree=tree)
    add_event(session, l3, Kind.UNLOCK, at(2, 12), skill=s1)

    in_progress = TreeProgressStatus.IN_PROGRESS
    enrol(
        session,
        l1,
        tree,
        at(1, 10),
        status=in_progress,
        skills_completed=1,
        progress_percent=100 / 3,
        started_at=at(1, 10, 5),
        last_activity_at=at(2, 9, 30),
    )
    enrol(
        session,
        l2,
        tree,
        at(1, 23, 30),
        status=in_progress,
        skills_completed=2,
        progress_percent=200 / 3,
        started_at=at(2, 0, 10),
        last_activity_at=at(3, 1),
    )
    enrol(session, l3, tree, at(2, 12))
    _row(
        session,
        l1,
        s1,
        Status.COMPLETED,
        started_at=at(1, 10, 5),
        completed_at=at(1, 11, 5),
        time_spent_minutes=55,
        progress_percent=100,
    )
    _row(session, l1, s2, Status.SKIPPED, unlocked_at=at(1, 11, 5))
    _row(
        session,
        l1,
        s3,
        Status.IN_PROGRESS,
        started_at=at(2, 9, 30),
        time_spent_minutes=20,
        struggling_indicators={"flags": ["stuck"]},
        engagement_score=0.4,
    )
    _row(
        session,
        l2,
        s1,
        Status.COMPLETED,
        started_at=at(2, 0, 10),
        completed_at=at(3, 0, 10),
        time_spent_minutes=90,
        progress_percent=100,
    )
    _row(
        session,
        l2,
        s2,
        Status.COMPLETED,
        started_at=at(3, 1),
        completed_at=at(3, 1),
        time_spent_minutes=25,
        progress_percent=100,
    )
    _row(session, l2, s3, Status.AVAILABLE, unlocked_at=at(3, 0, 10))
    _row(session, l3, s1, Status.AVAILABLE, unlocked_at=at(2, 12))
    session.flush()

    world = World(
        tree=tree,
        skills={"s1": s1, "s2": s2, "s3": s3},
        author=author,
        other_author=make_user(session, UserRole.AUTHOR),
        admin=make_user(session, UserRole.ADMIN),
        learners={"l1": l1, "l2": l2, "l3": l3},
    )
    for user in (world.author, world.other_author, world.admin, l1, l2, l3):
        world.tokens[user.id] = make_token(session, user)
    return world


@pytest.fixture
def api(client: TestClient) -> TestClient:
    """The API client (requests run in the test's transaction)."""
    return client
