"""Refreshing a time-to-complete snapshot while learners write, on real parallel connections: a
learner's completion never waits for a refresh, and a learner deleted during one is either seen
by it or leaves the snapshot marked stale, never silently counted."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from skilltree.models import Skill, SkillTree, User
from tests.analytics.conftest import drop_committed
from tests.analytics.test_skill_times import RECOUNT, _complete
from tests.factories import make_category, make_skill, make_tree, make_user

Committed = tuple[SkillTree, Skill, list[User]]


@pytest.fixture
def committed(engine: Engine) -> Iterator[Committed]:
    """A committed tree with one skill that two of three learners completed; a first snapshot
    of it, folded. All deleted afterwards."""
    with Session(engine, expire_on_commit=False) as setup:
        category = make_category(setup)
        tree = make_tree(setup, category)
        skill = make_skill(setup, tree)
        learners = [make_user(setup) for _ in range(3)]
        _complete(setup, learners[0], skill, took=10, spent=10, step=0)
        _complete(setup, learners[1], skill, took=50, spent=40, step=1)
        setup.execute(text("SELECT analytics_fold()"))
        setup.execute(text("SELECT analytics_refresh_skill_times(:t)"), {"t": tree.id})
        setup.commit()
    yield tree, skill, learners
    drop_committed(engine, learners, tree, category)


def _state(conn: Connection, tree: SkillTree) -> tuple[int, bool]:
    """The snapshot's count of completions and whether it is marked stale."""
    row = conn.execute(
        text(
            "SELECT coalesce(sum(t.completed), 0), n.stale FROM analytics_time_snapshots n"
            " LEFT JOIN analytics_skill_times t ON t.skill_tree_id = n.skill_tree_id"
            " WHERE n.skill_tree_id = :t GROUP BY n.stale"
        ),
        {"t": tree.id},
    ).one()
    return int(row[0]), bool(row[1])


def _in_thread(work: threading.Thread) -> None:
    work.start()
    work.join(timeout=0.5)  # long enough to reach a lock if it is going to wait for one


def test_a_completion_does_not_wait_for_a_refresh(engine: Engine, committed: Committed) -> None:
    tree, skill, learners = committed
    with engine.connect() as refresher:
        refresher.execute(text("SELECT analytics_refresh_skill_times(:t)"), {"t": tree.id})
        # The refresh's transaction is still open, its snapshot row locked.
        with Session(engine) as learner:
            learner.execute(text("SET LOCAL lock_timeout = '2s'"))
            _complete(learner, learners[2], skill, took=5, spent=5, step=2)
            learner.commit()
        refresher.commit()
    with engine.begin() as conn:
        recount = conn.execute(text(RECOUNT), {"tree": tree.id}).mappings().one()
        assert recount["completed"] == 3


def test_a_learner_deleted_during_a_refresh_marks_the_new_snapshot_stale(
    engine: Engine, committed: Committed
) -> None:
    tree, _, learners = committed
    errors: list[BaseException] = []

    def delete() -> None:
        try:
            with engine.begin() as conn:
                conn.execute(text("DELETE FROM users WHERE id = :id"), {"id": learners[0].id})
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    with engine.connect() as refresher:
        refresher.execute(text("SELECT analytics_refresh_skill_times(:t)"), {"t": tree.id})
        deleter = threading.Thread(target=delete)
        _in_thread(deleter)
        assert deleter.is_alive()  # waiting for the refresh's snapshot row
        refresher.commit()
    deleter.join(timeout=10)
    assert not errors
    with engine.begin() as conn:
        # The refresh counted the deleted learner, and says so.
        assert _state(conn, tree) == (2, True)
        assert conn.execute(text("SELECT analytics_skill_times_check()")).scalars().all() == [
            tree.id
        ]
        conn.execute(text("SELECT analytics_refresh_skill_times(:t)"), {"t": tree.id})
        assert _state(conn, tree) == (1, False)


def test_a_refresh_during_a_deletion_waits_and_sees_it(
    engine: Engine, committed: Committed
) -> None:
    tree, _, learners = committed
    errors: list[BaseException] = []

    def refresh() -> None:
        try:
            with engine.begin() as conn:
                conn.execute(text("SELECT analytics_refresh_skill_times(:t)"), {"t": tree.id})
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    with engine.connect() as deleter:
        deleter.execute(text("DELETE FROM users WHERE id = :id"), {"id": learners[0].id})
        refresher = threading.Thread(target=refresh)
        _in_thread(refresher)
        assert refresher.is_alive()  # waiting for the deletion's mark on the snapshot row
        deleter.commit()
    refresher.join(timeout=10)
    assert not errors
    with engine.begin() as conn:
        assert _state(conn, tree) == (1, False)
