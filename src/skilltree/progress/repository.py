"""Progress queries: a learner's view of one tree, the event functions, counts for achievements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
import psycopg
from sqlalchemy import Integer, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from skilltree.db.atomic import rerun_on_conflict
from skilltree.models import (
    CompletionMethod,
    ProgressEventKind,
    SkillCategory,
    SkillProgressStatus,
    SkillTree,
    TreeProgressStatus,
    UserProfile,
    UserSkillTreeProgress,
)

SKILL_STATUSES = """
    SELECT skill_id, status::text FROM user_skill_progress
    WHERE user_id = %(user)s AND skill_tree_id = %(tree)s
"""
_STATUS = {status.value: status for status in SkillProgressStatus}


def skill_statuses(session: Session, user_id: str, tree_id: str) -> dict[str, SkillProgressStatus]:
    """The status of each skill of tree `tree_id` the learner has a row for. On the session's own
    DBAPI cursor: a learner far into a large tree has 10,000 rows, which SQLAlchemy's result
    layer and enum type took longer to hand over than the query took."""
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(SKILL_STATUSES, {"user": user_id, "tree": tree_id})
        return {skill_id: _STATUS[status] for skill_id, status in cursor.fetchall()}
    finally:
        cursor.close()


# "What next" from the tree's stored ranks (graph.ranks), reading only the learner's rows, the
# dependents of the skills they satisfy, the tree's roots and the dependents of the skills that
# can be worked on, never the whole graph, and no skill's prerequisites one by one. `tally`, one
# aggregate, says for each skill met on the way how many of its prerequisites the learner
# satisfies, whether it is a root, and whether it is started or done. A skill can be worked on
# when it is started, or when it is not done and it is a root or as many of its prerequisites are
# satisfied as its stored rank counts; finishing a workable skill alone unlocks a dependent not
# taken whose count exceeds its satisfied ones by exactly one (that workable skill is the one: it
# is not satisfied). Skills are looked up only once they are workable. Every look-up goes by an
# index, one row at a time (LATERAL ... OFFSET 0), and CTEs are joined to each other only as
# wholes: the planner may not turn a look-up into a scan of the tree (or of every tree: a NOT
# EXISTS it hashed read every edge of the database), nor scan a CTE once per row (its estimates
# of a CTE's rows are guesses). Two kinds of row: 'skill', each skill the learner can work on now
# with what it is ranked by; 'unlocks', each dependent of those that exactly one unsatisfied
# prerequisite holds back, with that prerequisite. The first row says whether the tree's ranks
# are current (the others only come when they are), in the same snapshot as the ranks.
# progress.paths ranks them.
NEXT_SKILLS = """
WITH ranked AS MATERIALIZED (
    SELECT EXISTS (SELECT FROM skill_tree_ranks WHERE skill_tree_id = %(tree)s) AS current
), mine AS MATERIALIZED (
    SELECT r.skill_id, r.status,
           coalesce(r.status = 'COMPLETED' OR (r.status = 'SKIPPED' AND s.is_optional), false)
               AS satisfied
    FROM user_skill_progress r
    CROSS JOIN LATERAL (
        SELECT k.skill_id FROM skill_ranks k WHERE k.skill_id = r.skill_id OFFSET 0) k
    LEFT JOIN LATERAL (
        SELECT s.is_optional FROM skills s
        WHERE s.id = r.skill_id AND r.status = 'SKIPPED' OFFSET 0) s ON true
    WHERE r.user_id = %(user)s AND r.skill_tree_id = %(tree)s AND (SELECT current FROM ranked)
), tally AS MATERIALIZED (
    SELECT t.skill_id, count(*) FILTER (WHERE t.kind = 'met') AS satisfied,
           bool_or(t.kind = 'root') AS root, bool_or(t.kind = 'started') AS started,
           bool_or(t.kind IN ('started', 'done')) AS taken
    FROM (
        SELECT d.skill_id, 'met' AS kind FROM mine m
        CROSS JOIN LATERAL (
            SELECT d.skill_id FROM skill_dependencies d
            WHERE d.depends_on_id = m.skill_id OFFSET 0) d
        WHERE m.satisfied
        UNION ALL
        SELECT k.skill_id, 'root' FROM skill_ranks k
        WHERE k.skill_tree_id = %(tree)s AND k.prerequisites = 0 AND (SELECT current FROM ranked)
        UNION ALL
        SELECT m.skill_id, CASE WHEN m.status = 'IN_PROGRESS' THEN 'started' ELSE 'done' END
        FROM mine m WHERE m.status IN ('IN_PROGRESS', 'COMPLETED', 'SKIPPED')
    ) t
    GROUP BY t.skill_id
), open AS MATERIALIZED (
    SELECT t.skill_id, t.started, t.root, t.satisfied FROM tally t WHERE t.started OR NOT t.taken
), ready AS MATERIALIZED (
    SELECT t.skill_id, t.started, k.chain_ahead, k.dependents
    FROM open t
    CROSS JOIN LATERAL (
        SELECT k.prerequisites, k.chain_ahead, k.dependents FROM skill_ranks k
        WHERE k.skill_id = t.skill_id OFFSET 0) k
    WHERE t.started OR t.root OR t.satisfied = k.prerequisites
), workable AS MATERIALIZED (
    SELECT c.id, c.name, c.estimated_minutes, c.xp_value, c.is_milestone, c.position_y,
           c.position_x, t.started, t.chain_ahead, t.dependents
    FROM ready t
    CROSS JOIN LATERAL (
        SELECT c.* FROM skills c WHERE c.id = t.skill_id OFFSET 0) c
), edges AS MATERIALIZED (
    SELECT w.id AS holder, d.skill_id
    FROM workable w
    CROSS JOIN LATERAL (
        SELECT d.skill_id FROM skill_dependencies d WHERE d.depends_on_id = w.id OFFSET 0) d
), held AS MATERIALIZED (
    SELECT e.holder, e.skill_id, coalesce(t.satisfied, 0) AS satisfied
    FROM edges e LEFT JOIN tally t ON t.skill_id = e.skill_id
    WHERE NOT coalesce(t.taken, false)
)

