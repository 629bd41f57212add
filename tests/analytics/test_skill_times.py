"""Time to complete from a snapshot per tree (migration 0017): after any mix of completions,
time logged on completed skills, deleted learners, folds and refreshes, a refreshed snapshot
equals a full recount of the learners' rows, and a snapshot that says it has not changed since
equals one too. Who may compute or write it, and how the answer says how fresh it is."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from skilltree.analytics import repository
from skilltree.cli import app
from skilltree.db.rls import act_as_learner, act_as_owner
from skilltree.models import Skill, SkillTree, User
from tests import databases
from tests.analytics.conftest import Kind, World, add_event, at, drop_committed, fold
from tests.factories import make_category, make_skill, make_tree, make_user

PATH = "/api/v1/analytics/trees/fixed/time-to-complete"
BASE = datetime(2026, 3, 1, tzinfo=UTC)

# The query every read ran before the snapshot (migration 0016's time_to_complete.sql), over
# the learners' rows themselves: the recount a snapshot must equal.
RECOUNT = """
SELECT p.skill_id, count(*) AS completed,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM p.completed_at
           - coalesce(p.started_at, p.completed_at)) / 60) AS p50_minutes,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM p.completed_at
           - coalesce(p.started_at, p.completed_at)) / 60) AS p95_minutes,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY p.time_spent_minutes) AS p50_spent_minutes,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY p.time_spent_minutes) AS p95_spent_minutes
FROM user_skill_progress p
WHERE p.skill_tree_id = :tree AND p.status = 'COMPLETED'
GROUP BY p.skill_id
"""
FIGURES = ("completed", "p50_minutes", "p95_minutes", "p50_spent_minutes", "p95_spent_minutes")

Figures = dict[str, tuple[Any, ...]]


def recount(session: Session, tree: SkillTree) -> Figures:
    rows = session.execute(text(RECOUNT), {"tree": tree.id}).mappings()
    return {row["skill_id"]: tuple(row[f] for f in FIGURES) for row in rows}


def snapshot(session: Session, tree: SkillTree) -> tuple[Figures, bool] | None:
    """The snapshot as the API reads it (skills with completions only), and `changed`; None
    without one."""
    rows = repository.time_to_complete(session, tree.id)
    if not rows:
        return None
    figures = {
        row["skill_id"]: tuple(row[f] for f in FIGURES)
        for row in rows
        if row["skill_id"] is not None and row["completed"]
    }
    return figures, bool(rows[0]["changed"])


def refresh_like_cron(session: Session) -> list[str]:
    """What `skilltree analytics refresh-times` does, in the caller's transaction."""
    fold(session)
    due = repository.skill_times_due(session)
    for tree_id in due:
        repository.refresh_skill_times(session, tree_id)
    return due


# ---- exactness ---------------------------------------------------------------------------

learner = st.integers(0, 3)
skill = st.integers(0, 2)
operation = st.one_of(
    # a completion: minutes between starting and completing (0: completed without starting)
    st.tuples(st.just("complete"), learner, skill, st.integers(0, 3000), st.integers(0, 300)),
    st.tuples(st.just("complete"), learner, skill, st.integers(0, 3000), st.integers(0, 300)),
    st.tuples(st.just("activity"), learner, skill, st.integers(1, 120)),
    st.tuples(st.just("delete"), learner),
    st.tuples(st.just("fold")),
    st.tuples(st.just("refresh")),
    st.tuples(st.just("check")),  # without folding first: the watermark lags
    st.tuples(st.just("read")),
    st.tuples(st.just("read")),
)


