"""Mastery queries: learners' cards as they stand now (stored, or the completion standing for a
card not reviewed yet), and the two halves of a review (db/schema/mastery.sql)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.orm import Session

# Every completed active skill of the learner with its card: the stored one, or (never reviewed)
# the one its completion stands for (rated by mastery_completion_rating, first due after
# mastery_first_days). The learner first (the key of each table), then the skills. The
# completions without a card are found first, by a hashed `NOT IN` of the learner's cards
# (skill_mastery.skill_id is never NULL), and `OFFSET 0` keeps the query's own conditions
# (`due_at <= :now`) out of that subquery: pushed down, they rated every completion (a PL/pgSQL
# call each) before the anti-join dropped those with a card. For a learner with 1,000 cards the
# query went from 2.8 to 1.5 ms (benchmarks/bench_mastery.py).
_CARDS = """
WITH cards AS (
    SELECT m.skill_id, m.level, m.due_at, m.last_reviewed_at, m.reviews, m.lapses
    FROM skill_mastery m WHERE m.user_id = :user
    UNION ALL
    SELECT r.skill_id, mastery_level_for(CASE WHEN c.rating >= 3 THEN 1 ELSE 0 END, c.rating >= 3),
           r.completed_at + make_interval(days => mastery_first_days(c.rating)),
           r.completed_at, 0, 0
    FROM (SELECT r.* FROM user_skill_progress r
          WHERE r.user_id = :user AND r.status = 'COMPLETED'
            AND r.skill_id NOT IN (SELECT m.skill_id FROM skill_mastery m WHERE m.user_id = :user)
          OFFSET 0) r
    CROSS JOIN LATERAL (SELECT mastery_completion_rating(
        r.user_id, r.completion_method, r.completion_score, r.evidence_data) AS rating) c
)
SELECT c.skill_id, s.name AS skill_name, t.slug AS tree_slug, c.level AS earned_level,
       mastery_shown_level(c.level, c.due_at, c.last_reviewed_at, :now) AS level,
       c.due_at, c.last_reviewed_at, c.reviews, c.lapses,
       EXISTS (SELECT FROM question_banks b WHERE b.skill_id = c.skill_id) AS graded,
       count(*) OVER () AS total
FROM cards c
JOIN user_skill_progress r ON r.user_id = :user AND r.skill_id = c.skill_id
                          AND r.status = 'COMPLETED'
JOIN skills s ON s.id = c.skill_id AND s.is_active
JOIN skill_trees t ON t.id = s.skill_tree_id
"""


def _answer(raw: str) -> dict[str, Any]:
    result: dict[str, Any] = orjson.loads(raw)
    return result


def _rows(session: Session, sql: str, values: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(row) for row in session.execute(text(sql), values).mappings()]


def due(
    session: Session, user_id: str, now: datetime, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """A page of the learner's skills due for review at `now`, the longest due first, and how
    many are due in all."""
    values = {"user": user_id, "now": now, "limit": limit, "offset": offset}
    rows = _rows(
        session,
        _CARDS
        + " WHERE c.due_at <= :now ORDER BY c.due_at, c.skill_id LIMIT :limit OFFSET :offset",
        values,
    )
    if not rows and offset:
        total = session.execute(
            text("SELECT count(*) FROM (" + _CARDS + " WHERE c.due_at <= :now) due"), values
        ).scalar_one()
        return [], int(total)
    return rows, int(rows[0]["total"]) if rows else 0


def of_tree(session: Session, user_id: str, tree_id: str, now: datetime) -> list[dict[str, Any]]:
    """The learner's card of every completed active skill of the tree, soonest due first."""
    return _rows(
        session,
        _CARDS + " WHERE s.skill_tree_id = :tree ORDER BY c.due_at, c.skill_id",
        {"user": user_id, "tree": tree_id, "now": now},
    )


def begin(
    session: Session,
    user_id: str,
    skill_id: str,
    now: datetime,
    attempt_id: str | None,
    recall: int | None,
) -> dict[str, Any]:
    """`mastery_begin`: the card and the review's rating (the learner locked until the
    transaction ends), or `{"refused": ...}`."""
    return _answer(
        session.execute(
            text("SELECT mastery_begin(:user, :skill, :now, :attempt, :recall)::text"),
            {
                "user": user_id,
                "skill": skill_id,
                "now": now,
                "attempt": attempt_id,
                "recall": recall,
            },
        ).scalar_one()
    )


def record(
    session: Session,
    user_id: str,
    skill_id: str,
    now: datetime,
    attempt_id: str | None,
    recall: int | None,
    card: Mapping[str, Any],
    due_at: datetime,
) -> dict[str, Any]:
    """`mastery_record`: the review as recorded, with what it did, or `{"refused": ...}`."""
    return _answer(
        session.execute(
            text(
                "SELECT mastery_record(:user, :skill, :now, :attempt, :recall,"
                " CAST(:card AS jsonb), :due)::text"
            ),
            {
                "user": user_id,
                "skill": skill_id,
                "now": now,
                "attempt": attempt_id,
                "recall": recall,
                "card": orjson.dumps(card).decode(),
                "due": due_at,
            },
        ).scalar_one()
    )


def review_of_attempt(session: Session, user_id: str, attempt_id: str) -> dict[str, Any] | None:
    """The review a graded attempt made, as recorded, in `mastery_record`'s shape (without
    what its activity earned)."""
    row = (
        session.execute(
            text(
                'SELECT skill_id AS "skillId", rating, score, on_time AS "onTime",'
                ' level_before AS "levelBefore", level_after AS level, due_before AS "dueBefore",'
                ' due_after AS "dueAt", reviewed_at AS "reviewedAt" FROM mastery_reviews'
                " WHERE user_id = :user AND attempt_id = :attempt"
            ),
            {"user": user_id, "attempt": attempt_id},
        )
        .mappings()
        .first()
    )
    return None if row is None else dict(row)
