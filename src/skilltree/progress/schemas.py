"""Progress API shapes (camelCase JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypedDict

from pydantic import Field

from skilltree.models import (
    AchievementRarity,
    CompletionMethod,
    SkillProgressStatus,
    TreeProgressStatus,
)
from skilltree.schemas import CamelModel, TreeRef

Minutes = Annotated[int, Field(ge=0, le=24 * 60)]


class CompleteRequest(CamelModel):
    """How a skill was completed: a `method` its completion policy allows; `score` is required
    for ASSESSMENT (and is taken on the client's word until the server grades assessments)."""

    method: CompletionMethod = CompletionMethod.MANUAL
    score: Annotated[float, Field(ge=0, le=100)] | None = None
    assessment_id: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    evidence: dict[str, Any] | None = None
    minutes_spent: Minutes | None = None


class ActivityRequest(CamelModel):
    """Time spent on a skill in one sitting (counts one attempt)."""

    minutes: Minutes


class SkillState(CamelModel):
    """A learner's state in one skill."""

    skill_id: str
    status: SkillProgressStatus
    progress_percent: float = 0
    time_spent_minutes: int = 0
    attempts_count: int = 0
    completion_method: CompletionMethod | None = None
    completion_score: float | None = None
    unlocked_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None


class TreeProgress(CamelModel):
    """A learner's progress through one tree."""

    skill_tree_id: str
    status: TreeProgressStatus
    progress_percent: float
    skills_completed: int
    total_skills: int
    time_spent_minutes: int
    milestones_reached: list[str]
    started_at: datetime | None
    last_activity_at: datetime | None
    completed_at: datetime | None


class ProfileSummary(CamelModel):
    """A learner's totals after the event."""

    total_xp: int
    current_level: int
    current_streak: int
    max_streak: int
    skills_completed: int
    hours_learned: float
    trees_started: int
    trees_completed: int


class SkillRef(CamelModel):
    """A skill by id and name."""

    id: str
    name: str


class EarnedAchievement(CamelModel):
    """An achievement the learner has earned."""

    id: str
    name: str
    description: str
    xp_reward: int
    badge_icon: str | None
    badge_color: str | None
    rarity: AchievementRarity
    earned_at: datetime | None = None


class ProgressOutcome(CamelModel):
    """Everything one progress event changed (`changed` is false for a repeated request)."""

    skill: SkillState | None
    changed: bool
    xp_awarded: int
    level_up: bool
    unlocked: list[SkillRef]
    achievements: list[EarnedAchievement]
    tree: TreeProgress
    profile: ProfileSummary


class EnrolledTree(CamelModel):
    """A tree the learner is enrolled in, with their progress."""

    tree: TreeRef
    progress: TreeProgress


class MyProgress(CamelModel):
    """The learner's totals and every tree they are enrolled in."""

    profile: ProfileSummary
    trees: list[EnrolledTree]


class PathStep(CamelModel):
    """A skill on a learner's way, with its state and what it takes and gives."""

    id: str
    name: str
    status: SkillProgressStatus
    estimated_minutes: int | None
    xp_value: int


class LearningPath(CamelModel):
    """The skills a learner still needs to reach `target`, in a valid order: a page of the
    steps, with the totals of the whole path."""

    target: SkillRef
    steps: list[PathStep] = Field(
        description="The steps from `offset`, at most `limit` of them, in learning order."
    )
    total_steps: int = Field(description="The steps of the whole path.")
    total_minutes: int = Field(description="Estimated minutes of the whole path.")
    total_xp: int = Field(description="XP of the whole path.")
    next_offset: int | None = Field(
        description="The `offset` of the next page; null on the last page."
    )


class PathStepJson(TypedDict):
    """A PathStep as its JSON object: a path is built from trusted data (the tree graph and the
    rules) and serialised as is, since a model per step cost more than finding the path (a path
    may have tens of thousands of steps)."""

    id: str
    name: str
    status: str
    estimatedMinutes: int | None
    xpValue: int


class SkillRefJson(TypedDict):
    """A SkillRef as its JSON object."""

    id: str
    name: str


class LearningPathJson(TypedDict):
    """A LearningPath as its JSON object (see PathStepJson)."""

    target: SkillRefJson
    steps: list[PathStepJson]
    totalSteps: int
    totalMinutes: int
    totalXp: int
    nextOffset: int | None


class Recommendation(CamelModel):
    """A skill to learn next, and why."""

    skill: PathStep
    is_milestone: bool
    unlocks: list[SkillRef]
    reason: str


class NextSkills(CamelModel):
    """The best skills to learn next in a tree, best first."""

    recommendations: list[Recommendation]
