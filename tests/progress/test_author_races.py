"""Learners racing authors on real parallel connections, as the API runs them (row-level
security): no deadlock, no foreign-key error, no 500; a skill or tree deleted under an event is a
404; every count exact afterwards.

Each test makes one writer wait for the other, proven by pg_stat_activity (tests.locks), then lets
the first commit. A progress event locks its learner first; an author's change of a tree locks the
tree and then its learners before writing anything (catalog.tree_writes), so whichever comes
second waits for the whole of the first.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from skilltree.catalog import authoring
from skilltree.db.rls import act_as_learner
from skilltree.errors import Conflict, NotFound
from skilltree.models import (
    User,
    UserProfile,
    UserRole,
    UserSkillProgress,
    UserSkillTreeProgress,
)
from skilltree.progress import service
from skilltree.progress.schemas import CompleteRequest, ProgressOutcome
from skilltree.treefile import service as treefile
from tests.committed import committed_rows
from tests.factories import add_dependency, make_category, make_skill, make_tree, make_user
from tests.locks import Writer, wait_until_blocked


@dataclass
class World:
    """Committed rows: an admin, a learner, and a tree of X, D (needs X) and R, all required."""

    admin_id: str
    learner_id: str
    tree_id: str
    slug: str
    x: str
    d: str
    r: str


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    with committed_rows(engine) as session:
        admin = make_user(session, UserRole.ADMIN)
        learner = make_user(session)
        tree = make_tree(session, make_category(session))
        x, d, r = (make_skill(session, tree, name=name, xp_value=10) for name in "XDR")
        add_dependency(session, d, x)
        session.commit()
        yield World(admin.id, learner.id, tree.id, tree.slug, x.id, d.id, r.id)


def as_user(session: Session, user_id: str) -> User:
    """The user, with the rest of the transaction run as the API runs it (RLS, as them)."""
    act_as_learner(session, user_id)
    user = session.get(User, user_id)
    assert user is not None
    return user


def enrolled(engine: Engine, world: World) -> World:
    with Session(engine) as session:
        service.enrol(session, as_user(session, world.learner_id), world.slug)
        session.commit()
    return world


def complete(world: World, skill_id: str) -> Callable[[Session], ProgressOutcome]:
    return lambda s: service.complete(s, as_user(s, world.learner_id), skill_id, CompleteRequest())


def counts(engine: Engine, world: World) -> dict[str, object]:
    """The learner's figures, and the same recounted from their rows."""
    with Session(engine) as session:
        profile = session.get(UserProfile, world.learner_id) or UserProfile(
            skills_completed=0, trees_started=0, trees_completed=0
        )
        enrolments = session.scalars(
            select(UserSkillTreeProgress).where(UserSkillTreeProgress.user_id == world.learner_id)
        ).all()
        completed_rows = session.scalar(
            text(
                "SELECT count(*) FROM user_skill_progress r JOIN skills s ON s.id = r.skill_id"
                " WHERE r.user_id = :user AND r.status = 'COMPLETED' AND s.is_active"
            ),
            {"user": world.learner_id},
        )
        active = session.scalar(
            text("SELECT count(*) FROM skills WHERE skill_tree_id = :tree AND is_active"),
            {"tree": world.tree_id},
        )
        return {
            "profile": (profile.skills_completed, profile.trees_started, profile.trees_completed),
            "recounted": completed_rows,
            "enrolments": [(e.skills_completed, e.total_skills) for e in enrolments],
            "active skills": active,
        }


def delete_d(engine: Engine, world: World) -> Callable[[Session], object]:
    return lambda s: authoring.delete_skill(s, world.d, as_user(s, world.admin_id))


def import_without_d(engine: Engine, world: World) -> Callable[[Session], object]:
    """The tree re-imported from its own export, without D."""
    with Session(engine) as session:
        exported = treefile.export_tree(session, world.slug, viewer=None, operator=True)
    document = json.loads(exported.model_dump_json())
    d_key = next(s["key"] for s in document["skills"] if s["name"] == "D")
    document["skills"] = [s for s in document["skills"] if s["key"] != d_key]
    data = json.dumps(document)
    return lambda s: treefile.import_tree(s, data, author=as_user(s, world.admin_id))


