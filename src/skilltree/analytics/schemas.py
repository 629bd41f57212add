"""Analytics API shapes (camelCase JSON)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from skilltree.models import TreeProgressStatus
from skilltree.schemas import CamelModel, Page


class Freshness(CamelModel):
    """How current the figures are: always exact; events up to `foldedThrough` come from the
    aggregates (folded at `foldedAt`), later ones were counted on this read."""

    folded_through: int
    folded_at: datetime | None


class FunnelSkill(CamelModel):
    """Learners at each stage of one skill."""

    skill_id: str
    key: str
    name: str
    is_optional: bool
    is_milestone: bool
    estimated_minutes: int | None
    unlocked: int
    started: int
    completed: int
    skipped: int


class Funnel(CamelModel):
    """A tree's funnel: enrolments, then every active skill in position order."""

    tree_id: str
    slug: str
    enrolments: int
    skills: list[FunnelSkill]
    freshness: Freshness


class CompletionDay(CamelModel):
    """One UTC day of a tree."""

    day: date
    enrolments: int
    completions: int
    active_learners: int
    cumulative_completions: int
    completions_7_day_average: float


class CompletionSeries(CamelModel):
    """A tree's days from `from` to `to` (UTC), every day present."""

    tree_id: str
    slug: str
    from_: date = Field(alias="from")
    to: date
    days: list[CompletionDay]
    freshness: Freshness


class LearnerRow(CamelModel):
    """One enrolled learner's progress in a tree."""

    user_id: str
    username: str
    status: TreeProgressStatus
    progress_percent: float
    skills_completed: int
    total_skills: int
    time_spent_minutes: int
    enrolled_at: datetime
    started_at: datetime | None
    last_activity_at: datetime | None
    completed_at: datetime | None
    skills_per_day: float | None


class LearnerPage(Page[LearnerRow]):
    """One page of a tree's learners."""

    sort: Literal["progress", "activity", "enrolled"]


class StalledSkill(CamelModel):
    """A skill learners started and have not completed."""

    skill_id: str
    key: str
    name: str
    estimated_minutes: int | None
    stalled: int
    median_minutes: float
    p90_minutes: float
    median_spent_minutes: float
    stuck: int
    """Of the stalled learners, those the progress engine flags `stuck` (struggling_indicators)."""
    median_engagement: float | None
    """Their median engagement_score (0..1), from the progress engine."""
    median_to_estimate: float | None


class SkillTimes(CamelModel):
    """How long one skill took the learners who completed it (minutes)."""

    skill_id: str
    key: str
    name: str
    estimated_minutes: int | None
    completed: int
    p50_minutes: float | None
    p95_minutes: float | None
    p50_spent_minutes: float | None
    p95_spent_minutes: float | None


class SnapshotFreshness(CamelModel):
    """How current a snapshot is: exact as of `asOf` (reflecting every progress event up to
    `throughEvent`); `computedAt` is when it was last recomputed; `changedSince` says that a
    completion or logged time (or a deleted learner) came after it, so that the next refresh
    (`skilltree analytics refresh-times`) will change it."""

    as_of: datetime
    computed_at: datetime
    through_event: int
    changed_since: bool


class TimeToComplete(CamelModel):
    """A tree's time to complete every active skill, in position order, as of a snapshot."""

    tree_id: str
    slug: str
    skills: list[SkillTimes]
    freshness: SnapshotFreshness


class CalendarDay(CamelModel):
    """One day of a learner's calendar, in their time zone."""

    day: date
    active: bool
    events: int
    xp: int


class Calendar(CamelModel):
    """A learner's last days in their time zone, every day present."""

    time_zone: str
    days: list[CalendarDay]
    active_days: int
    xp: int


class Pace(CamelModel):
    """A learner's pace in a tree against the tree's median."""

    tree_id: str
    slug: str
    skills_completed: int
    total_skills: int
    progress_percent: float
    started_at: datetime | None
    skills_per_day: float | None
    median_skills_per_day: float | None
    relative_to_median: float | None
    days_to_finish: float | None


class ActivePeriod(CamelModel):
    """Distinct active learners over one period."""

    first_day: date
    last_day: date
    active_learners: int


