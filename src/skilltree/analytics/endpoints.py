"""Analytics API: a tree's figures for its author and admins, the platform's for admins, and
every learner's own calendar and pace."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from skilltree.analytics import service
from skilltree.analytics.schemas import (
    AssessmentOutcomes,
    Calendar,
    Cohorts,
    CompletionSeries,
    FailedQuestion,
    Funnel,
    HardestQuestionsQuery,
    ItemAnalysis,
    LearnerPage,
    Pace,
    PlatformActivity,
    ReviewQueueWaits,
    StalledSkill,
    TimeToComplete,
)
from skilltree.dependencies import CurrentUser, DbSession, paging, replica_reads
from skilltree.openapi import Answers
from skilltree.schemas import PageParams

router = APIRouter(prefix="/analytics", tags=["analytics"])

_SINCE_FIRST_DAY = {"pattern": r"^(19[7-9][0-9]|[2-9][0-9]{3})-"}
"""`ge=FIRST_DAY` for the OpenAPI document, which has no minimum for a date: year 1970 on."""

_TREE: Answers = {
    403: {"description": "The tree is someone else's (authors see their own trees, admins all)."},
    404: {"description": "No tree has this slug that you may see."},
}
_ADMIN: Answers = {
    403: {"description": "Only admins see platform analytics."},
}


@router.get("/trees/{slug}/funnel", responses=_TREE)
@replica_reads()
def tree_funnel(slug: str, session: DbSession, user: CurrentUser) -> Funnel:
    """Enrolments, then for every active skill (in position order) how many learners had it
    unlocked, started, completed and skipped it. Exact as of the request."""
    return service.funnel(session, slug, user)


@router.get(
    "/trees/{slug}/completions",
    responses=_TREE | {400: {"description": "`from` after `to`, or more than 366 days."}},
)
@replica_reads()
def tree_completions(
    slug: str,
    session: DbSession,
    user: CurrentUser,
    first: Annotated[
        date | None,
        Query(
            alias="from",
            ge=service.FIRST_DAY,
            json_schema_extra=_SINCE_FIRST_DAY,
            description="First day (UTC), 1970-01-01 or later; default `to` - 29.",
        ),
    ] = None,
    last: Annotated[
        date | None,
        Query(
            alias="to",
            ge=service.FIRST_DAY,
            json_schema_extra=_SINCE_FIRST_DAY,
            description="Last day (UTC), 1970-01-01 or later; default today.",
        ),
    ] = None,
) -> CompletionSeries:
    """Enrolments, skill completions and active learners per UTC day, every day of the range
    present, with the running total and 7-day average of completions. Exact as of the
    request."""
    return service.completions(session, slug, user, first, last)


@router.get("/trees/{slug}/learners", responses=_TREE)
@replica_reads()
def tree_learners(
    slug: str,
    session: DbSession,
    user: CurrentUser,
    paging: Annotated[PageParams, Depends(paging(default_size=50, max_size=200))],
    sort: Annotated[
        service.LearnerSort,
        Query(description="progress (most first), activity (latest first) or enrolled."),
    ] = "progress",
) -> LearnerPage:
    """One page of the tree's learners with their percent complete and pace."""
    return service.learners(session, slug, user, paging, sort)


@router.get("/trees/{slug}/stalls", responses=_TREE)
@replica_reads()
def tree_stalls(
    slug: str,
    session: DbSession,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
) -> list[StalledSkill]:
    """The skills learners started and have not completed, longest median time since starting
    (against the skill's estimated minutes) first."""
    return service.stalls(session, slug, user, limit)


@router.get("/trees/{slug}/time-to-complete", responses=_TREE)
def tree_time_to_complete(slug: str, session: DbSession, user: CurrentUser) -> TimeToComplete:
    """For every active skill: learners who completed it, p50 and p95 minutes from starting to
    completing it and of the minutes they logged. From a snapshot per tree, exact as of its
    `freshness.asOf` (refreshed by `skilltree analytics refresh-times`; a tree's first read
    computes it)."""
    return service.time_to_complete(session, slug, user)


