"""Mastery API: the skills due for review, your mastery of a tree's skills, a self-rated review."""

from __future__ import annotations

from fastapi import APIRouter, Response

from skilltree.dependencies import CurrentUser, DbSession, Paging, finish_early
from skilltree.mastery import service
from skilltree.mastery.schemas import ReviewOutcome, ReviewPage, SelfReview, TreeMastery
from skilltree.openapi import Answers

router = APIRouter(tags=["mastery"])

_SELF: Answers = {
    404: {"description": "No skill has this id that you may see."},
    409: {
        "description": "The skill is not completed, or not active (`InvalidTransition`), or "
        "it has a question bank (`ReviewAttemptRequired`: review it by a review attempt)."
    },
}


@router.get("/me/reviews", response_model=ReviewPage)
def due_reviews(session: DbSession, user: CurrentUser, paging: Paging) -> Response:
    """Your completed skills due for review, the longest due first: each with the level you see
    now (lowered once overdue: never silently MASTERED) and how it is reviewed."""
    page = service.due_reviews(session, user, paging)
    finish_early(session)  # it only read: its commit in this trip through the thread pool
    # Serialised once, here: returned as a model, it would be validated again against itself.
    return Response(page.model_dump_json(by_alias=True), media_type="application/json")


@router.post("/me/reviews/{skill_id}", response_model=ReviewOutcome, responses=_SELF)
def self_review(
    skill_id: str, body: SelfReview, session: DbSession, user: CurrentUser
) -> ReviewOutcome:
    """Review a completed skill without a question bank by rating your recall (AGAIN, HARD,
    GOOD, EASY): FSRS schedules the next review; the level moves by the rule of
    docs/progress.md ("Mastery"), self-rating counting as weaker evidence. No XP; the day's
    activity (streak) and MASTERY achievements count it."""
    return service.self_review(session, user, skill_id, body)


@router.get(
    "/me/trees/{slug}/mastery",
    response_model=TreeMastery,
    responses={404: {"description": "No tree has this slug that you may see."}},
)
def tree_mastery(slug: str, session: DbSession, user: CurrentUser) -> TreeMastery:
    """Your mastery of each completed skill of the tree: level now, level earned, when due."""
    return service.tree_mastery(session, user, slug)
