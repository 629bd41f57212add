"""Content queries: the learner's module rows, and the functions that log time on modules
(db/schema/content.sql), each answering JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from skilltree.models import UserSkillModuleProgress


def module_rows(session: Session, user_id: str, skill_id: str) -> list[UserSkillModuleProgress]:
    """The learner's rows of the skill's modules."""
    return list(
        session.scalars(
            select(UserSkillModuleProgress).where(
                UserSkillModuleProgress.user_id == user_id,
                UserSkillModuleProgress.skill_id == skill_id,
            )
        )
    )


def heartbeat(
    session: Session,
    user_id: str,
    skill_id: str,
    module_id: str,
    now: datetime,
    *,
    unpublished_ok: bool,
    max_gap_seconds: int,
    time_factor: float,
) -> dict[str, Any]:
    """`content_heartbeat`: the module's time after this heartbeat, or `{"refused": ...}`."""
    answer = session.execute(
        text(
            "SELECT content_heartbeat(:user, :skill, :module, :now, :ok, :gap,"
            " CAST(:factor AS numeric))::text"
        ),
        {
            "user": user_id,
            "skill": skill_id,
            "module": module_id,
            "now": now,
            "ok": unpublished_ok,
            "gap": max_gap_seconds,
            "factor": time_factor,
        },
    ).scalar_one()
    result: dict[str, Any] = orjson.loads(answer)
    return result


def module_done(
    session: Session,
    user_id: str,
    skill_id: str,
    module_id: str,
    now: datetime,
    *,
    unpublished_ok: bool,
    time_factor: float,
) -> dict[str, Any]:
    """`content_module_done`: the module marked done, or `{"refused": ...}`."""
    answer = session.execute(
        text(
            "SELECT content_module_done(:user, :skill, :module, :now, :ok,"
            " CAST(:factor AS numeric))::text"
        ),
        {
            "user": user_id,
            "skill": skill_id,
            "module": module_id,
            "now": now,
            "ok": unpublished_ok,
            "factor": time_factor,
        },
    ).scalar_one()
    result: dict[str, Any] = orjson.loads(answer)
    return result
