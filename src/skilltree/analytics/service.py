"""Learning analytics: who may see what, and the figures shaped for the API and the CLI.

Authors analyse their own trees and admins every tree (a draft of someone else looks missing, a
published tree of someone else is Forbidden, as for authoring); only admins see the platform;
every signed-in learner sees their own calendar and pace. PostgreSQL checks the same rights
again (the views in db/schema/analytics.sql), so a query cannot read more than its caller may.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from sqlalchemy import RowMapping
from sqlalchemy.orm import Session

from skilltree.analytics import repository
from skilltree.analytics.schemas import (
    ActivePeriod,
    AssessmentOutcome,
    AssessmentOutcomes,
    Calendar,
    CalendarDay,
    Cohort,
    Cohorts,
    CohortWeek,
    CompletionDay,
    CompletionSeries,
    FailedQuestion,
    Freshness,
    Funnel,
    FunnelSkill,
    HardestQuestionsQuery,
    ItemAnalysis,
    ItemStatistics,
    LearnerPage,
    LearnerRow,
    Pace,
    PlatformActivity,
    ReviewQueueWaits,
    ReviewWaits,
    SkillTimes,
    SnapshotFreshness,
    StalledSkill,
    TimeToComplete,
)
from skilltree.catalog import service as catalog
from skilltree.db.replicas import ON_REPLICA
from skilltree.errors import FieldError, Forbidden, InvalidInput, NotFound
from skilltree.graph import service as graph_service
from skilltree.models import SkillTree, User, UserRole
from skilltree.schemas import PageParams

LearnerSort = Literal["progress", "activity", "enrolled"]
MAX_RANGE_DAYS = 366
"""The longest completions series one request may ask for."""
DEFAULT_RANGE_DAYS = 30
FIRST_DAY = date(1970, 1, 1)
"""The earliest day a series may name (no event is older; `to` - 29 stays a date)."""
CALENDAR_DAYS = 365


def _now() -> datetime:
    return datetime.now(UTC)


def analysable_tree(session: Session, slug: str, user: User) -> SkillTree:
    """Tree `slug` if `user` may analyse it (its author, or an admin); NotFound when they may
    not even see it, Forbidden when it is someone else's published tree."""
    tree = catalog.visible_tree(session, slug, user)
    _may_analyse(user, tree.created_by)
    return tree


def _may_analyse(user: User, created_by: str | None) -> None:
    if not (
        user.role is UserRole.ADMIN or (user.role is UserRole.AUTHOR and created_by == user.id)
    ):
        raise Forbidden("Only the tree's author or an admin can see its analytics.")


def freshness(session: Session) -> Freshness:
    """The watermark of the aggregates, held until the transaction ends, after folding first
    when the tail has grown long (a read then stays quick; the figures are exact either way).
    The fold comes first: waiting for it while holding the watermark could deadlock. On a
    replica nothing is folded (nothing can be written there; the primary's folds arrive by
    replay) and the watermark holds by the request's one snapshot (db.replicas)."""
    if not session.info.get(ON_REPLICA):
        repository.fold(
            session, min_tail=repository.TAIL_FOLD_THRESHOLD, max_ids=repository.FOLD_CHUNK
        )
    folded_through, folded_at, _ = repository.fold_state(session)
    return Freshness(folded_through=folded_through, folded_at=folded_at)


def funnel(session: Session, slug: str, user: User) -> Funnel:
    """The funnel of tree `slug` for its author or an admin."""
    return tree_funnel(session, analysable_tree(session, slug, user))


def tree_funnel(session: Session, tree: SkillTree) -> Funnel:
    """Enrolments and every active skill's learners by stage (for a caller already checked)."""
    fresh = freshness(session)
    return Funnel(
        tree_id=tree.id,
        slug=tree.slug,
        enrolments=repository.enrolment_count(session, tree.id),
        skills=[
            FunnelSkill.model_validate(dict(row))
            for row in repository.funnel(session, tree.id, fresh.folded_through)
        ],
        freshness=fresh,
    )


def _range(first: date | None, last: date | None, today: date) -> tuple[date, date]:
    last = last or today
    first = first or last - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if first > last:
        raise InvalidInput(
            "`from` comes after `to`.",
            errors=[FieldError(loc=("query", "from"), msg="must not be after `to`")],
        )
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise InvalidInput(
            f"A series covers at most {MAX_RANGE_DAYS} days.",
            errors=[
                FieldError(
                    loc=("query", "from"), msg=f"more than {MAX_RANGE_DAYS} days before `to`"
                )
            ],
        )
    return first, last


