"""Mastery reviews: which completed skills are due, each one's level, and a review.

A review runs in the transaction of its request, in two halves around the FSRS step
(`scheduling.reviewed`): `mastery_begin` locks the learner and answers the card and the review's
rating; `mastery_record` checks the rating again, applies the level rule and stores the card,
the review and the day's activity (db/schema/mastery.sql). The caller commits.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from skilltree.catalog import service as catalog_service
from skilltree.errors import InvalidTransition, NotFound, ReviewAttemptRequired
from skilltree.mastery import repository, scheduling
from skilltree.mastery.schemas import (
    Recall,
    ReviewOutcome,
    ReviewPage,
    SelfReview,
    SkillMastery,
    TreeMastery,
)
from skilltree.models import User
from skilltree.schemas import PageParams


def _now() -> datetime:
    return datetime.now(UTC)


def _mastery(row: dict[str, Any], now: datetime) -> SkillMastery:
    return SkillMastery(
        skill_id=row["skill_id"],
        skill_name=row["skill_name"],
        tree_slug=row["tree_slug"],
        level=row["level"],
        earned_level=row["earned_level"],
        due_at=row["due_at"],
        due=row["due_at"] <= now,
        overdue=row["due_at"] < now,
        last_reviewed_at=row["last_reviewed_at"],
        reviews=row["reviews"],
        lapses=row["lapses"],
        review_by="ASSESSMENT" if row["graded"] else "SELF",
    )


def due_reviews(session: Session, user: User, paging: PageParams) -> ReviewPage:
    """The learner's skills due for review now, the longest due first."""
    now = _now()
    rows, total = repository.due(session, user.id, now, paging.page_size, paging.offset)
    return ReviewPage(
        items=[_mastery(row, now) for row in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


def tree_mastery(session: Session, user: User, slug: str) -> TreeMastery:
    """The learner's mastery of each completed skill of tree `slug` (NotFound: a tree they may
    not see)."""
    tree = catalog_service.visible_tree(session, slug, user)
    now = _now()
    return TreeMastery(
        tree_slug=tree.slug,
        skills=[_mastery(row, now) for row in repository.of_tree(session, user.id, tree.id, now)],
    )


def _review(
    session: Session, user: User, skill_id: str, attempt_id: str | None, recall: int | None
) -> ReviewOutcome:
    now = _now()
    begun = repository.begin(session, user.id, skill_id, now, attempt_id, recall)
    if "refused" not in begun:
        card = scheduling.reviewed(begun, now)
        begun = repository.record(
            session, user.id, skill_id, now, attempt_id, recall, card.to_dict(), card.due
        )
    match begun.get("refused"):
        case None:
            return _outcome(begun)
        case "NotFound":
            raise NotFound(f"No skill has the id {skill_id!r}.")
        case "NotCompleted":
            raise InvalidTransition(
                f"{begun.get('name', skill_id)!r} is not completed: only a completed skill is"
                " reviewed."
            )
        case "Inactive":
            raise InvalidTransition(f"{begun['name']!r} is not active: it is not reviewed.")
        case "HasBank":
            raise ReviewAttemptRequired()
    raise AssertionError(f"unknown refusal {begun!r}")


def _outcome(answer: dict[str, Any]) -> ReviewOutcome:
    return ReviewOutcome(
        skill_id=answer["skillId"],
        rating=Recall.of(answer["rating"]),
        score=answer["score"],
        on_time=answer["onTime"],
        level_before=answer["levelBefore"],
        level=answer["level"],
        due_before=answer["dueBefore"],
        due_at=answer["dueAt"],
        reviewed_at=answer["reviewedAt"],
        xp_awarded=answer.get("xpAwarded") or 0,
        achievements=answer.get("achievements") or [],
    )


def self_review(session: Session, user: User, skill_id: str, request: SelfReview) -> ReviewOutcome:
    """Review a completed skill without a question bank by rating your own recall."""
    catalog_service.visible_skill(session, skill_id, user)
    return _review(session, user, skill_id, None, request.recall.rating)


def attempt_review(
    session: Session, user: User, skill_id: str, attempt_id: str, *, repeated: bool
) -> ReviewOutcome | None:
    """The review a graded review attempt makes: made now the first time (`repeated` False),
    answered as recorded for a repeated submit (None: the attempt made none)."""
    if not repeated:
        try:
            return _review(session, user, skill_id, attempt_id, None)
        except (NotFound, InvalidTransition):
            # The skill was reset or made inactive since the attempt started: the grade stands,
            # no review is made.
            return None
    recorded = repository.review_of_attempt(session, user.id, attempt_id)
    return None if recorded is None else _outcome(recorded)