@settings(max_examples=60)
@given(operations=st.lists(operation, max_size=30))
def test_a_refreshed_or_unchanged_snapshot_equals_a_recount(
    engine: Engine, operations: list[tuple[Any, ...]]
) -> None:
    with engine.connect() as connection, connection.begin():
        with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
            tree = make_tree(session, make_category(session))
            other = make_tree(session, make_category(session))
            skills = [make_skill(session, tree) for _ in range(3)]
            bystander = make_skill(session, other)
            learners: list[User | None] = [make_user(session) for _ in range(4)]
            _complete(session, make_user(session), bystander, 0, 30, 5)  # another tree's
            for step, op in enumerate(operations):
                _apply(session, skills, learners, op, step)
                if op[0] == "read":
                    found = snapshot(session, tree)
                    if found is None:
                        repository.refresh_skill_times(session, tree.id, only_missing=True)
                        found = snapshot(session, tree)
                    assert found is not None
                    figures, changed = found
                    if not changed:
                        assert figures == recount(session, tree)

            refresh_like_cron(session)
            if snapshot(session, tree) is None:  # never read: made by the first read
                repository.refresh_skill_times(session, tree.id, only_missing=True)
            assert snapshot(session, tree) == (recount(session, tree), False)
            connection.rollback()


def _complete(session: Session, user: User, skill: Skill, took: int, spent: int, step: int) -> None:
    """`user` completes `skill` (as the engine does: the row, then the event)."""
    done = BASE + timedelta(hours=step)
    session.execute(
        text(
            "INSERT INTO user_skill_progress AS p (id, user_id, skill_id, skill_tree_id, status,"
            " progress_percent, time_spent_minutes, started_at, completed_at, completion_method)"
            " VALUES (md5(:user || :skill), :user, :skill, :tree, 'COMPLETED', 100, :spent,"
            " :started, :done, 'MANUAL')"
            " ON CONFLICT (user_id, skill_id) DO UPDATE SET status = 'COMPLETED',"
            " completion_method = 'MANUAL',"
            " progress_percent = 100, time_spent_minutes = p.time_spent_minutes + :spent,"
            " started_at = coalesce(p.started_at, :started), completed_at = :done"
        ),
        {
            "user": user.id,
            "skill": skill.id,
            "tree": skill.skill_tree_id,
            "spent": spent,
            "started": done - timedelta(minutes=took),
            "done": done,
        },
    )
    add_event(session, user, Kind.COMPLETE, done, skill=skill)


def _apply(
    session: Session,
    skills: list[Skill],
    learners: list[User | None],
    op: tuple[Any, ...],
    step: int,
) -> None:
    kind = op[0]
    if kind == "fold":
        fold(session)
    elif kind == "refresh":
        refresh_like_cron(session)
    elif kind == "check":
        for tree_id in repository.skill_times_due(session):
            repository.refresh_skill_times(session, tree_id)
    elif kind == "delete":
        user = learners[op[1]]
        if user is not None:
            session.execute(text("DELETE FROM users WHERE id = :id"), {"id": user.id})
            learners[op[1]] = None
    elif kind in {"complete", "activity"}:
        user, target = learners[op[1]], skills[op[2]]
        if user is None:
            return
        status = session.execute(
            text("SELECT status FROM user_skill_progress WHERE user_id = :u AND skill_id = :s"),
            {"u": user.id, "s": target.id},
        ).scalar_one_or_none()
        if kind == "complete" and status != "COMPLETED":  # the engine ignores a repeat
            _complete(session, user, target, op[3], op[4], step)
        elif kind == "activity":  # more minutes logged, on a completed skill or not
            session.execute(
                text(
                    "INSERT INTO user_skill_progress AS p (id, user_id, skill_id, skill_tree_id,"
                    " status, time_spent_minutes, started_at)"
                    " VALUES (md5(:u || :s), :u, :s, :tree, 'IN_PROGRESS', :m, :at)"
                    " ON CONFLICT (user_id, skill_id)"
                    " DO UPDATE SET time_spent_minutes = p.time_spent_minutes + :m"
                ),
                {
                    "u": user.id,
                    "s": target.id,
                    "tree": target.skill_tree_id,
                    "m": op[3],
                    "at": BASE + timedelta(hours=step),
                },
            )
            add_event(session, user, Kind.ACTIVITY, BASE + timedelta(hours=step), skill=target)


# ---- freshness in the answer -----------------------------------------------------------


