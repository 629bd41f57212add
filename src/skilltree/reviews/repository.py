"""Review queries: rubrics and mentors as stored, and the functions that submit, claim and
decide (db/schema/reviews.sql), each answering JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.orm import Session


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _answer(raw: str) -> dict[str, Any]:
    result: dict[str, Any] = orjson.loads(raw)
    return result


def save_rubric(session: Session, skill_id: str, rubric: dict[str, Any]) -> None:
    """Write the skill's rubric in place of the one it had."""
    session.execute(
        text(
            "INSERT INTO project_rubrics (skill_id, rubric) VALUES (:skill, CAST(:rubric AS jsonb))"
            " ON CONFLICT (skill_id) DO UPDATE SET rubric = EXCLUDED.rubric"
        ),
        {"skill": skill_id, "rubric": _json(rubric)},
    )


def skill_tree_facts(session: Session, skill_id: str) -> tuple[bool, str | None] | None:
    """(is_published, created_by) of the skill's tree, if the skill exists."""
    row = session.execute(
        text(
            "SELECT t.is_published, t.created_by FROM skills s"
            " JOIN skill_trees t ON t.id = s.skill_tree_id WHERE s.id = :skill"
        ),
        {"skill": skill_id},
    ).first()
    return None if row is None else (bool(row[0]), row[1])


def rubric(session: Session, skill_id: str) -> dict[str, Any] | None:
    """The skill's rubric as stored, if it has one."""
    found: dict[str, Any] | None = session.execute(
        text("SELECT rubric FROM project_rubrics WHERE skill_id = :skill"), {"skill": skill_id}
    ).scalar_one_or_none()
    return found


def delete_rubric(session: Session, skill_id: str) -> bool:
    """Delete the skill's rubric; whether it had one."""
    deleted = session.execute(
        text("DELETE FROM project_rubrics WHERE skill_id = :skill RETURNING skill_id"),
        {"skill": skill_id},
    ).first()
    return deleted is not None


def tree_rubrics(session: Session, tree_id: str) -> dict[str, dict[str, Any]]:
    """The rubrics of the tree's skills as stored, by skill key (for a tree file)."""
    rows = session.execute(
        text(
            "SELECT s.key, r.rubric FROM project_rubrics r JOIN skills s ON s.id = r.skill_id"
            " WHERE s.skill_tree_id = :tree"
        ),
        {"tree": tree_id},
    ).tuples()
    return dict(rows.all())


def replace_tree_rubrics(
    session: Session, tree_id: str, rubrics: dict[str, dict[str, Any]]
) -> set[str]:
    """Make the rubrics of the tree's skills these (by skill id), and no others: a tree file says
    every rubric of its tree. Rubrics that do not change are not written. The ids of the skills
    whose rubric was added, changed or removed."""
    changed = session.execute(
        text(
            "WITH given AS (SELECT key AS skill_id, value AS rubric"
            "  FROM jsonb_each(CAST(:rubrics AS jsonb))),"
            " removed AS (DELETE FROM project_rubrics r USING skills s"
            "  WHERE s.id = r.skill_id AND s.skill_tree_id = :tree"
            "  AND r.skill_id NOT IN (SELECT skill_id FROM given) RETURNING r.skill_id),"
            " written AS (INSERT INTO project_rubrics (skill_id, rubric)"
            "  SELECT skill_id, rubric FROM given"
            "  ON CONFLICT (skill_id) DO UPDATE SET rubric = EXCLUDED.rubric"
            "  WHERE project_rubrics.rubric IS DISTINCT FROM EXCLUDED.rubric RETURNING skill_id)"
            " SELECT skill_id FROM removed UNION SELECT skill_id FROM written"
        ),
        {"tree": tree_id, "rubrics": _json(rubrics)},
    ).scalars()
    return set(changed)


def mentors(session: Session, tree_id: str) -> list[dict[str, Any]]:
    """The tree's mentors, by username."""
    rows = session.execute(
        text(
            "SELECT m.mentor_id AS user_id, u.username, m.added_at FROM tree_mentors m"
            " JOIN users u ON u.id = m.mentor_id WHERE m.skill_tree_id = :tree"
            " ORDER BY u.username"
        ),
        {"tree": tree_id},
    ).mappings()
    return [dict(row) for row in rows]


def user_named(session: Session, username: str) -> str | None:
    """The id of the active user with this username (in any case), if there is one."""
    found: str | None = session.execute(
        text("SELECT id FROM users WHERE lower(username) = lower(:name) AND is_active"),
        {"name": username},
    ).scalar_one_or_none()
    return found


def add_mentor(session: Session, tree_id: str, mentor_id: str, added_by: str) -> None:
    """Name the user a mentor of the tree (again: nothing changes)."""
    session.execute(
        text(
            "INSERT INTO tree_mentors (skill_tree_id, mentor_id, added_by)"
            " VALUES (:tree, :mentor, :by) ON CONFLICT DO NOTHING"
        ),
        {"tree": tree_id, "mentor": mentor_id, "by": added_by},
    )


