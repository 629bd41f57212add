"""Projects reviewed by people: a learner submits work for a PROJECT skill; a reviewer (the
tree's author, an admin, or a mentor the author named) claims it from the queue and approves it
or asks for changes, scoring the skill's rubric; an approval completes the skill by PROJECT
through the progress engine, in the same transaction.

Submitting, claiming and deciding run in PostgreSQL (`project_submit`, `project_claim`,
`project_decide`, db/schema/reviews.sql); row-level security decides which submissions a user
reads. This module checks who may do what and shapes the answers. The caller commits.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from skilltree.assessments.service import visible_answer
from skilltree.catalog import authoring
from skilltree.catalog.visibility import may_view_tree
from skilltree.config import get_settings
from skilltree.errors import (
    AlreadyReviewed,
    FieldError,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    NotFound,
    ReviewNotClaimed,
    SkillLocked,
    SubmissionPending,
)
from skilltree.models import ProgressEventKind, User
from skilltree.progress import service as progress_service
from skilltree.reviews import repository
from skilltree.reviews.schemas import (
    Decision,
    Mentor,
    QueueOrder,
    ReviewRequest,
    Rubric,
    Submission,
    SubmissionPage,
    SubmissionRequest,
)
from skilltree.schemas import PageParams


def _now() -> datetime:
    return datetime.now(UTC)


def _checked(problems: list[FieldError], what: str) -> None:
    # The rules a request's shape cannot say (the OpenAPI document has the shape): 400.
    if problems:
        raise InvalidInput(f"The {what} breaks a rule: see errors.", errors=problems)


# --- rubrics (the tree's author, an admin) ---


def put_rubric(session: Session, skill_id: str, rubric: Rubric, author: User) -> Rubric:
    """Set the rubric of skill `skill_id` (its tree's author or an admin)."""
    authoring.authored_skill(session, skill_id, author)
    _checked(rubric.problems(), "rubric")
    repository.save_rubric(session, skill_id, rubric.stored())
    return rubric


def get_rubric(session: Session, skill_id: str, viewer: User) -> Rubric:
    """The skill's rubric, for whoever may see the skill (learners see what they are scored by)."""
    facts = repository.skill_tree_facts(session, skill_id)
    if facts is None or not may_view_tree(
        is_published=facts[0], created_by=facts[1], viewer=viewer
    ):
        raise NotFound(f"No skill has the id {skill_id!r}.")
    stored = repository.rubric(session, skill_id)
    if stored is None:
        raise NotFound(f"The skill {skill_id!r} has no rubric.")
    return Rubric.model_validate(stored)


def delete_rubric(session: Session, skill_id: str, author: User) -> None:
    """Delete the skill's rubric."""
    authoring.authored_skill(session, skill_id, author)
    if not repository.delete_rubric(session, skill_id):
        raise NotFound(f"The skill {skill_id!r} has no rubric.")


# --- mentors (the tree's author, an admin) ---


def mentors(session: Session, slug: str, author: User) -> list[Mentor]:
    """The tree's mentors."""
    tree = authoring.authored_tree(session, slug, author)
    return [Mentor.model_validate(row) for row in repository.mentors(session, tree.id)]


def add_mentor(session: Session, slug: str, username: str, author: User) -> list[Mentor]:
    """Name the user `username` a mentor of the tree: they review its submissions."""
    tree = authoring.authored_tree(session, slug, author)
    mentor_id = repository.user_named(session, username)
    if mentor_id is None:
        raise InvalidInput(
            f"No active user has the username {username!r}.",
            errors=[FieldError(loc=("username",), msg="no such user", type="not_found")],
        )
    repository.add_mentor(session, tree.id, mentor_id, author.id)
    return [Mentor.model_validate(row) for row in repository.mentors(session, tree.id)]


def remove_mentor(session: Session, slug: str, user_id: str, author: User) -> None:
    """Remove a mentor from the tree (their claims end with their next decision refused)."""
    tree = authoring.authored_tree(session, slug, author)
    if not repository.remove_mentor(session, tree.id, user_id):
        raise NotFound(f"The user {user_id!r} is no mentor of {slug!r}.")


# --- learners ---


def submit(session: Session, user: User, skill_id: str, request: SubmissionRequest) -> Submission:
    """Submit work for the PROJECT skill `skill_id`: it waits in the review queue."""
    _checked(request.problems(), "submission")
    answer = visible_answer(
        user,
        lambda ok: repository.submit(
            session, user.id, skill_id, request.stored(), _now(), unpublished_ok=ok
        ),
    )
    name = answer.get("name")
    match answer.get("refused"):
        case None:
            return Submission.model_validate(answer)
        case "NotFound":
            raise NotFound(f"No skill has the id {skill_id!r}.")
        case "Inactive":
            raise InvalidTransition(f"{name!r} is not active: nothing can be submitted for it.")
        case "MethodNotAllowed":
            raise progress_service.method_not_allowed(
                repr(name), answer["method"], answer["allowed"]
            )
        case "SkillLocked":
            names = ", ".join(m["name"] for m in answer["missing"])
            raise SkillLocked(
                f"Cannot submit {name!r} yet: first {names}.", extra={"missing": answer["missing"]}
            )
        case "AlreadyCompleted":
            raise InvalidTransition(f"{name!r} is already completed.")
        case "SubmissionPending":
            raise SubmissionPending(
                f"A submission of {name!r} is already waiting for its review, or approved.",
                extra={"submissionId": answer["submissionId"]},
            )
    raise AssertionError(f"unknown refusal {answer!r}")


def my_submissions(
    session: Session, user: User, paging: PageParams, skill_id: str | None = None
) -> SubmissionPage:
    """The learner's own submissions (of one skill, or all), newest first, with their status
    and feedback."""
    items, total = repository.own_submissions(
        session, user.id, skill_id, paging.page_size, paging.offset
    )
    return SubmissionPage(
        items=[Submission.model_validate(item) for item in items],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


def get_submission(session: Session, user: User, submission_id: str) -> Submission:
    """A submission its learner or one of its reviewers may read."""
    found = repository.submission(session, submission_id)
    if found is None:
        raise NotFound(f"No submission has the id {submission_id!r}.")
    return Submission.model_validate(found)


# --- reviewers ---


def _reviewer(session: Session, user: User) -> None:
    if repository.reviewed_trees(session, user.id) == []:
        raise Forbidden(
            "Only reviewers (a tree's author, its mentors, admins) see the review queue."
        )


def queue(
    session: Session, reviewer: User, order: QueueOrder, paging: PageParams
) -> SubmissionPage:
    """The pending submissions of the trees `reviewer` reviews, longest waiting first (or
    newest first), claimed ones included (with when their claim ends)."""
    _reviewer(session, reviewer)
    items, total = repository.queue(
        session,
        reviewer.id,
        newest=order is QueueOrder.NEWEST,
        limit=paging.page_size,
        offset=paging.offset,
    )
    return SubmissionPage(
        items=[Submission.model_validate(item) for item in items],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


def claim(session: Session, reviewer: User, order: QueueOrder) -> Submission | None:
    """Claim the next submission of the queue for REVIEW_CLAIM_MINUTES (None: nothing to
    claim). Reviewers claiming at once never get the same one."""
    answer = repository.claim(
        session,
        reviewer.id,
        _now(),
        newest=order is QueueOrder.NEWEST,
        claim_minutes=get_settings().review_claim_minutes,
    )
    match answer.get("refused"):
        case None:
            return Submission.model_validate(answer)
        case "QueueEmpty":
            return None
        case "NotAReviewer":
            raise Forbidden(
                "Only reviewers (a tree's author, its mentors, admins) claim submissions."
            )
    raise AssertionError(f"unknown refusal {answer!r}")


def review(
    session: Session, reviewer: User, submission_id: str, request: ReviewRequest
) -> Submission:
    """Decide on a submission the reviewer claimed: approve it (every rubric criterion at its
    minimum; the skill is completed by PROJECT with every consequence) or ask for changes
    (feedback; the learner may submit again). Deciding again the same answers the first."""
    _checked(request.problems(), "review")
    answer = repository.decide(
        session,
        reviewer.id,
        submission_id,
        approve=request.decision is Decision.APPROVE,
        scores=request.scores,
        feedback=request.feedback,
        now=_now(),
    )
    match answer.get("refused"):
        case None:
            decided = Submission.model_validate(answer)
            if decided.completion is not None and not decided.repeated:
                # Counted in GET /metrics' progress events like every other completion (a
                # repeated decision answers the first one's, counted then).
                progress_service.counted(
                    session,
                    ProgressEventKind.COMPLETE,
                    progress_service.outcome(decided.completion, ProgressEventKind.COMPLETE),
                )
            return decided
        case "NotFound":
            raise NotFound(f"No submission has the id {submission_id!r} that you review.")
        case "AlreadyReviewed":
            raise AlreadyReviewed(
                f"This submission is {answer['status']} already.",
                extra={"status": answer["status"]},
            )
        case "NotClaimed":
            raise ReviewNotClaimed(
                "Another reviewer holds this submission's claim."
                if answer["claimedByOther"]
                else "Claim this submission first (POST /reviews/claim)."
            )
        case "InvalidScores":
            problems = answer["problems"]
            raise InvalidInput(
                "The scores do not fit the skill's rubric.",
                errors=[
                    FieldError(loc=("scores", p["criterionId"]), msg=p["problem"]) for p in problems
                ],
            )
        case "CompletionRefused":
            progress_service.outcome(answer["completion"], ProgressEventKind.COMPLETE)
    raise AssertionError(f"unknown refusal {answer!r}")
