"""Analytics queries: the named .sql files of this package, run with bound parameters only.

Authors' and admins' queries read across learners through the views in db/schema/analytics.sql,
which let through only the trees (or the platform) the caller may analyse; a learner's own queries
read their rows under row-level security. Each returns plain rows (mappings).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from functools import cache
from importlib.resources import files
from typing import Any

from sqlalchemy import RowMapping, text
from sqlalchemy.orm import Session

TAIL_FOLD_THRESHOLD = 10_000
"""Events after the watermark above which a read folds them first (analytics_fold()): counting
a tail this long keeps the completions series within its 500 ms (benchmarks/RESULTS.md)."""
FOLD_CHUNK = 50_000
"""Event ids folded per transaction by a read or `skilltree analytics fold` (the fold keeps
learners' events waiting while it runs: a long history goes in several short turns)."""


@cache
def query(name: str) -> str:
    """The text of `<name>.sql` (psycopg placeholders, run as it is)."""
    return files("skilltree.analytics").joinpath(f"{name}.sql").read_text("utf-8")


# Planned for each call's own values, never once for all (for the rest of the transaction):
# psycopg prepares a statement from its sixth run, and PostgreSQL then settled on a generic plan
# of completions.sql whose probe per tail learner walked the whole day's events by time (3.2 s
# with a 5,000-event tail, against 33 ms planned with the values: benchmarks/bench_analytics.py).
CUSTOM_PLANS = "SELECT set_config('plan_cache_mode', 'force_custom_plan', true)"


def _rows(session: Session, name: str, parameters: Mapping[str, Any]) -> Sequence[RowMapping]:
    connection = session.connection()
    connection.exec_driver_sql(CUSTOM_PLANS)
    result = connection.exec_driver_sql(query(name), dict(parameters))
    return result.mappings().all()


def fold(session: Session, min_tail: int = 0, max_ids: int | None = None) -> int:
    """Fold the committed events after the watermark into the aggregates (only when at least
    `min_tail` lie after it; at most `max_ids` ids of them); how many."""
    folded = session.execute(
        text("SELECT analytics_fold(:min, :max)"), {"min": min_tail, "max": max_ids}
    ).scalar_one()
    return int(folded)


def fold_state(session: Session) -> tuple[int, datetime | None, int]:
    """The watermark, when it last moved, and how many events may lie after it (by id); the
    watermark then stays put until the transaction ends (analytics_watermark())."""
    row = session.execute(
        text("SELECT folded_through, folded_at, newest_event FROM analytics_watermark()")
    ).one()
    return int(row[0]), row[1], int(row[2]) - int(row[0])


def enrolment_count(session: Session, tree_id: str) -> int:
    """Learners enrolled in the tree (0 when the caller may not analyse it)."""
    return int(
        session.execute(
            text("SELECT count(*) FROM analytics_enrolments WHERE skill_tree_id = :tree"),
            {"tree": tree_id},
        ).scalar_one()
    )


def funnel(session: Session, tree_id: str, folded_through: int) -> Sequence[RowMapping]:
    """funnel.sql."""
    return _rows(session, "funnel", {"tree_id": tree_id, "folded_through": folded_through})


def completions(
    session: Session, tree_id: str, first_day: date, last_day: date, folded_through: int
) -> Sequence[RowMapping]:
    """completions.sql."""
    parameters = {
        "tree_id": tree_id,
        "first_day": first_day,
        "last_day": last_day,
        "folded_through": folded_through,
    }
    return _rows(session, "completions", parameters)


def learners(
    session: Session, tree_id: str, sort: str, limit: int, offset: int, now: datetime
) -> Sequence[RowMapping]:
    """learners.sql."""
    parameters = {"tree_id": tree_id, "sort": sort, "limit": limit, "offset": offset, "now": now}
    return _rows(session, "learners", parameters)


def stalls(session: Session, tree_id: str, now: datetime, limit: int) -> Sequence[RowMapping]:
    """stalls.sql."""
    return _rows(session, "stalls", {"tree_id": tree_id, "now": now, "limit": limit})


def time_to_complete(session: Session, tree_id: str) -> Sequence[RowMapping]:
    """time_to_complete.sql: the tree's snapshot with its freshness (no row without one)."""
    return _rows(session, "time_to_complete", {"tree_id": tree_id})


def refresh_skill_times(session: Session, tree_id: str, only_missing: bool = False) -> int | None:
    """Recompute the tree's time-to-complete snapshot (one grouped pass over its COMPLETED
    rows; with `only_missing`, only when it has none, which is all the API's role may ask);
    the event id it is exact through (None when the tree does not exist)."""
    through = session.execute(
        text("SELECT analytics_refresh_skill_times(:tree, :only_missing)"),
        {"tree": tree_id, "only_missing": only_missing},
    ).scalar_one()
    return None if through is None else int(through)


def skill_times_due(session: Session) -> list[str]:
    """Marks current every snapshot whose tree had no COMPLETE or ACTIVITY event since it (up to
    the fold's watermark); the trees whose snapshot must be recomputed."""
    return list(session.execute(text("SELECT analytics_skill_times_check()")).scalars())


def trees_with_completions(session: Session) -> list[str]:
    """Every tree with COMPLETED rows or a snapshot (for a refresh of them all)."""
    return list(
        session.execute(
            text(
                "SELECT id FROM skill_trees t WHERE EXISTS (SELECT FROM user_skill_progress p"
                " WHERE p.skill_tree_id = t.id AND p.status = 'COMPLETED')"
                " OR EXISTS (SELECT FROM analytics_time_snapshots n WHERE n.skill_tree_id = t.id)"
                " ORDER BY id"
            )
        ).scalars()
    )


def calendar(
    session: Session, user_id: str, zone: str | None, now: datetime, days: int
) -> Sequence[RowMapping]:
    """calendar.sql."""
    return _rows(session, "calendar", {"user_id": user_id, "zone": zone, "now": now, "days": days})


def pace(session: Session, user_id: str, tree_id: str, now: datetime) -> RowMapping | None:
    """pace.sql."""
    rows = _rows(session, "pace", {"user_id": user_id, "tree_id": tree_id, "now": now})
    return rows[0] if rows else None


def platform_active(
    session: Session, now: datetime, days: int, weeks: int, months: int, folded_through: int
) -> Sequence[RowMapping]:
    """platform_active.sql."""
    parameters = {
        "now": now,
        "days": days,
        "weeks": weeks,
        "months": months,
        "folded_through": folded_through,
    }
    return _rows(session, "platform_active", parameters)


def cohorts(session: Session, now: datetime, weeks: int) -> Sequence[RowMapping]:
    """cohorts.sql."""
    return _rows(session, "cohorts", {"now": now, "weeks": weeks})


def tree_cohorts(session: Session, tree_id: str, now: datetime, weeks: int) -> Sequence[RowMapping]:
    """tree_cohorts.sql."""
    return _rows(session, "tree_cohorts", {"tree_id": tree_id, "now": now, "weeks": weeks})


def timezone_of(session: Session, user_id: str) -> str | None:
    """The learner's time zone as stored in their profile (None without one)."""
    zone: str | None = session.execute(
        text("SELECT timezone FROM user_profiles WHERE user_id = :user"), {"user": user_id}
    ).scalar_one_or_none()
    return zone


def item_analysis(session: Session, skill_id: str) -> Sequence[RowMapping]:
    """item_analysis.sql: no row when the skill has no bank."""
    return _rows(session, "item_analysis", {"skill_id": skill_id})


def hardest_questions(
    session: Session, tree_id: str, min_attempts: int, limit: int
) -> Sequence[RowMapping]:
    """hardest_questions.sql."""
    parameters = {"tree_id": tree_id, "min_attempts": min_attempts, "limit": limit}
    return _rows(session, "hardest_questions", parameters)


def assessment_outcomes(session: Session, tree_id: str) -> Sequence[RowMapping]:
    """assessment_outcomes.sql."""
    return _rows(session, "assessment_outcomes", {"tree_id": tree_id})


def review_waits(session: Session, tree_id: str, now: datetime) -> Sequence[RowMapping]:
    """review_waits.sql."""
    return _rows(session, "review_waits", {"tree_id": tree_id, "now": now})
