"""Progress API: enrol, start, complete, skip, record activity; your progress.

Every POST accepts an `Idempotency-Key` header: a retry with the same key gets the first answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel
from pydantic_core import to_json
from sqlalchemy.orm import Session

from skilltree.dependencies import CurrentUser, DbSession
from skilltree.idempotency import KEY_PATTERN, fingerprint, run_once
from skilltree.models import User
from skilltree.openapi import Answers
from skilltree.progress import paths, service
from skilltree.progress.schemas import (
    ActivityRequest,
    CompleteRequest,
    LearningPath,
    MyProgress,
    NextSkills,
    ProgressOutcome,
)

router = APIRouter(tags=["progress"])

_EVENT: Answers = {
    409: {
        "description": "The skill's state does not allow it (`SkillLocked` with the `missing` "
        "prerequisites, `InvalidTransition`), the tree kept changing meanwhile (`Conflict`), or "
        "the `Idempotency-Key` was used for another request (`IdempotencyKeyReused`)."
    }
}
_COMPLETE: Answers = {
    400: {
        "description": "The score does not pass the skill's mark, or the assessment or "
        "evidence is not valid (`InvalidInput`); `errors` names the field."
    },
    409: {
        "description": _EVENT[409]["description"][:-1] + "; the skill's completion policy "
        "does not allow this `method` (`CompletionMethodNotAllowed`, with `allowedMethods`), or "
        "a TIME_BASED completion comes before the policy's minutes are logged "
        "(`NotEnoughTimeLogged`, with `requiredMinutes` and `loggedMinutes`)."
    },
}

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=KEY_PATTERN,
        description="A unique string of 1 to 200 visible ASCII characters: a retry with it "
        "gets the first answer.",
    ),
]


def _once(
    session: Session,
    user: User,
    request: Request,
    key: str | None,
    body: BaseModel | None,
    work: Callable[[], ProgressOutcome],
) -> ProgressOutcome:
    request_print = fingerprint(request.method, request.url.path, body)
    return run_once(session, user.id, key, request_print, ProgressOutcome, work)


@router.post("/trees/{slug}/enroll", response_model=ProgressOutcome, responses=_EVENT)
def enroll(
    slug: str, request: Request, session: DbSession, user: CurrentUser, key: IdempotencyKey = None
) -> ProgressOutcome:
    """Enrol in a tree: skills without prerequisites become AVAILABLE (again: nothing changes)."""
    return _once(session, user, request, key, None, lambda: service.enrol(session, user, slug))


@router.post("/skills/{skill_id}/start", response_model=ProgressOutcome, responses=_EVENT)
def start(
    skill_id: str,
    request: Request,
    session: DbSession,
    user: CurrentUser,
    key: IdempotencyKey = None,
) -> ProgressOutcome:
    """Start an AVAILABLE skill; 409 with the missing prerequisites while it is LOCKED."""
    return _once(session, user, request, key, None, lambda: service.start(session, user, skill_id))


@router.post("/skills/{skill_id}/complete", response_model=ProgressOutcome, responses=_COMPLETE)
def complete(
    skill_id: str,
    body: CompleteRequest,
    request: Request,
    session: DbSession,
    user: CurrentUser,
    key: IdempotencyKey = None,
) -> ProgressOutcome:
    """Complete a skill by a `method` its completion policy allows: XP once, dependents
    unlocked, tree progress, streak, level, badges."""
    return _once(
        session, user, request, key, body, lambda: service.complete(session, user, skill_id, body)
    )


@router.post("/skills/{skill_id}/skip", response_model=ProgressOutcome, responses=_EVENT)
def skip(
    skill_id: str,
    request: Request,
    session: DbSession,
    user: CurrentUser,
    key: IdempotencyKey = None,
) -> ProgressOutcome:
    """Skip an optional skill; what it alone held back becomes AVAILABLE."""
    return _once(session, user, request, key, None, lambda: service.skip(session, user, skill_id))


@router.post("/skills/{skill_id}/activity", response_model=ProgressOutcome, responses=_EVENT)
def activity(
    skill_id: str,
    body: ActivityRequest,
    request: Request,
    session: DbSession,
    user: CurrentUser,
    key: IdempotencyKey = None,
) -> ProgressOutcome:
    """Record minutes spent on a skill (one attempt); counts toward streak and hours learned."""
    return _once(
        session,
        user,
        request,
        key,
        body,
        lambda: service.record_activity(session, user, skill_id, body.minutes),
    )


@router.get("/me/progress", response_model=MyProgress)
def my_progress(session: DbSession, user: CurrentUser) -> MyProgress:
    """Your totals (XP, level, streak, statistics) and every tree you are enrolled in."""
    return service.my_progress(session, user)


PATH_PAGE, PATH_PAGE_MAX = 100, 1000
"""Steps of a path answered by default, and at most (`limit`)."""


@router.get("/me/trees/{slug}/path", response_model=LearningPath)
def path_to_skill(
    slug: str,
    to: Annotated[str, Query(description="The id of the skill to reach.")],
    session: DbSession,
    user: CurrentUser,
    limit: Annotated[
        int, Query(ge=1, le=PATH_PAGE_MAX, description="The most steps to answer.")
    ] = PATH_PAGE,
    offset: Annotated[
        int, Query(ge=0, le=2**31 - 1, description="Steps to pass over (`nextOffset`).")
    ] = 0,
) -> Response:
    """The skills you still need to reach a target skill, in a valid order, a page at a time,
    with the minutes and XP of the whole path."""
    # Built from trusted data as its JSON object (paths.path_to): serialised as it is.
    answer = paths.path_to(session, user, slug, to, limit, offset)
    return Response(to_json(answer), media_type="application/json")


@router.get("/me/trees/{slug}/next", response_model=NextSkills)
def next_skills(
    slug: str,
    session: DbSession,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=50)] = 5,
) -> Response:
    """What to learn next: started skills, then milestones, then what unlocks the most; with why."""
    return _json(paths.next_skills(session, user, slug, limit))


def _json(answer: BaseModel) -> Response:
    # Built from trusted data without validation (paths): dumped as it is, not validated again
    # against `response_model`, which documents it.
    return Response(answer.model_dump_json(by_alias=True), media_type="application/json")