@pytest.mark.parametrize("deletion", [delete_d, import_without_d])
def test_a_completion_and_the_deletion_of_what_it_unlocks_do_not_deadlock(
    engine: Engine,
    world: World,
    deletion: Callable[[Engine, World], Callable[[Session], object]],
) -> None:
    """The learner completes X while the admin deletes D, which needs X (or re-imports the tree
    without it): the completion holds the learner, the deletion waits for them, then the
    completion unlocks D. (Before: the deletion locked D and then the learner, the completion the
    learner and then D: DeadlockDetected.)"""
    enrolled(engine, world)
    delete_it = deletion(engine, world)
    with Session(engine) as blocker:
        # Pause the completion between its two locks, on the learner's row of X.
        blocker.execute(
            select(UserSkillProgress.id)
            .where(
                UserSkillProgress.user_id == world.learner_id,
                UserSkillProgress.skill_id == world.x,
            )
            .with_for_update()
        )

        def complete_x_quickly_deadlocked(session: Session) -> object:
            # The learner, not the author, is the one who finds a deadlock if there is one.
            session.execute(text("SET LOCAL deadlock_timeout = '20ms'"))
            return complete(world, world.x)(session)

        learner = Writer(engine, complete_x_quickly_deadlocked).start()
        wait_until_blocked(engine, learner.pid)
        author = Writer(engine, delete_it).start()
        wait_until_blocked(engine, author.pid)
        blocker.rollback()
        outcome = learner.finish()
        author.finish()
    assert learner.error is None, learner.error
    assert author.error is None, author.error
    assert [skill.id for skill in outcome.unlocked] == [world.d]
    assert counts(engine, world) == {
        "profile": (1, 1, 0),
        "recounted": 1,
        "enrolments": [(1, 2)],
        "active skills": 2,
    }


def test_completing_a_skill_its_author_is_deleting_is_a_404(engine: Engine, world: World) -> None:
    enrolled(engine, world)
    author = Writer(
        engine,
        lambda s: authoring.delete_skill(s, world.x, as_user(s, world.admin_id)),
        hold=True,
    ).start()
    assert author.worked.wait(20)
    learner = Writer(engine, complete(world, world.x)).start()
    wait_until_blocked(engine, learner.pid)
    author.finish()
    learner.finish()
    assert author.error is None, author.error
    assert isinstance(learner.error, NotFound), learner.error
    assert counts(engine, world) == {
        "profile": (0, 0, 0),
        "recounted": 0,
        "enrolments": [(0, 2)],
        "active skills": 2,
    }


def test_deleting_a_skill_a_learner_is_completing_waits_and_recounts(
    engine: Engine, world: World
) -> None:
    enrolled(engine, world)
    learner = Writer(engine, complete(world, world.x), hold=True).start()
    assert learner.worked.wait(20)
    author = Writer(
        engine, lambda s: authoring.delete_skill(s, world.x, as_user(s, world.admin_id))
    ).start()
    wait_until_blocked(engine, author.pid)
    learner.finish()
    author.finish()
    assert learner.error is None, learner.error
    assert author.error is None, author.error
    # X's completion went with X: the learner keeps the XP, not the count.
    assert counts(engine, world) == {
        "profile": (0, 1, 0),
        "recounted": 0,
        "enrolments": [(0, 2)],
        "active skills": 2,
    }


def test_a_first_completion_waits_for_a_deletion_in_its_tree_and_counts_after_it(
    engine: Engine, world: World
) -> None:
    """The learner's first event in the tree enrols them (counting the tree's skills) while the
    admin deletes R: the enrolment waits for the deletion, then runs again on the tree as it is.
    (Before: it unlocked R, just deleted: ForeignKeyViolation.)"""
    author = Writer(
        engine,
        lambda s: authoring.delete_skill(s, world.r, as_user(s, world.admin_id)),
        hold=True,
    ).start()
    assert author.worked.wait(20)
    learner = Writer(engine, complete(world, world.x)).start()
    wait_until_blocked(engine, learner.pid)
    author.finish()
    learner.finish()
    assert author.error is None, author.error
    assert learner.error is None, learner.error
    assert learner.result.changed
    assert counts(engine, world) == {
        "profile": (1, 1, 0),
        "recounted": 1,
        "enrolments": [(1, 2)],
        "active skills": 2,
    }


