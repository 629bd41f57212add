"""The progress engine: every learner event is one transaction with all of its consequences.

Each event locks the learner's profile row first, so a learner's events run one at a time (a
repeated or racing request sees the first one's result), then reads the tree and the learner's
rows fresh, applies the rule, and updates in the same transaction: the skill's row, unlocked
dependents, the tree's progress, the profile's statistics, streak and level, achievements (until
nothing new is earned), and the audit trail. Services flush only; the caller commits.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ParamSpec

from sqlalchemy.orm import Session

from skilltree.catalog import repository as catalog_repository
from skilltree.catalog.visibility import may_view_tree
from skilltree.documents import ProgressEvidence, validate_document
from skilltree.errors import FieldError, InvalidInput, InvalidTransition, NotFound, SkillLocked
from skilltree.gamification import rules
from skilltree.models import (
    CompletionMethod,
    ProgressEventKind,
    Skill,
    SkillProgressStatus,
    SkillTree,
    TreeProgressStatus,
    User,
    UserProfile,
    UserSkillProgress,
    UserSkillTreeProgress,
)
from skilltree.progress import repository, states
from skilltree.progress.repository import TreeView
from skilltree.progress.schemas import (
    CompleteRequest,
    EarnedAchievement,
    EnrolledTree,
    MyProgress,
    ProfileSummary,
    ProgressOutcome,
    SkillRef,
    SkillState,
    TreeProgress,
    TreeRef,
)

P = ParamSpec("P")
Status = SkillProgressStatus
Event = ProgressEventKind


@dataclass
class _Change:
    """What one event has done so far."""

    view: TreeView
    profile: UserProfile
    now: datetime
    changed: bool = True
    xp_awarded: int = 0
    unlocked: list[SkillRef] = field(default_factory=list)
    achievements: list[EarnedAchievement] = field(default_factory=list)
    level_before: int = 1


def _now() -> datetime:
    return datetime.now(UTC)


def visible_tree(tree: SkillTree | None, user: User, what: str) -> SkillTree:
    """`tree` if the learner may see it, else NotFound("No <what>.")."""
    if tree is None or not may_view_tree(
        is_published=tree.is_published, created_by=tree.created_by, viewer=user
    ):
        raise NotFound(f"No {what}.")
    return tree


def _begin(session: Session, user: User, tree: SkillTree) -> _Change:
    """Lock the learner, read the tree fresh, and enrol the learner if they are not yet."""
    profile = repository.lock_profile(session, user.id)
    change = _Change(
        view=repository.tree_view(session, user.id, tree),
        profile=profile,
        now=_now(),
        level_before=profile.current_level,
    )
    if change.view.enrolment is None:
        _enrol(session, change)
    return change


def _rows(view: TreeView) -> dict[str, Status]:
    return {skill_id: row.status for skill_id, row in view.rows.items()}


def _state(view: TreeView, skill_id: str) -> Status:
    return states.state_of(skill_id, view.needs, _rows(view), view.optional)


def _row(session: Session, change: _Change, skill_id: str) -> UserSkillProgress:
    """The learner's row for `skill_id`, created (with its derived state) if missing."""
    view = change.view
    row = view.rows.get(skill_id)
    if row is None:
        state = _state(view, skill_id)
        row = UserSkillProgress(
            user_id=change.profile.user_id,
            skill_id=skill_id,
            skill_tree_id=view.tree.id,
            status=state,
            progress_percent=0,
            time_spent_minutes=0,
            attempts_count=0,
            unlocked_at=change.now if state is Status.AVAILABLE else None,
        )
        session.add(row)
        view.rows[skill_id] = row
    return row


def _enrol(session: Session, change: _Change) -> None:
    view, user_id = change.view, change.profile.user_id
    view.enrolment = UserSkillTreeProgress(
        user_id=user_id,
        skill_tree_id=view.tree.id,
        status=TreeProgressStatus.NOT_STARTED,
        progress_percent=0,
        skills_completed=0,
        total_skills=len(view.skills),
        time_spent_minutes=0,
        milestones_reached=[],
        current_path=[],
    )
    session.add(view.enrolment)
    repository.record(session, user_id, Event.ENROLL, tree_id=view.tree.id)
    _unlock(session, change, sorted(view.skills))


def _unlock(session: Session, change: _Change, candidates: list[str]) -> None:
    """Give every candidate that is now AVAILABLE and had no row its unlock time."""
    view = change.view
    # Unlocking makes rows AVAILABLE, which satisfies nothing: one snapshot serves every candidate.
    rows, optional = _rows(view), view.optional
    for skill_id in candidates:
        row = view.rows.get(skill_id)
        if row is not None and row.status is not Status.LOCKED:
            continue
        if states.state_of(skill_id, view.needs, rows, optional) is not Status.AVAILABLE:
            continue
        row = _row(session, change, skill_id)
        row.status, row.unlocked_at = Status.AVAILABLE, change.now
        change.unlocked.append(SkillRef(id=skill_id, name=view.skills[skill_id].name))
        repository.record(
            session, change.profile.user_id, Event.UNLOCK, tree_id=view.tree.id, skill_id=skill_id
        )


