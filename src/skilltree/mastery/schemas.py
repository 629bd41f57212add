"""Mastery as learners see it: each completed skill's level, when it is due for review, and what a
review did (docs/progress.md, "Mastery")."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field

from skilltree.models import MasteryLevel
from skilltree.schemas import CamelModel, Page


class Recall(StrEnum):
    """A review's rating, FSRS's four: how well the skill was recalled."""

    AGAIN = "AGAIN"
    HARD = "HARD"
    GOOD = "GOOD"
    EASY = "EASY"

    @property
    def rating(self) -> int:
        """FSRS's number of the rating (1 Again .. 4 Easy)."""
        return list(Recall).index(self) + 1

    @classmethod
    def of(cls, rating: int) -> Recall:
        """The rating numbered `rating`."""
        return list(cls)[rating - 1]


class SkillMastery(CamelModel):
    """A completed skill's mastery now."""

    skill_id: str
    skill_name: str
    tree_slug: str
    level: MasteryLevel
    """The level to show now: the level earned, lowered once the review is overdue (one level;
    two once overdue by more than the interval it was given)."""
    earned_level: MasteryLevel
    """The level the evidence supports as of the last review (or the completion)."""
    due_at: datetime
    """When the skill is due for review (before its first review: from its completion)."""
    due: bool
    """Due now (the review's time has come): its level is no longer what it was."""
    overdue: bool
    """Past its due date: the shown `level` is lowered."""
    last_reviewed_at: datetime
    """The last review (before the first one: the completion)."""
    reviews: int
    lapses: int
    """Reviews rated AGAIN."""
    review_by: Literal["ASSESSMENT", "SELF"]
    """How the skill is reviewed: ASSESSMENT, a review attempt at its question bank
    (`POST /skills/{id}/attempts`, then submit); SELF, your own rating of your recall
    (`POST /me/reviews/{skillId}`), weaker evidence."""


class ReviewPage(Page[SkillMastery]):
    """A page of the skills due for review, the longest due first."""


class TreeMastery(CamelModel):
    """Your mastery of each completed active skill of a tree, soonest due first."""

    tree_slug: str
    skills: list[SkillMastery]


class SelfReview(CamelModel):
    """A review of a skill without a question bank: how well you recalled it."""

    recall: Recall


class ReviewOutcome(CamelModel):
    """What a review did: its rating, the level before and after, the next due date."""

    skill_id: str
    rating: Recall
    score: float | None = None
    """A review attempt's score."""
    on_time: bool
    """Taken when due: only then does a good review raise the level."""
    level_before: MasteryLevel
    level: MasteryLevel
    due_before: datetime
    due_at: datetime
    reviewed_at: datetime
    xp_awarded: int = 0
    """XP from achievements the review earned (a review itself awards none)."""
    achievements: list[dict[str, Any]] = Field(default_factory=list)
    """Achievements the review earned (MASTERY ones, streaks)."""
