"""Project reviews API: authors write a skill's rubric and name a tree's mentors; learners
submit work for PROJECT skills and read their submissions; reviewers list the queue, claim a
submission and decide on it (an approval completes the skill by PROJECT)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from skilltree.dependencies import AuthorUser, CurrentUser, DbSession, Paging
from skilltree.openapi import Answers
from skilltree.reviews import service
from skilltree.reviews.schemas import (
    Mentor,
    MentorRequest,
    QueueOrder,
    ReviewRequest,
    Rubric,
    Submission,
    SubmissionPage,
    SubmissionRequest,
)

router = APIRouter(tags=["reviews"])

_RUBRIC: Answers = {
    400: {
        "description": "The rubric breaks a rule (`InvalidInput`: criterion ids not distinct, "
        "a criterion's levels of the same points, a minimum above its top level); `errors` "
        "names each field."
    },
    403: {"description": "Only the tree's author or an admin writes its rubrics."},
    404: {"description": "No skill has this id that you may see, or it has no rubric."},
}
_MENTORS: Answers = {
    403: {"description": "Only the tree's author or an admin names its mentors."},
    404: {"description": "No tree has this slug that you may see (or no such mentor)."},
}
_SUBMIT: Answers = {
    400: {
        "description": "Neither text nor links, or a link that is no http(s) URL "
        "(`InvalidInput`, `errors` naming each field)."
    },
    404: {"description": "No skill has this id that you may see."},
    409: {
        "description": "The skill's completion policy has no PROJECT "
        "(`CompletionMethodNotAllowed`), it is locked (`SkillLocked`), completed or inactive "
        "(`InvalidTransition`), or a submission of it waits for its review or is approved "
        "(`SubmissionPending`, with its `submissionId`)."
    },
}
_REVIEWER: Answers = {
    403: {"description": "Only reviewers (a tree's author, its mentors, admins) may."},
}
_REVIEW: Answers = {
    400: {
        "description": "The scores do not fit the skill's rubric (`InvalidInput`: `errors` "
        "names each criterion: unknown, not the points of a level, missing or below its "
        "minimum for an approval), or changes are asked without `feedback`."
    },
    404: {"description": "No submission has this id that you review."},
    409: {
        "description": "You do not hold its claim (`ReviewNotClaimed`), it has its review "
        "already (`AlreadyReviewed`), or the engine refused the completion (its refusal: "
        "`CompletionMethodNotAllowed`, `SkillLocked`, ...; the submission waits as before)."
    },
}
_ORDER = Query(description="`oldest`: longest waiting first (the default); `newest`: newest first.")


@router.put("/skills/{skill_id}/rubric", response_model=Rubric, responses=_RUBRIC)
def put_rubric(skill_id: str, body: Rubric, session: DbSession, author: AuthorUser) -> Rubric:
    """Set the skill's rubric: its criteria, each with levels (distinct points) and the minimum
    an approval needs."""
    return service.put_rubric(session, skill_id, body, author)


@router.get("/skills/{skill_id}/rubric", response_model=Rubric, responses=_RUBRIC)
def get_rubric(skill_id: str, session: DbSession, user: CurrentUser) -> Rubric:
    """The skill's rubric (whoever may see the skill: learners see what they are scored by)."""
    return service.get_rubric(session, skill_id, user)


@router.delete("/skills/{skill_id}/rubric", status_code=204, responses=_RUBRIC)
def delete_rubric(skill_id: str, session: DbSession, author: AuthorUser) -> Response:
    """Delete the skill's rubric (reviews then score nothing)."""
    service.delete_rubric(session, skill_id, author)
    return Response(status_code=204)


@router.get("/trees/{slug}/mentors", response_model=list[Mentor], responses=_MENTORS)
def list_mentors(slug: str, session: DbSession, author: AuthorUser) -> list[Mentor]:
    """The tree's mentors: they review its project submissions, with its author and admins."""
    return service.mentors(session, slug, author)