def _dependents(view: TreeView, skill_id: str) -> list[str]:
    return sorted(s for s, prerequisites in view.needs.items() if skill_id in prerequisites)


def _check_unlocked(change: _Change, skill_id: str, action: str) -> None:
    view = change.view
    if _state(view, skill_id) is Status.LOCKED:
        missing = states.missing_prerequisites(
            skill_id, view.needs, _rows(view), view.optional, lambda s: view.skills[s].name
        )
        names = ", ".join(view.skills[m].name for m in missing)
        raise SkillLocked(
            f"Cannot {action} {view.skills[skill_id].name!r} yet: first {names}.",
            extra={"missing": [{"id": m, "name": view.skills[m].name} for m in missing]},
        )


def _learning_activity(change: _Change, minutes: int) -> None:
    """Count activity today: streak (in the learner's time zone), hours, last activity."""
    profile, enrolment, now = change.profile, change.view.enrolment, change.now
    assert enrolment is not None
    zone = profile.timezone
    last_day = rules.local_day(profile.last_activity_at, zone) if profile.last_activity_at else None
    profile.current_streak = rules.next_streak(
        profile.current_streak, last_day, rules.local_day(now, zone)
    )
    profile.max_streak = max(profile.max_streak, profile.current_streak)
    profile.last_activity_at = now
    profile.hours_learned = profile.hours_learned + minutes / 60
    enrolment.last_activity_at = now
    enrolment.time_spent_minutes += minutes
    if enrolment.status is TreeProgressStatus.NOT_STARTED:
        enrolment.status, enrolment.started_at = TreeProgressStatus.IN_PROGRESS, now


def _finish(session: Session, change: _Change, skill_id: str | None) -> ProgressOutcome:
    """Tree progress, profile statistics, achievements and level; then the outcome."""
    view, profile = change.view, change.profile
    enrolment = view.enrolment
    assert enrolment is not None
    if change.changed:
        _refresh_tree_progress(change)
        session.flush()
        _award_achievements(session, change, skill_id)
        level = rules.level_for_xp(profile.total_xp)
        if level != profile.current_level:
            profile.current_level = level
            if level > change.level_before:
                repository.record(
                    session,
                    profile.user_id,
                    Event.LEVEL_UP,
                    tree_id=view.tree.id,
                    skill_id=skill_id,
                    details={"from": change.level_before, "to": level},
                )
        session.flush()
    row = view.rows.get(skill_id) if skill_id else None
    return ProgressOutcome(
        skill=_skill_state(view, skill_id, row) if skill_id else None,
        changed=change.changed,
        xp_awarded=change.xp_awarded,
        level_up=profile.current_level > change.level_before,
        unlocked=change.unlocked,
        achievements=change.achievements,
        tree=TreeProgress.model_validate(enrolment),
        profile=ProfileSummary.model_validate(profile),
    )


def _skill_state(view: TreeView, skill_id: str, row: UserSkillProgress | None) -> SkillState:
    if row is None:
        return SkillState(skill_id=skill_id, status=_state(view, skill_id))
    state = SkillState.model_validate(row)
    return state.model_copy(update={"status": _state(view, skill_id)})


def _refresh_tree_progress(change: _Change) -> None:
    view, enrolment, now = change.view, change.view.enrolment, change.now
    assert enrolment is not None
    rows, optional = _rows(view), view.optional
    # The learner's rows are few next to the tree's skills: count from them.
    completed = [s for s, status in rows.items() if status is Status.COMPLETED and s in view.skills]
    enrolment.skills_completed = len(completed)
    enrolment.total_skills = len(view.skills)
    enrolment.progress_percent = 100.0 * len(completed) / len(view.skills) if view.skills else 0.0
    enrolment.milestones_reached = sorted(s for s in completed if view.skills[s].is_milestone)
    required_done = sum(
        1
        for s, status in rows.items()
        if status in {Status.COMPLETED, Status.SKIPPED} and s in view.skills and s not in optional
    )
    if completed and required_done == len(view.skills) - len(optional):
        if enrolment.status is not TreeProgressStatus.COMPLETED:
            enrolment.status, enrolment.completed_at = TreeProgressStatus.COMPLETED, now
    elif enrolment.status is TreeProgressStatus.COMPLETED:
        enrolment.status, enrolment.completed_at = TreeProgressStatus.IN_PROGRESS, None


