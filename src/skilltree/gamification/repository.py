"""Gamification queries: earned achievements, the leaderboard and a learner's rank."""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from skilltree.db.rls import fetch_all
from skilltree.models import (
    Achievement,
    UserAchievement,
    XpHistogram,
    XpHistogramPending,
)


def achievements_with_earning(
    session: Session, user_id: str
) -> list[tuple[Achievement, UserAchievement | None]]:
    """Every active achievement with the learner's earning of it (None if not earned)."""
    return [
        (achievement, earning)
        for achievement, earning in session.execute(
            select(Achievement, UserAchievement)
            .outerjoin(
                UserAchievement,
                (UserAchievement.achievement_id == Achievement.id)
                & (UserAchievement.user_id == user_id),
            )
            .where(Achievement.is_active)
            .order_by(Achievement.name, Achievement.id)
        ).tuples()
    ]


# Serial: at a million profiles the planner ran it on two parallel workers (10.6 ms against
# 0.4 ms serial, benchmarks/million.py): the index on total_xp read backwards gives the order,
# and only the learners tied at the last XP it needs are sorted by username.
TOP_LEARNERS_SQL = """
SELECT u.username, p.current_level, p.total_xp
FROM user_profiles p JOIN users u ON u.id = p.user_id
ORDER BY p.total_xp DESC, u.username
LIMIT %(limit)s
"""
SERIAL = {"max_parallel_workers_per_gather": "0"}
"""For the rest of the transaction (fetch_all): what the leaderboard reads after it is small."""


def top_learners(session: Session, limit: int) -> list[tuple[str, int, int]]:
    """(username, level, XP) of the `limit` learners with the most XP (ties by username)."""
    rows = fetch_all(session, TOP_LEARNERS_SQL, {"limit": limit}, settings=SERIAL)
    return [(username, level, xp) for username, level, xp in rows]


def rank_of_xp(session: Session, total_xp: int) -> int:
    """The competition rank of a learner with `total_xp`: 1 + learners with more XP, summed over
    the XP histogram and its pending changes (one row per distinct XP value above, not one per
    learner). XP changes reach the histogram at commit: this transaction's own come first."""
    session.execute(text("SET CONSTRAINTS user_profiles_xp_histogram_update IMMEDIATE"))
    above = select(func.coalesce(func.sum(XpHistogram.learners), 0)).where(
        XpHistogram.total_xp > total_xp
    )
    pending = select(func.coalesce(func.sum(XpHistogramPending.learners), 0)).where(
        XpHistogramPending.total_xp > total_xp
    )
    counted = session.scalar(select(above.scalar_subquery() + pending.scalar_subquery()))
    return 1 + int(counted or 0)


# Rows this transaction may move: every value with pending changes or with no learners left,
# locked in ascending order, skipping those a progress event holds right now (it folds their
# pending changes itself): housekeeping never makes a learner wait.
_HISTOGRAM_ROWS_SQL = text("""
SELECT total_xp FROM xp_histogram
WHERE learners = 0 OR total_xp IN (SELECT total_xp FROM xp_histogram_pending)
ORDER BY total_xp
FOR UPDATE SKIP LOCKED
""")
_FOLD_PENDING_SQL = text("""
WITH folded AS (
    DELETE FROM xp_histogram_pending WHERE total_xp = ANY (:values)
    RETURNING total_xp, learners
), sums AS (
    SELECT total_xp, sum(learners) AS learners, count(*) AS changes FROM folded GROUP BY total_xp
), moved AS (
    UPDATE xp_histogram h SET learners = h.learners + sums.learners
    FROM sums WHERE h.total_xp = sums.total_xp
)
SELECT coalesce(sum(changes), 0) FROM sums
""")
_DROP_EMPTY_SQL = text("""
DELETE FROM xp_histogram h
WHERE h.total_xp = ANY (:values) AND h.learners = 0
  AND NOT EXISTS (SELECT FROM xp_histogram_pending p WHERE p.total_xp = h.total_xp)
""")


def compact_xp_histogram(session: Session) -> tuple[int, int]:
    """Fold the XP histogram's pending changes into their rows and drop the rows no learner
    holds (as the database owner: housekeeping). Ranks read the same before and after, only
    from fewer rows. Returns (pending changes folded, empty rows dropped)."""
    values = list(session.scalars(_HISTOGRAM_ROWS_SQL))
    if not values:
        return 0, 0
    folded = int(session.scalar(_FOLD_PENDING_SQL, {"values": values}) or 0)
    dropped = session.execute(_DROP_EMPTY_SQL, {"values": values}).rowcount  # type: ignore[attr-defined]
    return folded, int(dropped)