def remove_mentor(session: Session, tree_id: str, mentor_id: str) -> bool:
    """Remove the mentor from the tree; whether they were one."""
    deleted = session.execute(
        text(
            "DELETE FROM tree_mentors WHERE skill_tree_id = :tree AND mentor_id = :mentor"
            " RETURNING mentor_id"
        ),
        {"tree": tree_id, "mentor": mentor_id},
    ).first()
    return deleted is not None


def reviewed_trees(session: Session, user_id: str) -> list[str] | None:
    """The trees whose submissions the user reviews (None: every tree, an admin)."""
    trees: list[str] | None = session.execute(
        text("SELECT project_reviewed_trees(:user)"), {"user": user_id}
    ).scalar_one()
    return trees


def submit(
    session: Session,
    user_id: str,
    skill_id: str,
    content: dict[str, Any],
    now: datetime,
    *,
    unpublished_ok: bool,
) -> dict[str, Any]:
    """`project_submit`: the new submission, or `{"refused": ...}`."""
    return _answer(
        session.execute(
            text("SELECT project_submit(:user, :skill, CAST(:content AS jsonb), :now, :ok)::text"),
            {
                "user": user_id,
                "skill": skill_id,
                "content": _json(content),
                "now": now,
                "ok": unpublished_ok,
            },
        ).scalar_one()
    )


def claim(
    session: Session, reviewer_id: str, now: datetime, *, newest: bool, claim_minutes: int
) -> dict[str, Any]:
    """`project_claim`: the submission claimed, or `{"refused": ...}` (`QueueEmpty`...)."""
    return _answer(
        session.execute(
            text("SELECT project_claim(:reviewer, :now, :newest, :minutes)::text"),
            {"reviewer": reviewer_id, "now": now, "newest": newest, "minutes": claim_minutes},
        ).scalar_one()
    )


def decide(
    session: Session,
    reviewer_id: str,
    submission_id: str,
    *,
    approve: bool,
    scores: dict[str, float],
    feedback: str,
    now: datetime,
) -> dict[str, Any]:
    """`project_decide`: the decided submission (the first decision again for a repeat), or
    `{"refused": ...}`."""
    return _answer(
        session.execute(
            text(
                "SELECT project_decide(:reviewer, :submission, :approve, CAST(:scores AS jsonb),"
                " :feedback, :now)::text"
            ),
            {
                "reviewer": reviewer_id,
                "submission": submission_id,
                "approve": approve,
                "scores": _json(scores),
                "feedback": feedback or None,
                "now": now,
            },
        ).scalar_one()
    )


def submission(session: Session, submission_id: str) -> dict[str, Any] | None:
    """The submission, if the session's user may read it (theirs, or of a tree they review:
    row-level security decides)."""
    raw = session.execute(
        text(
            "SELECT project_submission_view(p, false)::text FROM project_submissions p"
            " WHERE id = :id"
        ),
        {"id": submission_id},
    ).scalar_one_or_none()
    return None if raw is None else _answer(raw)


_OWN = (
    " FROM project_submissions p WHERE user_id = :user"
    " AND (CAST(:skill AS text) IS NULL OR skill_id = :skill)"
)


def own_submissions(
    session: Session, user_id: str, skill_id: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """The learner's submissions (of one skill, or all), newest first, and how many in all."""
    values = {"user": user_id, "skill": skill_id, "limit": limit, "offset": offset}
    rows = session.execute(
        text(
            "SELECT project_submission_view(p, false)::text"
            + _OWN
            + " ORDER BY submitted_at DESC, id DESC LIMIT :limit OFFSET :offset"
        ),
        values,
    ).scalars()
    items = [_answer(raw) for raw in rows]
    total = session.execute(text("SELECT count(*)" + _OWN), values).scalar_one()
    return items, int(total)


_QUEUE = " FROM project_submissions p WHERE status = 'PENDING' AND user_id <> :me"


def queue(
    session: Session, reviewer_id: str, *, newest: bool, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """The pending submissions the session's user reviews (row-level security says which),
    claimed ones included, in the queue's order, and how many in all."""
    direction = "DESC" if newest else "ASC"
    values = {"me": reviewer_id, "limit": limit, "offset": offset}
    rows = session.execute(
        text(
            "SELECT project_submission_view(p, false)::text"
            + _QUEUE
            + f" ORDER BY submitted_at {direction}, id {direction} LIMIT :limit OFFSET :offset"
        ),
        values,
    ).scalars()
    items = [_answer(raw) for raw in rows]
    total = session.execute(text("SELECT count(*)" + _QUEUE), values).scalar_one()
    return items, int(total)