def _award_achievements(session: Session, change: _Change, skill_id: str | None) -> None:
    """Award every achievement now met, add its XP, and look again until nothing new is met."""
    profile = change.profile
    counted = repository.measures(session, profile.user_id)
    profile.skills_completed = counted.skills_completed
    profile.trees_completed = counted.trees_completed
    profile.trees_started = counted.trees_started
    while True:
        learner = rules.LearnerMeasures(
            skills_completed=counted.skills_completed,
            total_xp=profile.total_xp,
            best_streak=profile.max_streak,
            trees_completed=counted.trees_completed,
            milestones_reached=counted.milestones_reached,
            skills_by_category=counted.skills_by_category,
        )
        earned = [
            a
            for a in repository.unearned_achievements(session, profile.user_id)
            if rules.is_met(a.criteria, learner)
        ]
        if not earned:
            return
        for achievement in earned:
            metadata = {
                "trigger": skill_id,
                "treeId": change.view.tree.id,
                "criteria": achievement.criteria,
                "value": rules.measure(achievement.criteria, learner),
            }
            if not repository.award(session, profile.user_id, achievement, metadata):
                continue
            profile.total_xp += achievement.xp_reward
            change.xp_awarded += achievement.xp_reward
            change.achievements.append(
                EarnedAchievement.model_validate(achievement).model_copy(
                    update={"earned_at": change.now}
                )
            )
            repository.record(
                session,
                profile.user_id,
                Event.ACHIEVEMENT,
                tree_id=change.view.tree.id,
                skill_id=skill_id,
                achievement_id=achievement.id,
                xp_delta=achievement.xp_reward,
                details={"name": achievement.name},
            )
        session.flush()


def _in_memory_until_finish(event: Callable[P, ProgressOutcome]) -> Callable[P, ProgressOutcome]:
    """Run a progress event in a savepoint, without autoflush: its rows are written together
    (a dozen statements fewer an event; the queries in between need none of them), and an event
    that fails leaves nothing behind, even for a caller that carries on with the session."""

    @functools.wraps(event)
    def run(*args: P.args, **kwargs: P.kwargs) -> ProgressOutcome:
        session = args[0]
        assert isinstance(session, Session)
        with session.begin_nested(), session.no_autoflush:
            return event(*args, **kwargs)

    return run


def _skill_event(session: Session, user: User, skill_id: str, action: str) -> tuple[_Change, Skill]:
    found = repository.find_tree_of_skill(session, skill_id)
    if found is None:
        raise NotFound(f"No skill has the id {skill_id!r}.")
    skill, tree = found
    visible_tree(tree, user, f"skill has the id {skill_id!r}")
    if not skill.is_active:
        raise InvalidTransition(f"{skill.name!r} is not active: it cannot be {action}.")
    return _begin(session, user, tree), skill


@_in_memory_until_finish
def enrol(session: Session, user: User, slug: str) -> ProgressOutcome:
    """Enrol the learner in tree `slug` (again: nothing changes); root skills become AVAILABLE."""
    tree = visible_tree(catalog_repository.find_tree(session, slug), user, f"skill tree {slug!r}")
    profile = repository.lock_profile(session, user.id)
    view = repository.tree_view(session, user.id, tree)
    change = _Change(view=view, profile=profile, now=_now(), level_before=profile.current_level)
    if view.enrolment is None:
        _enrol(session, change)
    else:
        change.changed = False
    return _finish(session, change, None)


@_in_memory_until_finish
def start(session: Session, user: User, skill_id: str) -> ProgressOutcome:
    """Start an AVAILABLE skill (IN_PROGRESS); a started or finished skill stays as it is."""
    change, skill = _skill_event(session, user, skill_id, "started")
    skill_id = skill.id
    state = _state(change.view, skill_id)
    if state in states.RECORDED:
        change.changed = False
        return _finish(session, change, skill_id)
    _check_unlocked(change, skill_id, "start")
    row = _row(session, change, skill_id)
    row.status, row.started_at, row.last_activity_at = Status.IN_PROGRESS, change.now, change.now
    repository.record(session, user.id, Event.START, tree_id=change.view.tree.id, skill_id=skill_id)
    _learning_activity(change, 0)
    return _finish(session, change, skill_id)


def _passing_score(assessments: list[Any] | None, assessment_id: str | None) -> float:
    if not assessments:
        return 0.0
    if assessment_id is None:
        return float(assessments[0]["passingScore"])
    for assessment in assessments:
        if assessment.get("id") == assessment_id:
            return float(assessment["passingScore"])
    raise InvalidInput(
        f"The skill has no assessment {assessment_id!r}.",
        errors=[FieldError(loc=("assessmentId",), msg="unknown assessment", type="not_found")],
    )