@router.get("/trees/{slug}/cohorts", responses=_TREE)
@replica_reads()
def tree_cohorts(
    slug: str,
    session: DbSession,
    user: CurrentUser,
    weeks: Annotated[int, Query(ge=1, le=52)] = 12,
) -> Cohorts:
    """Weekly cohorts of the tree's learners by the week they enrolled in it, with how many
    were active in the tree each week since (retention). Exact as of the request."""
    return service.tree_cohorts(session, slug, user, weeks=weeks)


@router.get(
    "/skills/{skill_id}/items",
    responses={
        403: {"description": "The skill's tree is someone else's (its author and admins only)."},
        404: {"description": "No skill has this id that you may see, or it has no question bank."},
    },
)
@replica_reads()
def skill_items(skill_id: str, session: DbSession, user: CurrentUser) -> ItemAnalysis:
    """Item analysis of the skill's question bank, question by question in the bank's order:
    the graded, unexpired attempts that drew it, how many answered it right, its difficulty
    (the share right) and its discrimination (point-biserial correlation with the attempt's
    rest score; null when undefined). No key or explanation. Exact as of the request."""
    return service.item_analysis(session, skill_id, user)


@router.get("/trees/{slug}/hardest-questions", responses=_TREE)
@replica_reads()
def tree_hardest_questions(
    slug: str,
    session: DbSession,
    user: CurrentUser,
    query: Annotated[HardestQuestionsQuery, Query()],
) -> list[FailedQuestion]:
    """The questions of the tree's banks that learners fail most: of those drawn by at least
    `minAttempts` graded, unexpired attempts, the `limit` with the largest share answered
    wrong first. No key or explanation. Exact as of the request."""
    return service.hardest_questions(session, slug, user, query)


@router.get("/trees/{slug}/assessments", responses=_TREE)
@replica_reads()
def tree_assessments(slug: str, session: DbSession, user: CurrentUser) -> AssessmentOutcomes:
    """For every skill with a question bank, in position order: graded attempts, passes and
    the pass rate, learners who took and passed it, and the attempts learners needed to pass
    (median and distribution). Exact as of the request."""
    return service.assessment_outcomes(session, slug, user)


@router.get("/trees/{slug}/review-waits", responses=_TREE)
@replica_reads()
def tree_review_waits(slug: str, session: DbSession, user: CurrentUser) -> ReviewQueueWaits:
    """For every skill taking PROJECT submissions, in position order: decisions made, the
    median and 90th percentile of minutes from submission to decision, and the submissions
    waiting now with how long. Exact as of the request."""
    return service.review_waits(session, slug, user)


@router.get("/me/calendar")
def my_calendar(session: DbSession, user: CurrentUser) -> Calendar:
    """Your last 365 days in your time zone: active or not, events and XP of each day."""
    return service.calendar(session, user)


@router.get(
    "/me/trees/{slug}/pace",
    responses={
        404: {"description": "No such tree that you may see, or you are not enrolled."},
    },
)
def my_pace(slug: str, session: DbSession, user: CurrentUser) -> Pace:
    """Your pace in a tree (skills completed a day since you started) against the tree's
    median (none under 5 enrolments)."""
    return service.pace(session, user, slug)


@router.get("/platform/active", responses=_ADMIN)
@replica_reads()
def platform_active(
    session: DbSession,
    user: CurrentUser,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
    weeks: Annotated[int, Query(ge=1, le=104)] = 12,
    months: Annotated[int, Query(ge=1, le=24)] = 6,
) -> PlatformActivity:
    """Learners active on the platform per UTC day, week (from Monday) and month, each counted
    once per period; the last of each list is the current period so far. Exact as of the
    request."""
    return service.platform_active(session, user, days=days, weeks=weeks, months=months)


@router.get("/platform/cohorts", responses=_ADMIN)
@replica_reads()
def platform_cohorts(
    session: DbSession,
    user: CurrentUser,
    weeks: Annotated[int, Query(ge=1, le=52)] = 12,
) -> Cohorts:
    """Weekly cohorts of learners by first enrolment, with how many were active each week
    since (retention)."""
    return service.cohorts(session, user, weeks=weeks)