@router.post(
    "/trees/{slug}/mentors",
    status_code=201,
    response_model=list[Mentor],
    responses=_MENTORS | {400: {"description": "No active user has this username."}},
)
def add_mentor(
    slug: str, body: MentorRequest, session: DbSession, author: AuthorUser
) -> list[Mentor]:
    """Name a user (by username) a mentor of the tree; answers the tree's mentors."""
    return service.add_mentor(session, slug, body.username, author)


@router.delete("/trees/{slug}/mentors/{user_id}", status_code=204, responses=_MENTORS)
def remove_mentor(slug: str, user_id: str, session: DbSession, author: AuthorUser) -> Response:
    """Remove a mentor from the tree."""
    service.remove_mentor(session, slug, user_id, author)
    return Response(status_code=204)


@router.post(
    "/skills/{skill_id}/submissions",
    status_code=201,
    response_model=Submission,
    responses=_SUBMIT,
)
def submit(
    skill_id: str, body: SubmissionRequest, session: DbSession, user: CurrentUser
) -> Submission:
    """Submit your work for a PROJECT skill (text and links; files as links): it waits in the
    review queue. After changes are asked, submit again (the next `round`)."""
    return service.submit(session, user, skill_id, body)


@router.get("/skills/{skill_id}/submissions", response_model=SubmissionPage)
def skill_submissions(
    skill_id: str, session: DbSession, user: CurrentUser, paging: Paging
) -> SubmissionPage:
    """Your submissions for the skill, newest first, with their status and feedback."""
    return service.my_submissions(session, user, paging, skill_id)


@router.get("/me/submissions", response_model=SubmissionPage)
def my_submissions(session: DbSession, user: CurrentUser, paging: Paging) -> SubmissionPage:
    """All your submissions, newest first, with their status and feedback."""
    return service.my_submissions(session, user, paging)


@router.get(
    "/submissions/{submission_id}",
    response_model=Submission,
    responses={404: {"description": "No submission has this id that you may read."}},
)
def get_submission(submission_id: str, session: DbSession, user: CurrentUser) -> Submission:
    """A submission: yours, or one of a tree you review."""
    return service.get_submission(session, user, submission_id)


@router.get("/reviews/queue", response_model=SubmissionPage, responses=_REVIEWER)
def review_queue(
    session: DbSession,
    user: CurrentUser,
    paging: Paging,
    order: Annotated[QueueOrder, _ORDER] = QueueOrder.OLDEST,
) -> SubmissionPage:
    """The pending submissions of the trees you review, in priority order, claimed ones
    included (`claimedBy`, `claimExpiresAt`); your own are never in it."""
    return service.queue(session, user, order, paging)


@router.post(
    "/reviews/claim",
    response_model=Submission,
    responses=_REVIEWER | {204: {"description": "Nothing in the queue to claim."}},
)
def claim(
    session: DbSession,
    user: CurrentUser,
    order: Annotated[QueueOrder, _ORDER] = QueueOrder.OLDEST,
) -> Submission | Response:
    """Claim the next submission of the queue for REVIEW_CLAIM_MINUTES: never one another
    reviewer claims at once; an abandoned claim returns to the queue when it ends."""
    claimed = service.claim(session, user, order)
    return Response(status_code=204) if claimed is None else claimed


@router.post("/submissions/{submission_id}/review", response_model=Submission, responses=_REVIEW)
def review(
    submission_id: str, body: ReviewRequest, session: DbSession, user: CurrentUser
) -> Submission:
    """Decide on the submission you claimed: `APPROVE` (every rubric criterion scored at its
    minimum or above; completes the skill by PROJECT, with XP, unlocks, streak and
    achievements) or `REQUEST_CHANGES` (with `feedback`; the learner may submit again).
    The same decision sent again answers the first (`repeated`)."""
    return service.review(session, user, submission_id, body)