def _times(api: TestClient, world: World) -> dict[str, Any]:
    answer = api.get(PATH, headers=world.headers(world.author))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_the_first_read_computes_the_snapshot_and_says_as_of_when(
    api: TestClient, world: World, session: Session
) -> None:
    newest = session.execute(text("SELECT max(id) FROM progress_events")).scalar_one()
    body = _times(api, world)  # folds first
    assert (body["treeId"], body["slug"]) == (world.tree.id, "fixed")
    assert body["freshness"]["throughEvent"] == newest
    assert body["freshness"]["changedSince"] is False
    assert body["freshness"]["asOf"] == body["freshness"]["computedAt"]
    stored = session.execute(
        text("SELECT count(*) FROM analytics_skill_times WHERE skill_tree_id = :t"),
        {"t": world.tree.id},
    ).scalar_one()
    assert stored == 2  # s1 and s2 have completions; s3 none


def test_a_completion_shows_after_the_refresh_and_is_flagged_until_then(
    api: TestClient, world: World, session: Session
) -> None:
    before = _times(api, world)
    assert {s["key"]: s["completed"] for s in before["skills"]} == {"s1": 2, "s2": 1, "s3": 0}
    l3, s1 = world.learners["l3"], world.skills["s1"]
    _complete(session, l3, s1, took=30, spent=30, step=100)

    pending = _times(api, world)
    assert pending["skills"] == before["skills"]  # the snapshot, as it was
    assert pending["freshness"]["changedSince"] is True

    assert refresh_like_cron(session) == [world.tree.id]
    after = _times(api, world)
    assert {s["key"]: s["completed"] for s in after["skills"]} == {"s1": 3, "s2": 1, "s3": 0}
    assert after["freshness"]["changedSince"] is False
    assert after["freshness"]["throughEvent"] > before["freshness"]["throughEvent"]


def test_a_tree_without_changes_is_marked_current_not_recomputed(
    api: TestClient, world: World, session: Session
) -> None:
    _times(api, world)
    other = make_tree(session, make_category(session))
    elsewhere = make_skill(session, other)
    add_event(session, world.learners["l3"], Kind.ACTIVITY, at(5, 9), skill=elsewhere)
    session.execute(text("UPDATE analytics_time_snapshots SET computed_at = '2026-01-01'"))
    assert refresh_like_cron(session) == []  # only another tree had events
    freshness = _times(api, world)["freshness"]
    assert freshness["computedAt"].startswith("2026-01-01")  # not recomputed
    assert freshness["asOf"] > freshness["computedAt"]  # but found current
    assert (
        freshness["throughEvent"]
        == session.execute(text("SELECT folded_through FROM analytics_fold_state")).scalar_one()
    )


def test_time_logged_on_a_completed_skill_makes_it_due(
    api: TestClient, world: World, session: Session
) -> None:
    _times(api, world)
    add_event(session, world.learners["l1"], Kind.ACTIVITY, at(5, 9), skill=world.skills["s1"])
    session.execute(
        text("UPDATE user_skill_progress SET time_spent_minutes = 500 WHERE user_id = :u"
             " AND skill_id = :s"),
        {"u": world.learners["l1"].id, "s": world.skills["s1"].id},
    )  # fmt: skip
    assert _times(api, world)["freshness"]["changedSince"] is True
    assert refresh_like_cron(session) == [world.tree.id]
    s1 = _times(api, world)["skills"][0]
    assert s1["p50SpentMinutes"] == pytest.approx((500 + 90) / 2)


def test_a_deleted_learner_marks_the_snapshot_stale(
    api: TestClient, world: World, session: Session
) -> None:
    _times(api, world)
    session.execute(text("DELETE FROM users WHERE id = :id"), {"id": world.learners["l2"].id})
    assert _times(api, world)["freshness"]["changedSince"] is True
    assert refresh_like_cron(session) == [world.tree.id]
    body = _times(api, world)
    assert {s["key"]: s["completed"] for s in body["skills"]} == {"s1": 1, "s2": 0, "s3": 0}
    assert body["skills"][0]["p50Minutes"] == pytest.approx(60)
    assert body["freshness"]["changedSince"] is False