@_in_memory_until_finish
def complete(
    session: Session, user: User, skill_id: str, request: CompleteRequest
) -> ProgressOutcome:
    """Complete an AVAILABLE or IN_PROGRESS skill with all its consequences (once only)."""
    evidence = (
        validate_document(ProgressEvidence, request.evidence, at=("evidence",))
        if request.evidence is not None
        else None
    )
    change, skill = _skill_event(session, user, skill_id, "completed")
    skill_id = skill.id
    view, now = change.view, change.now
    facts = view.skills[skill_id]
    if request.method is CompletionMethod.ASSESSMENT:
        if request.score is None:
            raise InvalidInput(
                "An assessment completion needs a score.",
                errors=[
                    FieldError(loc=("score",), msg="is required for ASSESSMENT", type="missing")
                ],
            )
        passing = _passing_score(skill.assessments, request.assessment_id)
        if request.score < passing:
            raise InvalidInput(
                f"A score of {request.score:g} does not pass: {passing:g} is needed.",
                errors=[FieldError(loc=("score",), msg=f"below the passing score {passing:g}")],
            )
    if _state(view, skill_id) is Status.COMPLETED:
        change.changed = False
        return _finish(session, change, skill_id)
    _check_unlocked(change, skill_id, "complete")
    minutes = request.minutes_spent or 0
    row = _row(session, change, skill_id)
    row.status = Status.COMPLETED
    row.progress_percent = 100
    row.completed_at = now
    row.started_at = row.started_at or now
    row.last_activity_at = now
    row.completion_method = request.method
    row.completion_score = request.score
    row.evidence_data = evidence  # type: ignore[assignment]
    row.time_spent_minutes += minutes
    change.profile.total_xp += facts.xp_value
    change.xp_awarded += facts.xp_value
    repository.record(
        session,
        user.id,
        Event.COMPLETE,
        tree_id=view.tree.id,
        skill_id=skill_id,
        xp_delta=facts.xp_value,
        details={"method": request.method.value, "score": request.score, "minutes": minutes},
    )
    _learning_activity(change, minutes)
    _unlock(session, change, _dependents(view, skill_id))
    return _finish(session, change, skill_id)


@_in_memory_until_finish
def skip(session: Session, user: User, skill_id: str) -> ProgressOutcome:
    """Skip an optional, unlocked skill (SKIPPED); what needed only it becomes AVAILABLE."""
    change, skill = _skill_event(session, user, skill_id, "skipped")
    skill_id = skill.id
    view = change.view
    state = _state(view, skill_id)
    if not view.skills[skill_id].is_optional:
        raise InvalidTransition(
            f"{view.skills[skill_id].name!r} is not optional: it cannot be skipped."
        )
    if state is Status.SKIPPED:
        change.changed = False
        return _finish(session, change, skill_id)
    if state is Status.COMPLETED:
        raise InvalidTransition(f"{view.skills[skill_id].name!r} is already completed.")
    _check_unlocked(change, skill_id, "skip")
    row = _row(session, change, skill_id)
    row.status, row.last_activity_at = Status.SKIPPED, change.now
    repository.record(session, user.id, Event.SKIP, tree_id=view.tree.id, skill_id=skill_id)
    _learning_activity(change, 0)
    _unlock(session, change, _dependents(view, skill_id))
    return _finish(session, change, skill_id)


@_in_memory_until_finish
def record_activity(session: Session, user: User, skill_id: str, minutes: int) -> ProgressOutcome:
    """Add time spent on an unlocked skill and count one attempt."""
    change, skill = _skill_event(session, user, skill_id, "worked on")
    skill_id = skill.id
    _check_unlocked(change, skill_id, "work on")
    row = _row(session, change, skill_id)
    row.time_spent_minutes += minutes
    row.attempts_count += 1
    row.last_activity_at = change.now
    repository.record(
        session,
        user.id,
        Event.ACTIVITY,
        tree_id=change.view.tree.id,
        skill_id=skill_id,
        details={"minutes": minutes},
    )
    _learning_activity(change, minutes)
    return _finish(session, change, skill_id)


def my_progress(session: Session, user: User) -> MyProgress:
    """The learner's totals (streak as of today) and their trees with progress."""
    profile = session.get(UserProfile, user.id) or UserProfile(user_id=user.id)
    summary = ProfileSummary.model_validate(profile, from_attributes=True)
    return MyProgress(
        profile=summary.model_copy(update={"current_streak": current_streak(profile, _now())}),
        trees=[
            EnrolledTree(tree=TreeRef.model_validate(tree), progress=TreeProgress.model_validate(e))
            for e, tree in repository.enrolments(session, user.id)
        ],
    )


def current_streak(profile: UserProfile, now: datetime) -> int:
    """The streak as of `now`: 0 once a whole day has passed without activity."""
    if profile.last_activity_at is None:
        return 0
    last = rules.local_day(profile.last_activity_at, profile.timezone)
    today = rules.local_day(now, profile.timezone)
    return profile.current_streak if (today - last).days <= 1 else 0