class PlatformActivity(CamelModel):
    """Active learners on the platform per day, week and month (the last one of each is the
    current one, so far)."""

    daily: list[ActivePeriod]
    weekly: list[ActivePeriod]
    monthly: list[ActivePeriod]
    freshness: Freshness


class CohortWeek(CamelModel):
    """A cohort's activity in one week after it enrolled."""

    week: date
    weeks_after: int
    active: int
    retention: float | None


class Cohort(CamelModel):
    """The learners whose first enrolment fell in one week, and how many stayed active."""

    week: date
    learners: int
    weeks: list[CohortWeek]


class Cohorts(CamelModel):
    """Weekly enrolment cohorts with retention."""

    cohorts: list[Cohort]


class ItemStatistics(CamelModel):
    """One question of a bank and how the graded, unexpired attempts that drew it answered it.
    Never its key nor its explanation."""

    question_id: str
    kind: str
    prompt: str
    points: float
    attempts: int
    """Graded, unexpired attempts that drew the question."""
    correct: int
    """Of those, the attempts that answered it right."""
    difficulty: float | None
    """`correct / attempts` (the share answered right); null when no attempt drew it."""
    discrimination: float | None
    """Point-biserial correlation between the question's score (1 right, 0 wrong) and the
    attempt's rest score (the share of its other questions' points it earned), from -1 to 1;
    null when undefined (fewer than two attempts, no variance in either, no other question)."""


class ItemAnalysis(CamelModel):
    """A skill's question bank, question by question, in the bank's order."""

    skill_id: str
    attempts: int
    """Graded, unexpired attempts at the bank (an expired attempt answered nothing)."""
    items: list[ItemStatistics]


class FailedQuestion(CamelModel):
    """A question learners fail often: how many attempts drew it and how many got it wrong."""

    skill_id: str
    skill_key: str
    skill_name: str
    question_id: str
    kind: str
    prompt: str
    attempts: int
    failed: int
    failure_rate: float
    """`failed / attempts`."""


class HardestQuestionsQuery(CamelModel):
    """Which questions GET /analytics/trees/{slug}/hardest-questions lists."""

    model_config = ConfigDict(extra="ignore")

    limit: Annotated[int, Field(ge=1, le=200)] = 20
    """How many questions, the most failed first."""
    min_attempts: Annotated[int, Field(ge=1, le=1_000_000)] = 5
    """Only questions drawn by at least this many graded, unexpired attempts (a question
    answered once says little)."""


class AttemptsToPass(CamelModel):
    """How many learners needed this many attempts to pass."""

    attempts: int
    learners: int


class AssessmentOutcome(CamelModel):
    """A skill's question bank by its results: attempts, passes, attempts needed to pass."""

    skill_id: str
    key: str
    name: str
    attempts: int
    """Graded attempts (expired ones included, as failures)."""
    passed: int
    pass_rate: float | None
    """`passed / attempts`; null without attempts."""
    learners: int
    """Learners with a graded attempt."""
    learners_passed: int
    median_attempts_to_pass: float | None
    """Over the learners who passed: the median of their attempts up to their first pass."""
    attempts_to_pass: list[AttemptsToPass]
    """The distribution of those attempts, fewest first."""


class AssessmentOutcomes(CamelModel):
    """Every skill of a tree with a question bank, in position order."""

    tree_id: str
    slug: str
    skills: list[AssessmentOutcome]


class ReviewWaits(CamelModel):
    """How long a PROJECT skill's submissions wait for a reviewer's decision."""

    skill_id: str
    key: str
    name: str
    decided: int
    approved: int
    changes_requested: int
    median_wait_minutes: float | None
    """From submission to decision, over the decided submissions; null without any."""
    p90_wait_minutes: float | None
    pending: int
    """Waiting for a decision now (claimed or not)."""
    median_pending_minutes: float | None
    oldest_pending_minutes: float | None


class ReviewQueueWaits(CamelModel):
    """Every skill of a tree that takes PROJECT submissions (or has some), in position order."""

    tree_id: str
    slug: str
    as_of: datetime
    skills: list[ReviewWaits]
