"""Folding while learners write, on real parallel connections: no event is missed or counted
twice, because a fold waits for every transaction still writing events (an event's id is taken
when it is inserted, so a later id can commit first)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from skilltree.models import Skill, SkillTree, User
from tests.analytics.conftest import drop_committed
from tests.factories import make_category, make_skill, make_tree, make_user
from tests.locks import Writer, wait_until_blocked

WRITERS, EVENTS_EACH = 3, 25


@pytest.fixture
def committed(engine: Engine) -> Iterator[tuple[SkillTree, Skill, list[User]]]:
    """A committed tree with one skill and a learner per writer; all deleted afterwards."""
    with Session(engine, expire_on_commit=False) as setup:
        category = make_category(setup)
        tree = make_tree(setup, category)
        skill = make_skill(setup, tree)
        learners = [make_user(setup) for _ in range(WRITERS)]
        setup.commit()
    yield tree, skill, learners
    drop_committed(engine, learners, tree, category)


def test_a_fold_racing_writers_misses_nothing(
    engine: Engine, committed: tuple[SkillTree, Skill, list[User]]
) -> None:
    tree, skill, learners = committed
    errors: list[BaseException] = []
    writing = threading.Event()
    writing.set()

    def write(user: User) -> None:
        try:
            for n in range(EVENTS_EACH):
                with engine.begin() as conn:
                    conn.execute(
                        text(
                            "INSERT INTO progress_events (user_id, kind, skill_tree_id, skill_id)"
                            " VALUES (:user, :kind, :tree, :skill)"
                        ),
                        {"user": user.id, "kind": ("START", "COMPLETE")[n % 2],
                         "tree": tree.id, "skill": skill.id},
                    )  # fmt: skip
                    time.sleep(0.01)  # keep the transaction open: its id is taken, not committed
        except BaseException as exc:
            errors.append(exc)

    def fold() -> None:
        try:
            while writing.is_set():
                with engine.begin() as conn:
                    conn.execute(text("SELECT analytics_fold()"))
                time.sleep(0.005)
        except BaseException as exc:
            errors.append(exc)

    writers = [threading.Thread(target=write, args=(u,)) for u in learners]
    folder = threading.Thread(target=fold)
    folder.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(60)
    writing.clear()
    folder.join(60)
    assert errors == []

    with engine.begin() as conn:
        conn.execute(text("SELECT analytics_fold()"))
        folded = conn.execute(
            text("SELECT started, completed FROM analytics_skill_counts WHERE skill_id = :s"),
            {"s": skill.id},
        ).one()
        recount = conn.execute(
            text(
                "SELECT count(*) FILTER (WHERE kind = 'START'),"
                " count(*) FILTER (WHERE kind = 'COMPLETE')"
                " FROM progress_events WHERE skill_id = :s"
            ),
            {"s": skill.id},
        ).one()
    assert tuple(folded) == tuple(recount)
    assert tuple(recount) == (
        WRITERS * (EVENTS_EACH - EVENTS_EACH // 2),
        WRITERS * (EVENTS_EACH // 2),
    )


def _insert(conn: Connection, user: User, skill: Skill) -> None:
    conn.execute(
        text(
            "INSERT INTO progress_events (user_id, kind, skill_tree_id, skill_id)"
            " VALUES (:user, 'COMPLETE', :tree, :skill)"
        ),
        {"user": user.id, "tree": skill.skill_tree_id, "skill": skill.id},
    )


def test_a_fold_waits_for_an_event_whose_id_came_before_a_committed_one(
    engine: Engine, committed: tuple[SkillTree, Skill, list[User]]
) -> None:
    _, skill, learners = committed
    with engine.connect() as slow, engine.connect() as fast:
        _insert(slow, learners[0], skill)  # takes id n, not committed yet
        with fast.begin():
            _insert(fast, learners[1], skill)  # id n + 1, committed
        folder = Writer(engine, lambda session: session.execute(text("SELECT analytics_fold()")))
        folder.start()
        wait_until_blocked(engine, folder.pid)  # on the table lock the slow writer holds
        slow.commit()
        folder.finish()
    assert folder.error is None
    with engine.connect() as conn:
        folded = conn.execute(
            text("SELECT completed FROM analytics_skill_counts WHERE skill_id = :s"),
            {"s": skill.id},
        ).scalar_one()
        tail = conn.execute(
            text("SELECT count(*) FROM progress_events WHERE skill_id = :s AND id > "
                 "(SELECT folded_through FROM analytics_fold_state)"),
            {"s": skill.id},
        ).scalar_one()  # fmt: skip
    assert (folded, tail) == (2, 0)
