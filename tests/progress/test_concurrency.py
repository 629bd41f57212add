"""Racing requests on real parallel connections: XP is awarded exactly once, nothing is lost."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from skilltree.catalog import authoring
from skilltree.catalog.schemas import SkillUpdate
from skilltree.models import (
    ProgressEvent,
    User,
    UserProfile,
    UserRole,
    UserSkillProgress,
    UserSkillTreeProgress,
)
from skilltree.progress import service
from skilltree.progress.schemas import CompleteRequest, ProgressOutcome
from tests.committed import committed_rows
from tests.factories import make_category, make_skill, make_tree, make_user


@dataclass
class World:
    user_id: str
    tree_id: str
    skill_ids: list[str]


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    """Committed rows (parallel connections must see them): a learner and 8 independent skills."""
    with committed_rows(engine) as session:
        user = make_user(session)
        session.add(UserProfile(user_id=user.id))
        tree = make_tree(session, make_category(session))
        skills = [make_skill(session, tree, xp_value=10 + i) for i in range(8)]
        session.commit()
        yield World(user.id, tree.id, [s.id for s in skills])


def race(engine: Engine, jobs: list[Callable[[Session], ProgressOutcome]]) -> list[ProgressOutcome]:
    """Run each job on its own connection and transaction, all released at the same moment."""
    barrier = threading.Barrier(len(jobs))
    results: list[ProgressOutcome | BaseException] = [RuntimeError("not run")] * len(jobs)

    def run(index: int) -> None:
        try:
            with Session(engine, expire_on_commit=False) as session:
                barrier.wait()
                results[index] = jobs[index](session)
                session.commit()
        except BaseException as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    failures = [r for r in results if isinstance(r, BaseException)]
    assert not failures, failures
    return [r for r in results if isinstance(r, ProgressOutcome)]


def learner(session: Session, world: World) -> User:
    user = session.get(User, world.user_id)
    assert user is not None
    return user


def test_racing_completions_of_one_skill_award_xp_once(engine: Engine, world: World) -> None:
    skill = world.skill_ids[0]
    outcomes = race(
        engine,
        [
            lambda s: service.complete(s, learner(s, world), skill, CompleteRequest())
            for _ in range(4)
        ],
    )
    assert sorted(o.changed for o in outcomes) == [False, False, False, True]
    assert sum(o.xp_awarded for o in outcomes) == 10
    with Session(engine) as session:
        assert session.get(UserProfile, world.user_id).total_xp == 10  # type: ignore[union-attr]
        completions = session.scalar(
            select(func.count()).where(
                ProgressEvent.user_id == world.user_id, ProgressEvent.kind == "COMPLETE"
            )
        )
        assert completions == 1


def test_parallel_completions_of_different_skills_lose_nothing(
    engine: Engine, world: World
) -> None:
    race(
        engine,
        [
            (lambda s, k=skill: service.complete(s, learner(s, world), k, CompleteRequest()))
            for skill in world.skill_ids
        ],
    )
    with Session(engine) as session:
        profile = session.get(UserProfile, world.user_id)
        assert profile is not None
        assert profile.total_xp == sum(10 + i for i in range(8))
        assert profile.skills_completed == 8
        completed = session.scalar(
            select(func.count()).where(
                UserSkillProgress.user_id == world.user_id,
                UserSkillProgress.status == "COMPLETED",
            )
        )
        assert completed == 8


def test_completions_racing_tree_changes_keep_every_count(engine: Engine, world: World) -> None:
    """An admin changes the tree over and over, each change recounting every learner of it
    (catalog.tree_writes), while the learner completes skills: no step is written over, nothing
    deadlocks, and the profile's counters (sums of the enrolments') end exact."""
    with Session(engine) as session:
        admin = make_user(session, UserRole.ADMIN)
        session.commit()
        admin_id = admin.id
    done = threading.Event()
    failures: list[BaseException] = []

    def complete_all() -> None:
        try:
            for skill in world.skill_ids:
                with Session(engine, expire_on_commit=False) as session:
                    service.complete(session, learner(session, world), skill, CompleteRequest())
                    session.commit()
        except BaseException as exc:
            failures.append(exc)
        finally:
            done.set()

    def change_the_tree() -> None:
        milestone = False
        try:
            while not done.is_set():
                milestone = not milestone
                with Session(engine) as session:
                    actor = session.get(User, admin_id)
                    assert actor is not None
                    change = SkillUpdate(is_milestone=milestone)
                    authoring.update_skill(session, world.skill_ids[-1], change, actor)
                    session.commit()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=complete_all), threading.Thread(target=change_the_tree)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with Session(engine) as session:
        session.execute(delete(User).where(User.id == admin_id))
        session.commit()
    assert failures == []
    with Session(engine) as session:
        enrolment = session.scalars(
            select(UserSkillTreeProgress).where(UserSkillTreeProgress.user_id == world.user_id)
        ).one()
        assert (enrolment.skills_completed, enrolment.total_skills) == (8, 8)
        profile = session.get(UserProfile, world.user_id)
        assert profile is not None
        assert profile.skills_completed == 8
