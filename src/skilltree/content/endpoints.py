"""Content API: a skill's content modules for learners; heartbeats that measure their time on
each module, and marking a module done.

Heartbeats accept an `Idempotency-Key` header: a retry with the same key gets the first answer
(and a retry without one adds only the time that really passed since the first)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from skilltree.content import service
from skilltree.content.schemas import HeartbeatOutcome, ModuleDone, SkillModules
from skilltree.dependencies import CurrentUser, DbSession, OptionalUser
from skilltree.idempotency import fingerprint, run_once
from skilltree.openapi import Answers
from skilltree.progress.endpoints import IdempotencyKey

router = APIRouter(tags=["content"])

_MODULES: Answers = {404: {"description": "No skill has this id that you may see."}}
_BEAT: Answers = {
    404: {"description": "No skill has this id that you may see, or it has no module of this id."},
    409: {
        "description": "The skill cannot be started (`SkillLocked` with the `missing` "
        "prerequisites, `InvalidTransition` for an inactive skill), or the `Idempotency-Key` "
        "was used for another request (`IdempotencyKeyReused`)."
    },
}
_DONE: Answers = {
    404: _BEAT[404],
    409: {
        "description": "The module was never opened (`InvalidTransition`: send its heartbeats "
        "first), or the skill is inactive."
    },
}


@router.get("/skills/{skill_id}/modules", response_model=SkillModules, responses=_MODULES)
def skill_modules(skill_id: str, session: DbSession, viewer: OptionalUser) -> SkillModules:
    """The skill's content modules (title, kind, estimate, resources), each with your time on
    it when you are signed in; and the minutes a TIME_BASED completion needs."""
    return service.skill_modules(session, skill_id, viewer)


@router.post(
    "/skills/{skill_id}/modules/{module_id}/heartbeat",
    response_model=HeartbeatOutcome,
    responses=_BEAT,
)
def heartbeat(
    skill_id: str,
    module_id: str,
    request: Request,
    session: DbSession,
    user: CurrentUser,
    key: IdempotencyKey = None,
) -> HeartbeatOutcome:
    """You are on this module now (send one every 15-30 s while it is shown). The first opens
    it (and starts the skill); each next one adds the time since the last, on the server's
    clock: at most CONTENT_HEARTBEAT_MAX_SECONDS, and never past the module's cap. The time
    counts toward hours learned, TIME achievements and a TIME_BASED completion, which the
    heartbeat that reaches its minutes makes."""
    request_print = fingerprint(request.method, request.url.path, None)
    return run_once(
        session,
        user.id,
        key,
        request_print,
        HeartbeatOutcome,
        lambda: service.heartbeat(session, user, skill_id, module_id),
    )


@router.post(
    "/skills/{skill_id}/modules/{module_id}/done", response_model=ModuleDone, responses=_DONE
)
def module_done(skill_id: str, module_id: str, session: DbSession, user: CurrentUser) -> ModuleDone:
    """Mark a module you opened done (again: the first time stays)."""
    return service.module_done(session, user, skill_id, module_id)
