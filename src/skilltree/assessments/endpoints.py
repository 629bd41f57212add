"""Assessments API: authors write a skill's question bank; learners start attempts (questions
without keys) and submit them (graded by the server, once)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response

from skilltree.assessments import service
from skilltree.assessments.schemas import Attempt, AttemptPage, QuestionBank, SubmitRequest
from skilltree.dependencies import AuthorUser, CurrentUser, DbSession, Paging
from skilltree.openapi import Answers

router = APIRouter(tags=["assessments"])

_BANK_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A `QuestionBank`: its settings, and its questions with keys and "
        "explanations.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/QuestionBank"}}},
    }
}
_BANK: Answers = {
    400: {
        "description": "The bank cannot be graded as written (`InvalidInput`: a `correct` that "
        "is no option, ids not distinct, a pattern that does not compile, `questionsPerAttempt` "
        "above the questions, ...); `errors` names each field."
    },
    403: {"description": "Only the tree's author or an admin writes or reads its banks."},
    404: {"description": "No skill has this id that you may see, or it has no question bank."},
}
_START: Answers = {
    404: {"description": "No skill has this id that you may see, or it has no question bank."},
    409: {
        "description": "No attempt is allowed yet (`AttemptNotAllowedYet`: the day's limit "
        "or the cooldown; `retryAt` says when), or the skill is locked (`SkillLocked`)."
    },
}
_ATTEMPT: Answers = {404: {"description": "You have no attempt with this id."}}


@router.put(
    "/skills/{skill_id}/question-bank",
    response_model=QuestionBank,
    responses=_BANK,
    openapi_extra=_BANK_BODY,
)
def put_bank(
    skill_id: str,
    body: Annotated[dict[str, Any], Body(include_in_schema=False)],
    session: DbSession,
    author: AuthorUser,
) -> QuestionBank:
    """Set the skill's question bank: its settings and questions with keys and explanations.
    (Checked by the service: a bank that breaks a rule is a 400 naming each field.)"""
    return service.put_bank(session, skill_id, body, author)


@router.get("/skills/{skill_id}/question-bank", response_model=QuestionBank, responses=_BANK)
def get_bank(skill_id: str, session: DbSession, author: AuthorUser) -> QuestionBank:
    """The skill's question bank with its keys and explanations (its author and admins only)."""
    return service.get_bank(session, skill_id, author)


@router.delete("/skills/{skill_id}/question-bank", status_code=204, responses=_BANK)
def delete_bank(skill_id: str, session: DbSession, author: AuthorUser) -> Response:
    """Delete the skill's question bank."""
    service.delete_bank(session, skill_id, author)
    return Response(status_code=204)


@router.post("/skills/{skill_id}/attempts", response_model=Attempt, responses=_START)
def start_attempt(skill_id: str, session: DbSession, user: CurrentUser) -> Attempt:
    """Start an attempt at the skill's question bank: the server draws the questions and fixes
    their order and their options' order; no key or explanation is sent. An attempt still open
    is answered again (`repeated`)."""
    return service.start_attempt(session, user, skill_id)


@router.get(
    "/skills/{skill_id}/attempts",
    response_model=AttemptPage,
    responses={404: {"description": "No skill has this id that you may see."}},
)
def list_attempts(
    skill_id: str, session: DbSession, user: CurrentUser, paging: Paging
) -> AttemptPage:
    """Your attempts at the skill, newest first: when each started and, once submitted, its
    score and whether it passed (its questions and results: `GET /attempts/{id}`)."""
    return service.list_attempts(session, user, skill_id, paging)


@router.get("/attempts/{attempt_id}", response_model=Attempt, responses=_ATTEMPT)
def get_attempt(attempt_id: str, session: DbSession, user: CurrentUser) -> Attempt:
    """One of your attempts; once submitted, with its results and explanations."""
    return service.get_attempt(session, user, attempt_id)


@router.post("/attempts/{attempt_id}/submit", response_model=Attempt, responses=_ATTEMPT)
def submit_attempt(
    attempt_id: str, body: SubmitRequest, session: DbSession, user: CurrentUser
) -> Attempt:
    """Submit your answers: graded by the server once (a second submit answers the first
    grade; after the time limit, graded as expired); a pass completes the skill by ASSESSMENT
    with evidence `assessment_score` naming the attempt, with every consequence."""
    return service.submit_attempt(session, user, attempt_id, body)
