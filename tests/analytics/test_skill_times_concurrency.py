"""Refreshing a time-to-complete snapshot while learners write, on real parallel connections: a
learner's completion never waits for a refresh, and a learner deleted during one is either seen
by it or leaves the snapshot marked stale, never silently counted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from skilltree.models import Skill, SkillTree, User
from tests.analytics.conftest import drop_committed
from tests.analytics.test_skill_times import RECOUNT, _complete
from tests.factories import make_category, make_skill, make_tree, make_user
from tests.locks import Writer, wait_until_blocked

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
    delete = text("DELETE FROM users WHERE id = :id")
    with engine.connect() as refresher:
        refresher.execute(text("SELECT analytics_refresh_skill_times(:t)"), {"t": tree.id})
        deleter = Writer(engine, lambda session: session.execute(delete, {"id": learners[0].id}))
        deleter.start()
        wait_until_blocked(engine, deleter.pid)  # on the refresh's snapshot row
        refresher.commit()
        deleter.finish()
    assert deleter.error is None
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
    refresh = text("SELECT analytics_refresh_skill_times(:t)")
    with engine.connect() as deleter:
        deleter.execute(text("DELETE FROM users WHERE id = :id"), {"id": learners[0].id})
        refresher = Writer(engine, lambda session: session.execute(refresh, {"t": tree.id}))
        refresher.start()
        wait_until_blocked(engine, refresher.pid)  # on the deletion's mark on the snapshot row
        deleter.commit()
        refresher.finish()
    assert refresher.error is None
    with engine.begin() as conn:
        assert _state(conn, tree) == (1, False)