SELECT 'ranked', NULL, NULL, NULL, (SELECT current FROM ranked), NULL::integer,
       NULL::integer, NULL::boolean, NULL::float8, NULL::float8, NULL::integer, NULL::integer
UNION ALL
SELECT 'skill', w.id, w.name, NULL, w.started, w.estimated_minutes, w.xp_value, w.is_milestone,
       w.position_y, w.position_x, w.chain_ahead, w.dependents
FROM workable w
UNION ALL
SELECT 'unlocks', x.id, x.name, h.holder, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM held h
CROSS JOIN LATERAL (
    SELECT k.prerequisites FROM skill_ranks k WHERE k.skill_id = h.skill_id OFFSET 0) k
CROSS JOIN LATERAL (
    SELECT x.id, x.name FROM skills x WHERE x.id = h.skill_id OFFSET 0) x
WHERE k.prerequisites - h.satisfied = 1
"""


@dataclass(frozen=True)
class Workable:
    """A skill the learner can work on now, as NEXT_SKILLS answers it."""

    id: str
    name: str
    started: bool
    estimated_minutes: int | None
    xp_value: int
    is_milestone: bool
    position: tuple[float, float]
    """(y, x)."""
    chain_ahead: int
    dependents: int


@dataclass(frozen=True)
class NextFacts:
    """What "what next" ranks from: the skills the learner can work on now, and for some skills
    the dependents (id, name) that finishing it alone would unlock (for skills that are not
    workable too: the caller keeps those of the workable ones)."""

    workable: list[Workable]
    unlocks: dict[str, list[tuple[str, str]]]


def next_facts(session: Session, user_id: str, tree_id: str) -> NextFacts | None:
    """What "what next" ranks the learner's skills of tree `tree_id` by, from the tree's stored
    ranks (NEXT_SKILLS); None when they are not current (the tree changed by a writer that did
    not store them: graph.ranks)."""
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(NEXT_SKILLS, {"user": user_id, "tree": tree_id})
        rows = cursor.fetchall()
    finally:
        cursor.close()
    workable: list[Workable] = []
    unlocks: dict[str, list[tuple[str, str]]] = {}
    current = False
    for kind, skill, name, holder, flag, minutes, xp, milestone, y, x, chain, dependents in rows:
        if kind == "ranked":
            current = flag
        elif kind == "skill":
            workable.append(
                Workable(skill, name, flag, minutes, xp, milestone, (y, x), chain, dependents)
            )
        else:
            unlocks.setdefault(holder, []).append((skill, name))
    return NextFacts(workable, unlocks) if current else None


# The event functions answer JSON as text, parsed by orjson: psycopg's jsonb loader (the json
# module) and SQLAlchemy's result layer cost more client CPU than the rest of an event's Python
# (benchmarks/RESULTS.md, bench_progress).
SKILL_EVENT = (
    'SELECT progress_skill_event(%s::"ProgressEventKind", %s, %s, %s, %s,'
    ' %s::"CompletionMethod", %s, %s, %s::jsonb, %s)::text'
)
ENROL = "SELECT progress_enrol(%s, %s, %s, %s)::text"


# The event runs in a savepoint of its own, set and released in the round trip of the call
# (a pipeline): a deadlock or serialization failure rolls back to it and the event runs again,
# as `atomic` runs services, without one round trip more for each end of the savepoint.
_SAVEPOINT = "SAVEPOINT progress_event"
_RELEASE = "RELEASE SAVEPOINT progress_event"
_ROLLBACK = "ROLLBACK TO SAVEPOINT progress_event"


def _call(session: Session, sql: str, parameters: tuple[object, ...]) -> dict[str, Any]:
    """The JSON answer of one event function called with `parameters`, in the session's
    transaction, sent straight through its psycopg connection (no SQLAlchemy statement or result
    layer): one round trip (and the transaction's BEGIN when it is the first statement), run
    again after a deadlock or a serialization failure (`rerun_on_conflict`); raised as
    SQLAlchemy's DBAPIError with nothing of the call left. psycopg prepares the statement once it
    has run a few times on the connection."""
    driver = session.connection().connection.driver_connection
    assert isinstance(driver, psycopg.Connection)

    def attempt() -> Any:
        try:
            with driver.pipeline():
                driver.execute(_SAVEPOINT)
                cursor = driver.execute(sql, parameters)
                driver.execute(_RELEASE)  # (skipped by the server if the call failed)
            return cursor.fetchone()
        except psycopg.Error as error:  # as SQLAlchemy would raise it (error handlers, retries)
            if driver.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
                driver.execute(_ROLLBACK)  # (not on a connection that is gone)
            raise DBAPIError.instance(sql, parameters, error, psycopg.Error) from error

    row = rerun_on_conflict(attempt)
    assert row is not None
    answer: dict[str, Any] = orjson.loads(row[0])
    return answer


def skill_event(
    session: Session,
    kind: ProgressEventKind,
    user_id: str,
    skill_id: str,
    now: datetime,
    *,
    unpublished_ok: bool,
    method: CompletionMethod = CompletionMethod.MANUAL,
    score: float | None = None,
    assessment_id: str | None = None,
    evidence: dict[str, Any] | None = None,
    minutes: int = 0,
) -> dict[str, Any]:
    """Run one skill event (`progress_skill_event`, db/schema/progress.sql): its outcome as JSON, or
    `{"refused": <why>, ...}` having written nothing."""
    return _call(
        session,
        SKILL_EVENT,
        (
            kind.value,
            user_id,
            skill_id,
            now,
            unpublished_ok,
            method.value,
            score,
            assessment_id,
            orjson.dumps(evidence).decode() if evidence is not None else None,
            minutes,
        ),
    )


def enrol(
    session: Session, user_id: str, slug: str, now: datetime, *, unpublished_ok: bool
) -> dict[str, Any]:
    """Enrol the learner in tree `slug` (`progress_enrol`, db/schema/progress.sql): as
    `skill_event`."""
    return _call(session, ENROL, (user_id, slug, now, unpublished_ok))


def profile_as_of(session: Session, user_id: str, now: datetime) -> dict[str, Any]:
    """The learner's totals, the streak as shown at `now` (0 after a missed day), by the same
    SQL rule the events use; zeros for a learner without a profile yet."""
    row = session.execute(
        select(
            UserProfile.total_xp,
            UserProfile.current_level,
            func.streak_as_of(
                UserProfile.current_streak,
                UserProfile.last_activity_at,
                now,
                UserProfile.timezone,
                type_=Integer,
            ).label("current_streak"),
            UserProfile.max_streak,
            UserProfile.skills_completed,
            UserProfile.hours_learned,
            UserProfile.trees_started,
            UserProfile.trees_completed,
        ).where(UserProfile.user_id == user_id)
    ).one_or_none()
    if row is None:
        return dict.fromkeys(PROFILE_FIELDS, 0) | {"current_level": 1}
    return dict(row._mapping)


PROFILE_FIELDS = (
    "total_xp",
    "current_level",
    "current_streak",
    "max_streak",
    "skills_completed",
    "hours_learned",
    "trees_started",
    "trees_completed",
)


@dataclass(frozen=True)
class LearnerMeasures:
    """The learner-wide numbers achievement criteria are measured against (`gamification.rules`);
    the engine measures the same in SQL (`achievement_measure`)."""

    skills_completed: int = 0
    total_xp: int = 0
    best_streak: int = 0
    trees_completed: int = 0
    milestones_reached: int = 0
    hours_learned: float = 0
    """Time measured on content (heartbeats), in hours: the profile's hours learned."""
    skills_by_category: dict[str, int] = field(default_factory=dict)
    skills_mastered: int = 0
    """Skills whose last review left them MASTERED (`mastery_skills_mastered`)."""


def measures(session: Session, user_id: str) -> LearnerMeasures:
    """The learner's completed active skills (by category), trees and milestones, exactly: from
    their enrolments, which the engine keeps (as it measures achievements:
    db/schema/progress.sql); XP and best streak from their profile (zeros without one)."""
    by_category: dict[str, int] = {
        slug: int(count)
        for slug, count in session.execute(
            select(SkillCategory.slug, func.sum(UserSkillTreeProgress.skills_completed))
            .select_from(UserSkillTreeProgress)
            .join(SkillTree, SkillTree.id == UserSkillTreeProgress.skill_tree_id)
            .join(SkillCategory, SkillCategory.id == SkillTree.category_id)
            .where(UserSkillTreeProgress.user_id == user_id)
            .group_by(SkillCategory.slug)
        ).tuples()
        if count
    }
    trees_completed, milestones_reached = session.execute(
        select(
            func.count().filter(UserSkillTreeProgress.status == TreeProgressStatus.COMPLETED),
            func.coalesce(func.sum(func.cardinality(UserSkillTreeProgress.milestones_reached)), 0),
        ).where(UserSkillTreeProgress.user_id == user_id)
    ).one()
    profile = session.execute(
        select(UserProfile.total_xp, UserProfile.max_streak, UserProfile.hours_learned).where(
            UserProfile.user_id == user_id
        )
    ).one_or_none()
    total_xp, best_streak, hours_learned = profile if profile else (0, 0, 0.0)
    mastered = session.execute(
        text("SELECT mastery_skills_mastered(:user)"), {"user": user_id}
    ).scalar_one()
    return LearnerMeasures(
        skills_completed=sum(by_category.values()),
        total_xp=total_xp,
        best_streak=best_streak,
        trees_completed=int(trees_completed),
        milestones_reached=int(milestones_reached),
        hours_learned=hours_learned,
        skills_by_category=by_category,
        skills_mastered=int(mastered),
    )


def enrolments(session: Session, user_id: str) -> list[tuple[UserSkillTreeProgress, SkillTree]]:
    """The learner's enrolments with their trees, most recently active first."""
    return [
        (enrolment, tree)
        for enrolment, tree in session.execute(
            select(UserSkillTreeProgress, SkillTree)
            .join(SkillTree, SkillTree.id == UserSkillTreeProgress.skill_tree_id)
            .where(UserSkillTreeProgress.user_id == user_id)
            .order_by(
                UserSkillTreeProgress.last_activity_at.desc().nulls_last(),
                UserSkillTreeProgress.created_at.desc(),
                SkillTree.slug,
            )
        ).tuples()
    ]


def hold_learners(session: Session, tree_id: str) -> list[str] | None:
    """Before a change of tree `tree_id` writes anything: lock the tree (no learner enrols in it
    meanwhile) and then its learners' profiles (waiting for their events in flight), until the
    transaction ends; the learners, to recount afterwards (`recount_learners`); None: no such
    tree. Through `skilltree.catalog.tree_writes`, which every change of a tree goes through.

    Runs as `hold_tree_learners()` (db/schema/progress.sql), a SECURITY DEFINER function: under
    row-level security the author's request may not see the learners' rows.
    """
    held = session.scalar(text("SELECT hold_tree_learners(:tree)"), {"tree": tree_id})
    return None if held is None else list(held)


def recount_learners(session: Session, tree_id: str, learners: Sequence[str]) -> None:
    """After a change of tree `tree_id` (deleted or not), whose learners `hold_learners` held:
    unlock what the tree now frees for them, recount their enrolments in it and their profiles'
    counters (`refresh_tree_enrolments()`, db/schema/progress.sql, SECURITY DEFINER as above)."""
    session.flush()
    session.execute(
        text("SELECT refresh_tree_enrolments(:tree, :learners)"),
        {"tree": tree_id, "learners": list(learners)},
    )