def test_a_deleted_trees_snapshot_goes_at_the_next_check(
    api: TestClient, world: World, session: Session
) -> None:
    _times(api, world)
    session.execute(text("DELETE FROM skill_trees WHERE id = :id"), {"id": world.tree.id})
    assert refresh_like_cron(session) == []
    for table in ("analytics_skill_times", "analytics_time_snapshots"):
        left = session.execute(
            text(f"SELECT count(*) FROM {table} WHERE skill_tree_id = :t"), {"t": world.tree.id}
        ).scalar_one()
        assert left == 0


def test_a_tree_without_active_skills_has_an_empty_answer(
    api: TestClient, world: World, session: Session
) -> None:
    session.execute(text("UPDATE skills SET is_active = false WHERE skill_tree_id = :t"),
                    {"t": world.tree.id})  # fmt: skip
    body = _times(api, world)
    assert body["skills"] == []
    assert body["freshness"]["changedSince"] is False


# ---- who may compute and write ----------------------------------------------------------


def _refresh_as(session: Session, user: User, tree: SkillTree, only_missing: bool) -> int:
    act_as_learner(session, user.id)
    try:
        through = session.execute(
            text("SELECT analytics_refresh_skill_times(:t, :o)"),
            {"t": tree.id, "o": only_missing},
        ).scalar_one()
        return int(through)
    finally:
        act_as_owner(session)


def test_the_api_role_computes_only_a_missing_snapshot_of_a_tree_it_may_analyse(
    session: Session, world: World
) -> None:
    fold(session)
    through = _refresh_as(session, world.author, world.tree, only_missing=False)
    _complete(session, world.learners["l3"], world.skills["s1"], took=5, spent=5, step=200)
    fold(session)
    # Asked to recompute, the API's role still only gets the existing snapshot back.
    assert _refresh_as(session, world.admin, world.tree, only_missing=False) == through
    assert snapshot(session, world.tree) is not None
    figures, changed = snapshot(session, world.tree)  # type: ignore[misc]
    assert changed
    assert figures[world.skills["s1"].id][0] == 2
    for outsider in (world.other_author, world.learners["l1"]):
        act_as_learner(session, outsider.id)
        with (
            pytest.raises(ProgrammingError, match="may not analyse tree"),
            session.begin_nested(),
        ):
            session.execute(
                text("SELECT analytics_refresh_skill_times(:t, true)"), {"t": world.tree.id}
            )
        act_as_owner(session)


def test_the_database_hides_the_snapshot_of_others_trees(session: Session, world: World) -> None:
    fold(session)
    repository.refresh_skill_times(session, world.tree.id)
    for table in ("analytics_skill_times", "analytics_time_snapshots"):
        query = text(f"SELECT count(*) FROM {table} WHERE skill_tree_id = :t")
        for user, visible in ((world.author, True), (world.other_author, False)):
            act_as_learner(session, user.id)
            try:
                count = session.execute(query, {"t": world.tree.id}).scalar_one()
            finally:
                act_as_owner(session)
            assert (count > 0) is visible


# ---- the command --------------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture
def committed_tree(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[SkillTree]:
    """A committed tree with one completion, the CLI pointed at the test database."""
    with Session(engine, expire_on_commit=False) as setup:
        category = make_category(setup)
        tree = make_tree(setup, category)
        basics = make_skill(setup, tree, key="basics")
        learner = make_user(setup)
        _complete(setup, learner, basics, took=45, spent=40, step=0)
        setup.commit()
    databases.forget_engine()
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    yield tree
    databases.forget_engine()
    drop_committed(engine, [learner], tree, category)


def test_refresh_times_all_then_only_what_changed(
    engine: Engine, committed_tree: SkillTree
) -> None:
    result = runner.invoke(app, ["analytics", "refresh-times", "--all"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("refreshed the times of ")
    with Session(engine) as check:
        found = snapshot(check, committed_tree)
    assert found is not None
    figures, changed = found
    assert (list(figures.values()), changed) == ([(1, 45.0, 45.0, 40.0, 40.0)], False)
    again = runner.invoke(app, ["analytics", "refresh-times"])
    assert again.exit_code == 0, again.output
    assert "every snapshot is exact up to event" in again.output
