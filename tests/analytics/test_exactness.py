"""The aggregates are exact: folded part + tail equals a full recount of the audit trail, after
any mix of activity, folds (whole or in parts) and deleted learners."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from skilltree.analytics import repository
from skilltree.models import ProgressEventKind, Skill, SkillTree, User
from tests.factories import make_category, make_skill, make_tree, make_user

Kind = ProgressEventKind
FIRST = date(2026, 3, 1)
DAYS = 10
LEARNING = {"START", "COMPLETE", "SKIP", "ACTIVITY"}

event = st.tuples(
    st.just("event"),
    st.integers(0, 2),  # learner
    st.sampled_from([k.value for k in Kind if k.value not in {"ACHIEVEMENT", "LEVEL_UP"}]),
    st.integers(0, 2),  # skill
    st.integers(0, 2),  # day (few, so that days are shared across folds)
    st.integers(0, 24 * 60 - 1),  # minute of the day
)
operation = st.one_of(
    event,
    event,
    event,
    event,
    st.tuples(st.just("fold"), st.sampled_from([None, 1, 2, 5])),
    st.tuples(st.just("delete"), st.integers(0, 2)),
)


def _recount_funnel(session: Session, tree: SkillTree) -> dict[str, tuple[int, ...]]:
    rows = session.execute(
        text(
            "SELECT skill_id, count(*) FILTER (WHERE kind = 'UNLOCK'),"
            " count(*) FILTER (WHERE kind = 'START'), count(*) FILTER (WHERE kind = 'COMPLETE'),"
            " count(*) FILTER (WHERE kind = 'SKIP')"
            " FROM progress_events WHERE skill_tree_id = :tree AND skill_id IS NOT NULL"
            " GROUP BY skill_id"
        ),
        {"tree": tree.id},
    ).all()
    return {row[0]: tuple(row[1:]) for row in rows if any(row[1:])}


def _recount_days(session: Session, tree: SkillTree) -> dict[date, tuple[int, int, int]]:
    rows = session.execute(
        text(
            "SELECT (occurred_at AT TIME ZONE 'UTC')::date,"
            " count(*) FILTER (WHERE kind = 'ENROLL'), count(*) FILTER (WHERE kind = 'COMPLETE'),"
            " count(DISTINCT user_id) FILTER (WHERE kind IN"
            " ('START', 'COMPLETE', 'SKIP', 'ACTIVITY'))"
            " FROM progress_events WHERE skill_tree_id = :tree GROUP BY 1"
        ),
        {"tree": tree.id},
    ).all()
    return {row[0]: (row[1], row[2], row[3]) for row in rows if any(row[1:])}


def _recount_platform(session: Session, learners: list[str]) -> Counter[tuple[str, date]]:
    rows = session.execute(
        text(
            "SELECT DISTINCT user_id, (occurred_at AT TIME ZONE 'UTC')::date FROM progress_events"
            " WHERE user_id = ANY(:users) AND skill_tree_id IS NOT NULL"
            " AND kind IN ('START', 'COMPLETE', 'SKIP', 'ACTIVITY')"
        ),
        {"users": learners},
    ).all()
    counted: Counter[tuple[str, date]] = Counter()
    for period in ("day", "week", "month"):
        starts = {(user, day if period == "day" else _start(period, day)) for user, day in rows}
        counted.update((period, start) for _, start in starts)
    return counted


def _start(period: str, day: date) -> date:
    if period == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _answer_funnel(session: Session, tree: SkillTree) -> dict[str, tuple[int, ...]]:
    through, _, _ = repository.fold_state(session)
    return {
        row["skill_id"]: (row["unlocked"], row["started"], row["completed"], row["skipped"])
        for row in repository.funnel(session, tree.id, through)
        if row["unlocked"] or row["started"] or row["completed"] or row["skipped"]
    }


def _answer_days(session: Session, tree: SkillTree) -> dict[date, tuple[int, int, int]]:
    through, _, _ = repository.fold_state(session)
    last = FIRST + timedelta(days=DAYS - 1)
    return {
        row["day"]: (row["enrolments"], row["completions"], row["active_learners"])
        for row in repository.completions(session, tree.id, FIRST, last, through)
        if row["enrolments"] or row["completions"] or row["active_learners"]
    }


def _answer_platform(session: Session) -> Counter[tuple[str, date]]:
    through, _, _ = repository.fold_state(session)
    now = datetime(2026, 3, DAYS, 12, tzinfo=UTC)
    rows = repository.platform_active(session, now, DAYS + 7, 4, 2, through)
    return Counter(
        {(r["period"], r["first_day"]): r["active_learners"] for r in rows if r["active_learners"]}
    )


def _folded_tables(
    session: Session, tree: SkillTree
) -> tuple[dict[str, tuple[int, ...]], dict[date, tuple[int, int, int]]]:
    funnel = {
        row[0]: tuple(row[1:])
        for row in session.execute(
            text(
                "SELECT skill_id, unlocked, started, completed, skipped"
                " FROM analytics_skill_counts WHERE skill_tree_id = :tree"
            ),
            {"tree": tree.id},
        )
        if any(row[1:])
    }
    days = {
        row[0]: tuple(row[1:])
        for row in session.execute(
            text(
                "SELECT day, enrolments, completions, active_learners"
                " FROM analytics_tree_days WHERE skill_tree_id = :tree"
            ),
            {"tree": tree.id},
        )
        if any(row[1:])
    }
    return funnel, days  # type: ignore[return-value]


@settings(max_examples=60)
@given(operations=st.lists(operation, max_size=40))
def test_folded_plus_tail_equals_a_recount(
    engine: Engine, operations: list[tuple[object, ...]]
) -> None:
    # A transaction of its own for each example, rolled back after it.
    with engine.connect() as connection, connection.begin():
        with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
            tree = make_tree(session, make_category(session))
            skills = [make_skill(session, tree) for _ in range(3)]
            learners: list[User | None] = [make_user(session) for _ in range(3)]
            ids = [u.id for u in learners if u is not None]
            _apply(session, tree, skills, learners, operations)

            assert _answer_funnel(session, tree) == _recount_funnel(session, tree)
            assert _answer_days(session, tree) == _recount_days(session, tree)
            assert _answer_platform(session) == _recount_platform(session, ids)

            session.execute(text("SELECT analytics_fold()"))
            funnel, days = _folded_tables(session, tree)
            assert funnel == _recount_funnel(session, tree)
            assert days == _recount_days(session, tree)
            connection.rollback()


def _apply(
    session: Session,
    tree: SkillTree,
    skills: list[Skill],
    learners: list[User | None],
    operations: list[tuple[object, ...]],
) -> None:
    for op in operations:
        if op[0] == "fold":  # all of the tail, or only the next few ids of it
            session.execute(text("SELECT analytics_fold(0, :ids)"), {"ids": op[1]})
        elif op[0] == "delete":
            user = learners[int(op[1])]  # type: ignore[call-overload]
            if user is not None:
                session.execute(text("DELETE FROM users WHERE id = :id"), {"id": user.id})
                learners[int(op[1])] = None  # type: ignore[call-overload]
        else:
            _, who, kind, skill, day, minute = op
            user = learners[int(who)]  # type: ignore[call-overload]
            if user is None:
                continue
            when = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(days=int(day), minutes=int(minute))  # type: ignore[call-overload]
            session.execute(
                text(
                    "INSERT INTO progress_events (user_id, kind, occurred_at, skill_tree_id,"
                    " skill_id) VALUES (:user, :kind, :at, :tree, :skill)"
                ),
                {
                    "user": user.id,
                    "kind": kind,
                    "at": when,
                    "tree": tree.id,
                    "skill": None if kind == "ENROLL" else skills[int(skill)].id,  # type: ignore[call-overload]
                },
            )