def completions(
    session: Session,
    slug: str,
    user: User,
    first: date | None = None,
    last: date | None = None,
) -> CompletionSeries:
    """Tree `slug`'s enrolments, completions and active learners per UTC day, `first` to `last`
    (default: the last 30 days), every day present."""
    tree = analysable_tree(session, slug, user)
    first, last = _range(first, last, _now().date())
    fresh = freshness(session)
    days = [
        CompletionDay.model_validate(dict(row))
        for row in repository.completions(session, tree.id, first, last, fresh.folded_through)
    ]
    return CompletionSeries(
        tree_id=tree.id, slug=tree.slug, from_=first, to=last, days=days, freshness=fresh
    )


def learners(
    session: Session,
    slug: str,
    user: User,
    paging: PageParams,
    sort: LearnerSort = "progress",
) -> LearnerPage:
    """One page of tree `slug`'s learners with their percent, for its author or an admin."""
    tree = analysable_tree(session, slug, user)
    rows = repository.learners(session, tree.id, sort, paging.page_size, paging.offset, _now())
    total = int(rows[0]["total"]) if rows else repository.enrolment_count(session, tree.id)
    items = [
        LearnerRow.model_validate({k: v for k, v in row.items() if k != "total"}) for row in rows
    ]
    return LearnerPage(
        items=items, total=total, page=paging.page, page_size=paging.page_size, sort=sort
    )


def stalls(
    session: Session, slug: str, user: User, limit: int = 20, now: datetime | None = None
) -> list[StalledSkill]:
    """The skills of tree `slug` where learners stall most, worst first."""
    tree = analysable_tree(session, slug, user)
    return [
        StalledSkill.model_validate(dict(row))
        for row in repository.stalls(session, tree.id, now or _now(), limit)
    ]


def time_to_complete(session: Session, slug: str, user: User) -> TimeToComplete:
    """For every active skill of tree `slug`: p50/p95 of the time to complete it, from the
    tree's snapshot (milliseconds), with how current it is. A tree without one yet gets it now,
    once (the grouped pass over its COMPLETED rows; later ones are cron's)."""
    tree = analysable_tree(session, slug, user)
    rows = repository.time_to_complete(session, tree.id)
    if not rows:
        # Fold first, so that the snapshot is known exact through the newest event (it sees
        # every committed row anyway; the watermark only says through which event that holds).
        repository.fold(session, max_ids=repository.FOLD_CHUNK)
        repository.refresh_skill_times(session, tree.id, only_missing=True)
        rows = repository.time_to_complete(session, tree.id)
    first = rows[0]
    return TimeToComplete(
        tree_id=tree.id,
        slug=tree.slug,
        skills=[
            SkillTimes.model_validate({k: row[k] for k in SKILL_TIMES_FIELDS})
            for row in rows
            if row["skill_id"] is not None
        ],
        freshness=SnapshotFreshness(
            as_of=first["checked_at"],
            computed_at=first["computed_at"],
            through_event=first["through_event"],
            changed_since=first["changed"],
        ),
    )


SKILL_TIMES_FIELDS = tuple(SkillTimes.model_fields)
ITEM_FIELDS = tuple(ItemStatistics.model_fields)


def item_analysis(session: Session, skill_id: str, user: User) -> ItemAnalysis:
    """Item analysis of skill `skill_id`'s question bank, for its tree's author or an admin
    (NotFound for a skill they may not see or without a bank, Forbidden for someone else's)."""
    place = graph_service.visible_skill(session, skill_id, user)
    _may_analyse(user, place.tree_created_by)
    rows = repository.item_analysis(session, skill_id)
    if not rows:
        raise NotFound(f"The skill {skill_id!r} has no question bank.")
    return ItemAnalysis(
        skill_id=skill_id,
        attempts=rows[0]["bank_attempts"],
        items=[ItemStatistics.model_validate({k: row[k] for k in ITEM_FIELDS}) for row in rows],
    )


def hardest_questions(
    session: Session, slug: str, user: User, query: HardestQuestionsQuery
) -> list[FailedQuestion]:
    """The questions of tree `slug`'s banks that learners fail most, for its author or an
    admin."""
    tree = analysable_tree(session, slug, user)
    rows = repository.hardest_questions(session, tree.id, query.min_attempts, query.limit)
    return [FailedQuestion.model_validate(dict(row)) for row in rows]


def assessment_outcomes(session: Session, slug: str, user: User) -> AssessmentOutcomes:
    """Pass rate and attempts to pass of every skill of tree `slug` with a question bank."""
    tree = analysable_tree(session, slug, user)
    return AssessmentOutcomes(
        tree_id=tree.id,
        slug=tree.slug,
        skills=[
            AssessmentOutcome.model_validate(dict(row))
            for row in repository.assessment_outcomes(session, tree.id)
        ],
    )


