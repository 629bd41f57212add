"""Concurrent writers on real, separate transactions: the database lets exactly one of two
half-cycles in, and a service that PostgreSQL aborts as a deadlock victim is run again."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import psycopg
import pytest
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from skilltree.catalog import authoring
from skilltree.db.atomic import ATTEMPTS, atomic
from skilltree.db.base import new_id
from skilltree.errors import Conflict, DependencyCycle
from skilltree.models import (
    Skill,
    SkillDependency,
    SkillTree,
    SkillTreePrerequisite,
    User,
    UserRole,
)
from tests.factories import make_category, make_skill, make_tree
from tests.locks import Writer, wait_until_blocked

ADMIN = User(id=new_id(), role=UserRole.ADMIN)


@pytest.fixture
def committed(engine: Engine) -> Iterator[tuple[list[SkillTree], list[Skill]]]:
    """Two committed trees, the first with skills HTML and CSS; deleted after the test."""
    with Session(engine, expire_on_commit=False) as setup:
        category = make_category(setup)
        trees = [make_tree(setup, category) for _ in range(2)]
        skills = [make_skill(setup, trees[0], name=name) for name in ("HTML", "CSS")]
        setup.commit()
    yield trees, skills
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM skill_trees WHERE category_id = :c"), {"c": category.id})
        conn.execute(text("DELETE FROM skill_categories WHERE id = :c"), {"c": category.id})


def race(engine: Engine, first: Callable[[Session], object], second: Callable[[Session], object]):
    """Run `first` in one transaction, then `second` in another's until it waits for a lock the
    first holds (pg_stat_activity), then commit the first: what the second ended with."""
    with Session(engine) as one:
        first(one)
        racer = Writer(engine, second).start()
        wait_until_blocked(engine, racer.pid)
        one.commit()
        racer.finish()
    return racer.error


def test_racing_dependency_lists_cannot_close_a_cycle_together(
    engine: Engine, committed: tuple[list[SkillTree], list[Skill]]
) -> None:
    _, (html, css) = committed

    lost = race(
        engine,
        lambda s: authoring.set_dependencies(s, css.id, [html.id], ADMIN),
        lambda s: authoring.set_dependencies(s, html.id, [css.id], ADMIN),
    )

    assert isinstance(lost, DependencyCycle)
    assert lost.message == "The prerequisites would form a cycle: HTML -> CSS -> HTML."
    with Session(engine) as check:
        edges = check.execute(select(SkillDependency.skill_id, SkillDependency.depends_on_id))
        assert [tuple(e) for e in edges if e.skill_id in {html.id, css.id}] == [(css.id, html.id)]


def test_racing_prerequisite_lists_cannot_close_a_cycle_together(
    engine: Engine, committed: tuple[list[SkillTree], list[Skill]]
) -> None:
    (first, second), _ = committed

    lost = race(
        engine,
        lambda s: authoring.set_tree_prerequisites(s, first.slug, [second.slug], ADMIN),
        lambda s: authoring.set_tree_prerequisites(s, second.slug, [first.slug], ADMIN),
    )

    assert isinstance(lost, DependencyCycle)
    assert [step["id"] for step in lost.extra["cycle"]] == [second.id, first.id, second.id]
    with Session(engine) as check:
        edges = check.scalars(
            select(SkillTreePrerequisite.skill_tree_id).where(
                SkillTreePrerequisite.skill_tree_id.in_([first.id, second.id])
            )
        )
        assert list(edges) == [first.id]


def test_a_deadlock_victim_is_run_again(
    engine: Engine, committed: tuple[list[SkillTree], list[Skill]]
) -> None:
    # Two trees' rows taken in opposite orders. (Skills of one tree cannot deadlock: every write
    # to a tree's skills first bumps the tree's version, which queues writers of that tree.)
    (one, other), _ = committed
    meet = threading.Barrier(2)
    runs: list[str] = []

    @atomic
    def touch_both(session: Session, first: str, then: str) -> None:
        runs.append(first)
        if session.scalar(text("SELECT current_setting('is_superuser')")) == "on":
            session.execute(text("SET LOCAL deadlock_timeout = '50ms'"))
        more = func.coalesce(SkillTree.estimated_hours, 0) + 1
        session.execute(update(SkillTree).where(SkillTree.id == first).values(estimated_hours=more))
        if runs.count(first) == 1:
            meet.wait(5)  # both hold their first row: each now waits for the other's
        session.execute(update(SkillTree).where(SkillTree.id == then).values(estimated_hours=more))

    failures: list[BaseException] = []

    def writer(first: str, then: str) -> None:
        with Session(engine) as session:
            try:
                touch_both(session, first, then)
                session.commit()
            except BaseException as exc:
                failures.append(exc)

    threads = [
        threading.Thread(target=writer, args=ids)
        for ids in ((one.id, other.id), (other.id, one.id))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)

    assert failures == []
    assert len(runs) == 3, "one of the two writers ran twice"
    with Session(engine) as check:
        hours = check.scalars(
            select(SkillTree.estimated_hours).where(SkillTree.id.in_([one.id, other.id]))
        ).all()
        assert hours == [2, 2]


def test_a_conflict_that_keeps_coming_back_is_a_conflict_error(session: Session) -> None:
    runs: list[int] = []

    @atomic
    def always_deadlocked(session: Session) -> None:
        runs.append(1)
        raise OperationalError("UPDATE", {}, psycopg.errors.DeadlockDetected("deadlock"))

    with pytest.raises(Conflict) as raised:
        always_deadlocked(session)
    assert isinstance(raised.value.__cause__, OperationalError)
    assert len(runs) == ATTEMPTS


def test_other_errors_are_not_retried_and_undo_the_work(session: Session) -> None:
    tree = make_tree(session, make_category(session))
    runs: list[int] = []

    @atomic
    def rename_then_fail(session: Session) -> None:
        runs.append(1)
        session.execute(update(SkillTree).where(SkillTree.id == tree.id).values(name="Renamed"))
        raise DependencyCycle()

    with pytest.raises(DependencyCycle):
        rename_then_fail(session)
    assert len(runs) == 1
    assert session.scalar(select(SkillTree.name).where(SkillTree.id == tree.id)) == tree.name
