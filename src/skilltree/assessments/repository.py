"""Assessment queries: banks as stored, and the functions that start and grade attempts
(db/schema/assessments.sql), each answering JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.orm import Session


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def save_bank(
    session: Session,
    skill_id: str,
    settings: dict[str, Any],
    questions: list[dict[str, Any]],
    keys: dict[str, Any],
) -> None:
    """Write the skill's bank in place of the one it had. (Delete, then insert: an upsert would
    need the API's role to read the keys it replaces.)"""
    session.execute(text("DELETE FROM question_banks WHERE skill_id = :skill"), {"skill": skill_id})
    session.execute(
        text(
            "INSERT INTO question_banks (skill_id, settings, questions, answer_keys)"
            " VALUES (:skill, CAST(:settings AS jsonb), CAST(:questions AS jsonb),"
            " CAST(:keys AS jsonb))"
        ),
        {
            "skill": skill_id,
            "settings": _json(settings),
            "questions": _json(questions),
            "keys": _json(keys),
        },
    )


def delete_bank(session: Session, skill_id: str) -> bool:
    """Delete the skill's bank; whether it had one."""
    deleted = session.execute(
        text("DELETE FROM question_banks WHERE skill_id = :skill RETURNING skill_id"),
        {"skill": skill_id},
    ).first()
    return deleted is not None


def shown_bank(session: Session, skill_id: str) -> tuple[dict[str, Any], list[Any]] | None:
    """The settings and questions of the skill's bank as learners may see them, if it has one."""
    row = session.execute(
        text("SELECT settings, questions FROM question_banks WHERE skill_id = :skill"),
        {"skill": skill_id},
    ).first()
    return None if row is None else (row[0], row[1])


def bank_keys(session: Session, user_id: str, skill_id: str) -> dict[str, Any] | None:
    """The bank's answer keys, when `user_id` is the tree's author or an admin."""
    keys: dict[str, Any] | None = session.execute(
        text("SELECT assessment_bank_keys(:user, :skill)"), {"user": user_id, "skill": skill_id}
    ).scalar_one()
    return keys


def tree_banks(session: Session, tree_id: str) -> list[tuple[str, str, Any, Any]]:
    """(skill id, skill key, settings, questions) of every bank of the tree's skills."""
    rows = session.execute(
        text(
            "SELECT s.id, s.key, b.settings, b.questions FROM question_banks b"
            " JOIN skills s ON s.id = b.skill_id WHERE s.skill_tree_id = :tree"
        ),
        {"tree": tree_id},
    ).tuples()
    return list(rows)


def stored_keys(session: Session, skill_id: str) -> dict[str, Any]:
    """The bank's keys read straight from the table: only the owner may (the command line)."""
    keys: dict[str, Any] = session.execute(
        text("SELECT answer_keys FROM question_banks WHERE skill_id = :skill"),
        {"skill": skill_id},
    ).scalar_one()
    return keys


def delete_tree_banks(session: Session, tree_id: str) -> None:
    """Delete the banks of every skill of the tree."""
    session.execute(
        text(
            "DELETE FROM question_banks WHERE skill_id IN"
            " (SELECT id FROM skills WHERE skill_tree_id = :tree)"
        ),
        {"tree": tree_id},
    )


def has_bank(session: Session, skill_id: str) -> bool:
    """Whether the skill has a question bank."""
    return bool(
        session.execute(
            text("SELECT EXISTS (SELECT FROM question_banks WHERE skill_id = :skill)"),
            {"skill": skill_id},
        ).scalar_one()
    )


def start(
    session: Session, user_id: str, skill_id: str, now: datetime, *, unpublished_ok: bool
) -> dict[str, Any]:
    """`assessment_start`: the new (or still open) attempt, or `{"refused": ...}`."""
    answer = session.execute(
        text("SELECT assessment_start(:user, :skill, :now, :ok)::text"),
        {"user": user_id, "skill": skill_id, "now": now, "ok": unpublished_ok},
    ).scalar_one()
    result: dict[str, Any] = orjson.loads(answer)
    return result


def attempt(session: Session, user_id: str, attempt_id: str) -> dict[str, Any] | None:
    """The learner's attempt as they see it."""
    answer = session.execute(
        text(
            "SELECT assessment_attempt_view(a, false)::text FROM assessment_attempts a"
            " WHERE user_id = :user AND id = :attempt"
        ),
        {"user": user_id, "attempt": attempt_id},
    ).scalar_one_or_none()
    return None if answer is None else dict(orjson.loads(answer))


def submit(
    session: Session,
    user_id: str,
    attempt_id: str,
    answers: dict[str, Any],
    folded: dict[str, str],
    now: datetime,
    *,
    unpublished_ok: bool,
) -> dict[str, Any]:
    """`assessment_submit`: the graded attempt (the first grade again for a second submit), or
    `{"refused": ...}`."""
    answer = session.execute(
        text(
            "SELECT assessment_submit(:user, :attempt, CAST(:answers AS jsonb), :now, :ok,"
            " CAST(:folded AS jsonb))::text"
        ),
        {
            "user": user_id,
            "attempt": attempt_id,
            "answers": _json(answers),
            "now": now,
            "ok": unpublished_ok,
            "folded": _json(folded),
        },
    ).scalar_one()
    result: dict[str, Any] = orjson.loads(answer)
    return result


def attempts(
    session: Session, user_id: str, skill_id: str, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """A page of the learner's attempts at the skill, newest first, and how many there are."""
    rows = session.execute(
        text(
            "SELECT id, skill_id, started_at, expires_at, submitted_at, score, passed, expired,"
            " count(*) OVER () FROM assessment_attempts WHERE user_id = :user AND skill_id = :skill"
            " ORDER BY started_at DESC, id DESC LIMIT :limit OFFSET :offset"
        ),
        {"user": user_id, "skill": skill_id, "limit": limit, "offset": offset},
    ).all()
    if not rows and offset:
        total: int = session.execute(
            text(
                "SELECT count(*) FROM assessment_attempts WHERE user_id = :user"
                " AND skill_id = :skill"
            ),
            {"user": user_id, "skill": skill_id},
        ).scalar_one()
        return [], total
    page = [row._asdict() for row in rows]
    for item in page:
        del item["count"]
    return page, rows[0][-1] if rows else 0