def test_enrolling_in_a_tree_its_author_is_deleting_is_a_404(engine: Engine, world: World) -> None:
    author = Writer(
        engine,
        lambda s: authoring.delete_tree(s, world.slug, as_user(s, world.admin_id)),
        hold=True,
    ).start()
    assert author.worked.wait(20)
    learner = Writer(
        engine, lambda s: service.enrol(s, as_user(s, world.learner_id), world.slug)
    ).start()
    wait_until_blocked(engine, learner.pid)
    author.finish()
    learner.finish()
    assert author.error is None, author.error
    assert isinstance(learner.error, NotFound), learner.error
    assert counts(engine, world)["profile"] == (0, 0, 0)


def test_deleting_a_tree_a_learner_is_completing_waits_and_recounts(
    engine: Engine, world: World
) -> None:
    enrolled(engine, world)
    with Session(engine) as session:
        service.complete(session, as_user(session, world.learner_id), world.x, CompleteRequest())
        session.commit()
    learner = Writer(engine, complete(world, world.r), hold=True).start()
    assert learner.worked.wait(20)
    author = Writer(
        engine, lambda s: authoring.delete_tree(s, world.slug, as_user(s, world.admin_id))
    ).start()
    wait_until_blocked(engine, author.pid)
    learner.finish()
    author.finish()
    assert learner.error is None, learner.error
    assert author.error is None, author.error
    figures = counts(engine, world)
    assert figures["profile"] == (0, 0, 0)
    assert figures["enrolments"] == []
    with Session(engine) as session:
        profile = session.get(UserProfile, world.learner_id)
        assert profile is not None
        assert profile.total_xp == 20  # XP once earned stays
        statuses = session.scalars(
            select(UserSkillProgress.status).where(UserSkillProgress.user_id == world.learner_id)
        ).all()
        assert statuses == []  # the learner's rows went with the tree


def test_a_writer_that_does_not_hold_the_tree_costs_a_409_not_a_500(
    engine: Engine, world: World
) -> None:
    """The safety net: a skill deleted under a learner's event by a writer that skipped
    catalog.tree_writes (plain SQL here) is a Conflict, not a foreign-key 500."""
    bypass = Writer(
        engine,
        lambda s: s.execute(text("DELETE FROM skills WHERE id = :r"), {"r": world.r}),
        hold=True,
    ).start()
    assert bypass.worked.wait(20)
    learner = Writer(engine, complete(world, world.x)).start()  # enrols: unlocks X and R
    wait_until_blocked(engine, learner.pid)
    bypass.finish()
    learner.finish()
    assert bypass.error is None, bypass.error
    assert isinstance(learner.error, Conflict), learner.error
    assert learner.error.message == "The skill tree changed while this ran; try again."


def test_a_progress_event_chosen_as_a_deadlock_victim_runs_again(
    engine: Engine, world: World
) -> None:
    """The safety net, with a real deadlock: the completion holds the learner and waits for
    their row of X, whose holder waits for the learner. The completion, quicker to look, is the
    victim: rolled back to its savepoint (letting the learner go), it runs again and succeeds."""
    enrolled(engine, world)
    profile = select(UserProfile.user_id).where(UserProfile.user_id == world.learner_id)
    row_of_x = select(UserSkillProgress.id).where(
        UserSkillProgress.user_id == world.learner_id, UserSkillProgress.skill_id == world.x
    )
    go_on = threading.Event()

    def hold_x_then_the_learner(session: Session) -> None:
        session.execute(text("SET LOCAL deadlock_timeout = '60s'"))  # not the one to look
        session.execute(row_of_x.with_for_update())
        assert go_on.wait(20)
        session.execute(profile.with_for_update())

    def complete_x_quickly_deadlocked(session: Session) -> object:
        session.execute(text("SET LOCAL deadlock_timeout = '20ms'"))
        return complete(world, world.x)(session)

    with Session(engine) as first:
        first.execute(profile.with_for_update())  # queues the completion before the other
        other = Writer(engine, hold_x_then_the_learner, hold=True).start()
        learner = Writer(engine, complete_x_quickly_deadlocked).start()
        wait_until_blocked(engine, learner.pid)
        go_on.set()
        wait_until_blocked(engine, other.pid)  # behind the completion, for the learner
        first.rollback()  # the completion takes the learner, then waits for X: a cycle
        assert other.worked.wait(20)  # it had the learner: the completion let go
        other.finish()
        outcome = learner.finish()
    assert other.error is None, other.error
    assert learner.error is None, learner.error
    assert (outcome.changed, outcome.xp_awarded) == (True, 10)
    assert counts(engine, world)["profile"] == (1, 1, 0)
