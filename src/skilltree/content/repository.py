"""Content queries: the learner's module rows, and the functions that log time on modules
(db/schema/content.sql), each answering JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import orjson
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from skilltree.models import UserSkillModuleProgress

ModuleCall = Literal["heartbeat", "done"]

_CALLS: dict[ModuleCall, str] = {
    # `content_heartbeat`: the module's time after this heartbeat, or `{"refused": ...}`.
    "heartbeat": "SELECT content_heartbeat(:user, :skill, :module, :now, :ok, :gap,"
    " CAST(:factor AS numeric))::text",
    # `content_module_done`: the module marked done, or `{"refused": ...}`.
    "done": "SELECT content_module_done(:user, :skill, :module, :now, :ok,"
    " CAST(:factor AS numeric))::text",
}


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


def module_call(
    session: Session,
    call: ModuleCall,
    user_id: str,
    skill_id: str,
    module_id: str,
    now: datetime,
    *,
    unpublished_ok: bool,
    time_factor: float,
    max_gap_seconds: int = 0,
) -> dict[str, Any]:
    """A heartbeat of the learner on a module (`max_gap_seconds`: the most it adds), or the
    module marked done: the function's JSON answer."""
    parameters: dict[str, Any] = {
        "user": user_id,
        "skill": skill_id,
        "module": module_id,
        "now": now,
        "ok": unpublished_ok,
        "factor": time_factor,
    }
    if call == "heartbeat":
        parameters["gap"] = max_gap_seconds
    answer = session.execute(text(_CALLS[call]), parameters).scalar_one()
    result: dict[str, Any] = orjson.loads(answer)
    return result