def review_waits(
    session: Session, slug: str, user: User, now: datetime | None = None
) -> ReviewQueueWaits:
    """How long the project submissions of tree `slug` wait for a decision, per skill."""
    tree = analysable_tree(session, slug, user)
    now = now or _now()
    return ReviewQueueWaits(
        tree_id=tree.id,
        slug=tree.slug,
        as_of=now,
        skills=[
            ReviewWaits.model_validate(dict(row))
            for row in repository.review_waits(session, tree.id, now)
        ],
    )


def calendar(
    session: Session, user: User, now: datetime | None = None, days: int = CALENDAR_DAYS
) -> Calendar:
    """The learner's activity and XP per day over the last `days` days, in their time zone."""
    rows = repository.calendar(
        session, user.id, repository.timezone_of(session, user.id), now or _now(), days
    )
    entries = [
        CalendarDay(day=r["day"], active=r["active"], events=r["events"], xp=r["xp"]) for r in rows
    ]
    return Calendar(
        time_zone=rows[0]["zone"],
        days=entries,
        active_days=sum(1 for e in entries if e.active),
        xp=sum(e.xp for e in entries),
    )


def pace(session: Session, user: User, slug: str, now: datetime | None = None) -> Pace:
    """The learner's pace in tree `slug` (skills a day since they started) against the tree's
    median; NotFound when they are not enrolled in it."""
    tree = catalog.visible_tree(session, slug, user)
    row = repository.pace(session, user.id, tree.id, now or _now())
    if row is None:
        raise NotFound(f"You are not enrolled in {slug!r}.")
    mine, median = row["skills_per_day"], row["median_skills_per_day"]
    remaining = row["total_skills"] - row["skills_completed"]
    return Pace(
        tree_id=tree.id,
        slug=tree.slug,
        skills_completed=row["skills_completed"],
        total_skills=row["total_skills"],
        progress_percent=row["progress_percent"],
        started_at=row["started_at"],
        skills_per_day=mine,
        median_skills_per_day=median,
        relative_to_median=mine / median if mine is not None and median else None,
        days_to_finish=remaining / mine if mine else None,
    )


def _admin(user: User) -> None:
    if user.role is not UserRole.ADMIN:
        raise Forbidden("Only admins can see platform analytics.")


def platform_active(
    session: Session,
    user: User,
    *,
    now: datetime | None = None,
    days: int = 30,
    weeks: int = 12,
    months: int = 6,
) -> PlatformActivity:
    """Distinct active learners per UTC day, week and month, the current ones included."""
    _admin(user)
    fresh = freshness(session)
    periods: dict[str, list[ActivePeriod]] = defaultdict(list)
    rows = repository.platform_active(
        session, now or _now(), days, weeks, months, fresh.folded_through
    )
    for row in rows:
        periods[row["period"]].append(
            ActivePeriod(
                first_day=row["first_day"],
                last_day=row["last_day"],
                active_learners=row["active_learners"],
            )
        )
    return PlatformActivity(
        daily=periods["day"],
        weekly=periods["week"],
        monthly=periods["month"],
        freshness=fresh,
    )


def cohorts(
    session: Session, user: User, *, now: datetime | None = None, weeks: int = 12
) -> Cohorts:
    """Weekly cohorts by first enrolment and how many of each were active week by week."""
    _admin(user)
    return _cohorts(repository.cohorts(session, now or _now(), weeks))


def tree_cohorts(
    session: Session, slug: str, user: User, *, now: datetime | None = None, weeks: int = 12
) -> Cohorts:
    """Tree `slug`'s weekly cohorts by enrolment in it and how many of each were active in it
    week by week, for its author or an admin."""
    tree = analysable_tree(session, slug, user)
    return _cohorts(repository.tree_cohorts(session, tree.id, now or _now(), weeks))


def _cohorts(rows: Sequence[RowMapping]) -> Cohorts:
    found: dict[date, Cohort] = {}
    for row in rows:
        cohort = found.setdefault(
            row["cohort"], Cohort(week=row["cohort"], learners=row["learners"], weeks=[])
        )
        cohort.weeks.append(
            CohortWeek(
                week=row["week"],
                weeks_after=row["weeks_after"],
                active=row["active"],
                retention=row["active"] / row["learners"] if row["learners"] else None,
            )
        )
    return Cohorts(cohorts=list(found.values()))
