"""Rubrics as authors write them, submissions as learners send them, reviews as reviewers send
them, and what the API answers.

A rubric is stored as `Rubric.model_dump(by_alias=True)`; `project_score_problems`
(db/schema/reviews.sql) checks a review's scores against it, when the review is decided.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, ValidationError

from skilltree.documents import Number, WebUrl
from skilltree.errors import FieldError
from skilltree.schemas import CamelModel, Page

CriterionId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Points = Annotated[Number, Field(ge=0, le=1000)]
"""Points of a level, a minimum or a score: whole numbers go out as integers (3, not 3.0), as in
every JSON document, so a rubric is written the same way by the API and in tree files."""
MAX_CRITERIA = 30
_WEB_URL: TypeAdapter[str] = TypeAdapter(WebUrl)


class RubricLevel(CamelModel):
    """One level of a criterion: its name and the points it is worth."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    points: Points
    description: Annotated[str, Field(max_length=2000)] = ""


class Criterion(CamelModel):
    """One criterion of a rubric: its levels (distinct points) and the minimum an approval
    needs (the points of a level at least)."""

    id: CriterionId
    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=2000)] = ""
    levels: Annotated[list[RubricLevel], Field(min_length=1, max_length=10)]
    minimum: Points = 0.0


class Rubric(CamelModel):
    """A PROJECT skill's rubric: the criteria a review scores."""

    criteria: Annotated[list[Criterion], Field(min_length=1, max_length=MAX_CRITERIA)]

    def problems(self) -> list[FieldError]:
        """What the rubric breaks beyond its shape (answered 400 naming each field, also in tree
        files): criterion ids distinct (each repeat named at its `id`); each criterion's levels of
        distinct points, its minimum at most its top level."""
        found: list[FieldError] = []
        first_at: dict[str, int] = {}
        for i, criterion in enumerate(self.criteria):
            if criterion.id in first_at:
                found.append(
                    FieldError(
                        ("criteria", i, "id"),
                        f'duplicate criterion id "{criterion.id}" (first at criteria'
                        f"[{first_at[criterion.id]}])",
                        "duplicate_id",
                    )
                )
            first_at.setdefault(criterion.id, i)
            points = [level.points for level in criterion.levels]
            if len(set(points)) != len(points):
                found.append(
                    FieldError(
                        ("criteria", i, "levels"), "points must be distinct", "duplicate_points"
                    )
                )
            if criterion.minimum > max(points):
                found.append(
                    FieldError(
                        ("criteria", i, "minimum"),
                        f"{criterion.minimum:g} is above every level ({max(points):g})",
                        "minimum_above_levels",
                    )
                )
        return found

    def stored(self) -> dict[str, Any]:
        """The rubric as `project_rubrics.rubric` stores it (and tree files carry it)."""
        return self.model_dump(mode="json", by_alias=True)


class Link(CamelModel):
    """A link of a submission (a repository, a demo, a file kept elsewhere): an http(s) URL."""

    url: Annotated[str, Field(min_length=1, max_length=2048)]
    title: Annotated[str, Field(max_length=200)] = ""


class SubmissionRequest(CamelModel):
    """A learner's work for a PROJECT skill: text, links (files as links), or both."""

    text: Annotated[str, Field(max_length=20_000)] = ""
    links: Annotated[list[Link], Field(max_length=20, default_factory=list)]

    def problems(self) -> list[FieldError]:
        """What the submission breaks beyond its shape (answered 400 naming each field): some
        text or a link; every link an http(s) URL."""
        found: list[FieldError] = []
        if not self.text.strip() and not self.links:
            found.append(FieldError(loc=("text",), msg="give a text, links, or both"))
        for i, link in enumerate(self.links):
            try:
                _WEB_URL.validate_python(link.url)
            except ValidationError:
                found.append(FieldError(loc=("links", i, "url"), msg="not an http(s) URL"))
        return found

    def stored(self) -> dict[str, Any]:
        """The submission's `content` as stored."""
        return self.model_dump(by_alias=True)


class Decision(StrEnum):
    """What a reviewer decides."""

    APPROVE = "APPROVE"
    REQUEST_CHANGES = "REQUEST_CHANGES"


class ReviewRequest(CamelModel):
    """A reviewer's decision on the submission they claimed: the rubric's scores by criterion id
    (the points of one level each; every criterion at its minimum to approve) and feedback
    (needed to ask for changes)."""

    decision: Decision
    scores: Annotated[
        dict[Annotated[str, Field(min_length=1, max_length=64)], Points],
        Field(max_length=MAX_CRITERIA, default_factory=dict),
    ]
    feedback: Annotated[str, Field(max_length=20_000)] = ""

    def problems(self) -> list[FieldError]:
        """What the review breaks beyond its shape (answered 400): asking for changes needs
        feedback."""
        if self.decision is Decision.REQUEST_CHANGES and not self.feedback.strip():
            return [FieldError(loc=("feedback",), msg="feedback is needed to ask for changes")]
        return []


class QueueOrder(StrEnum):
    """The order reviewers take the queue in: longest waiting first (`oldest`), or `newest`."""

    OLDEST = "oldest"
    NEWEST = "newest"


class Submission(CamelModel):
    """A submission as its learner and its reviewers see it."""

    id: str
    user_id: str
    skill_id: str
    skill_tree_id: str
    round: int
    """1 for the first submission of the skill, 2 for the one sent after changes were asked..."""
    status: Literal["PENDING", "APPROVED", "CHANGES_REQUESTED"]
    text: str
    links: list[Link]
    submitted_at: datetime
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    claim_expires_at: datetime | None = None
    """While PENDING and claimed: when the claim ends and the submission returns to the queue."""
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    feedback: str | None = None
    scores: dict[str, float] | None = None
    points: float | None = None
    completion: dict[str, Any] | None = None
    """What the completion did (the engine's outcome) when the submission was approved."""
    repeated: bool = False
    """True when this answers a decision made before (the same reviewer, the same decision)."""


class SubmissionPage(Page[Submission]):
    """A page of submissions."""


class Mentor(CamelModel):
    """A mentor of a tree."""

    user_id: str
    username: str
    added_at: datetime


class MentorRequest(CamelModel):
    """The user to name a mentor of the tree, by username."""

    username: Annotated[str, Field(min_length=1, max_length=50)]
