"""The progress engine: every learner event is one call of one PostgreSQL function.

`progress_skill_event` and `progress_enrol` (db/schema/progress.sql) apply all of an event's rules
in the caller's transaction, in one round trip: they lock the learner (one event per learner at a
time), refuse what the rules refuse before writing anything, then write the skill's row, unlocked
dependents, the tree's progress, the profile's statistics, streak and level, achievements (until
nothing new is earned), the learner-difficulty fields and the audit trail, and answer the outcome.
This module checks the request (evidence, visibility of drafts), calls them, and turns their
refusals into domain errors. docs/progress.md says why the rules live in SQL. The caller commits.

Events and authors' changes of trees lock in one order (catalog.tree_writes, and
`hold_tree_learners` in db/schema/progress.sql): an event locks its learner, then reads the skill or
tree, so a skill or tree deleted under it is a NotFound and never a half-written event. An event
still runs in a savepoint and again after a deadlock or a serialization failure
(progress.repository, with `skilltree.db.atomic`'s policy), as the safety net.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from skilltree import metrics
from skilltree.catalog.visibility import may_view_tree
from skilltree.db.constraints import error_detail, violated_constraint
from skilltree.documents import ProgressEvidence, validate_document
from skilltree.errors import (
    AssessmentAttemptRequired,
    CompletionMethodNotAllowed,
    Conflict,
    FieldError,
    InvalidInput,
    InvalidTransition,
    NotEnoughTimeLogged,
    NotFound,
    ProjectReviewRequired,
    SignedDeliveryRequired,
    SkillLocked,
)
from skilltree.graph import service as graph_service
from skilltree.graph.tree_graphs import TreeGraph
from skilltree.models import ProgressEventKind, SkillProgressStatus, SkillTree, User
from skilltree.progress import repository
from skilltree.progress.repository import LearnerMeasures as LearnerMeasures
from skilltree.progress.schemas import (
    CompleteRequest,
    EnrolledTree,
    MyProgress,
    ProfileSummary,
    ProgressOutcome,
    TreeProgress,
)
from skilltree.schemas import TreeRef

Event = ProgressEventKind

# How each skill event's refusals name what was refused: (infinitive, past participle).
_ACTIONS = {
    Event.START: ("start", "started"),
    Event.COMPLETE: ("complete", "completed"),
    Event.SKIP: ("skip", "skipped"),
    Event.ACTIVITY: ("work on", "worked on"),
}


def _now() -> datetime:
    return datetime.now(UTC)


def visible_tree(tree: SkillTree | None, user: User, what: str) -> SkillTree:
    """`tree` if the learner may see it, else NotFound("No <what>.")."""
    if tree is None or not may_view_tree(
        is_published=tree.is_published, created_by=tree.created_by, viewer=user
    ):
        raise NotFound(f"No {what}.")
    return tree


# The learner tables' references to the catalog. Authors' changes hold the learners of a tree
# before deleting anything of it (catalog.tree_writes), so an event never names a skill or tree
# deleted under it; a writer that did not would make this 409, never a 500.
_CATALOG_REFERENCES = frozenset(
    {
        "user_skill_progress_skill_tree_fkey",
        "user_skill_tree_progress_skill_tree_id_fkey",
    }
)


@dataclass(frozen=True)
class LearnerTree:
    """One tree as a learner sees it: its graph of active skills and the learner's statuses."""

    tree: SkillTree
    graph: TreeGraph
    """The tree's active skills and prerequisites (shared between requests: never change it)."""
    statuses: dict[str, SkillProgressStatus]
    """The status of each of the tree's skills the learner has a row for."""


def learner_tree(session: Session, user_id: str, tree: SkillTree) -> LearnerTree:
    """What the progress rules read of `tree`: its graph (the cached copy while the tree's version
    is unchanged: reads never write trees) and the learner's statuses, as plain tuples."""
    graph = graph_service.tree_graph(session, tree.id, tree.structure_version, from_cache=True)
    return LearnerTree(tree, graph, repository.skill_statuses(session, user_id, tree.id))


# Refuses a COMPLETED row whose method its skill's policy leaves out, for any writer (live in
# db/schema/progress.sql); the engine refuses first, so it fires when the author changed the
# policy meanwhile.
METHOD_ALLOWED = "user_skill_progress_method_allowed"


# Refuses a row COMPLETED by EXTERNAL unless an integration's signed delivery is completing it
# (live in db/schema/integrations.sql): a learner's own completion by EXTERNAL meets it.
SIGNED_DELIVERY = "user_skill_progress_signed_delivery"


@contextmanager
def engine_refusals() -> Iterator[None]:
    """Around a call of the engine: the refusals its writes meet in the database's triggers
    and foreign keys, as domain errors (409)."""
    try:
        yield
    except IntegrityError as error:
        constraint = violated_constraint(error)
        if constraint == METHOD_ALLOWED:
            refusal = json.loads(error_detail(error) or "{}")
            raise method_not_allowed(
                "The skill (whose completion policy changed while this ran)", **refusal
            ) from None
        if constraint == SIGNED_DELIVERY:
            raise SignedDeliveryRequired(
                "A skill is completed by EXTERNAL only through a signed webhook of an "
                "integration, never on the learner's own word.",
                extra={"method": "EXTERNAL"},
            ) from None
        if constraint not in _CATALOG_REFERENCES:
            raise
        raise Conflict("The skill tree changed while this ran; try again.") from None


def run_visible(user: User, call: Callable[[bool], dict[str, Any]]) -> dict[str, Any] | None:
    """`call(unpublished_ok)`'s answer, asked again for a draft the learner may see (its author,
    an admin); None when the thing is missing or hidden from them."""
    with engine_refusals():
        answer = call(False)
        if answer.get("refused") == "Unpublished":
            if not may_view_tree(is_published=False, created_by=answer["createdBy"], viewer=user):
                return None
            answer = call(True)
    if answer.get("refused") == "NotFound":
        return None
    return answer


def outcome(answer: dict[str, Any], kind: Event | None) -> ProgressOutcome:
    """The event's outcome, or the domain error its refusal stands for."""
    refused = answer.get("refused")
    if refused is None:
        return ProgressOutcome.model_validate(answer)
    infinitive, participle = _ACTIONS[kind] if kind else ("enrol in", "enrolled in")
    name = answer.get("name")
    match refused:
        case "SkillLocked":
            missing = answer["missing"]
            names = ", ".join(m["name"] for m in missing)
            raise SkillLocked(
                f"Cannot {infinitive} {name!r} yet: first {names}.", extra={"missing": missing}
            )
        case "Inactive":
            raise InvalidTransition(f"{name!r} is not active: it cannot be {participle}.")
        case "NotOptional":
            raise InvalidTransition(f"{name!r} is not optional: it cannot be skipped.")
        case "AlreadyCompleted":
            raise InvalidTransition(f"{name!r} is already completed.")
        case "MethodNotAllowed":
            raise method_not_allowed(repr(name), answer["method"], answer["allowed"])
        case "NotEnoughTime":
            required, logged = answer["required"], answer["logged"]
            verified = bool(answer.get("verified"))
            where = "measured on its content" if verified else "logged"
            raise NotEnoughTimeLogged(
                f"{name!r} is completed by time after {required} minutes on it; "
                f"{logged} are {where}.",
                extra={"requiredMinutes": required, "loggedMinutes": logged, "verified": verified},
            )
        case "ScoreMissing":
            raise InvalidInput(
                "An assessment completion needs a score.",
                errors=[
                    FieldError(loc=("score",), msg="is required for ASSESSMENT", type="missing")
                ],
            )
        case "UnknownAssessment":
            raise InvalidInput(
                f"The skill has no assessment {answer['assessmentId']!r}.",
                errors=[
                    FieldError(loc=("assessmentId",), msg="unknown assessment", type="not_found")
                ],
            )
        case "AttemptRequired":
            raise AssessmentAttemptRequired(
                f"{name!r} has a question bank: it is completed by ASSESSMENT only through an "
                "attempt the server grades.",
                extra={"attemptsUrl": f"/api/v1/skills/{answer['skillId']}/attempts"},
            )
        case "ReviewRequired":
            raise ProjectReviewRequired(
                f"{name!r} is completed by PROJECT only through a submission a reviewer approves.",
                extra={"submissionsUrl": f"/api/v1/skills/{answer['skillId']}/submissions"},
            )
        case "ScoreTooLow":
            passing, score = float(answer["passing"]), float(answer["score"])
            raise InvalidInput(
                f"A score of {score:g} does not pass: {passing:g} is needed.",
                errors=[FieldError(loc=("score",), msg=f"below the passing score {passing:g}")],
            )
    raise AssertionError(f"unknown refusal {refused!r}")


def method_not_allowed(subject: str, method: str, allowed: list[str]) -> CompletionMethodNotAllowed:
    return CompletionMethodNotAllowed(
        f"{subject} cannot be completed by {method}, only by {', '.join(allowed)}.",
        extra={"method": method, "allowedMethods": allowed},
    )


def _skill_event(
    session: Session, user: User, kind: Event, skill_id: str, **details: Any
) -> ProgressOutcome:
    answer = run_visible(
        user,
        lambda unpublished_ok: repository.skill_event(
            session, kind, user.id, skill_id, _now(), unpublished_ok=unpublished_ok, **details
        ),
    )
    if answer is None:
        raise NotFound(f"No skill has the id {skill_id!r}.")
    return counted(session, kind, outcome(answer, kind))


def count_events(
    session: Session,
    kind: Event,
    *,
    unlocked: int = 0,
    achievements: int = 0,
    level_up: bool = False,
) -> None:
    """Count a committed event of `kind` and what it set off in GET /metrics' progress events
    (once the transaction commits: a rolled-back event is not counted)."""
    metrics.count_events_after_commit(
        session,
        (
            (kind.value, 1),
            (Event.UNLOCK.value, unlocked),
            (Event.ACHIEVEMENT.value, achievements),
            (Event.LEVEL_UP.value, int(level_up)),
        ),
    )


def counted(session: Session, kind: Event, result: ProgressOutcome) -> ProgressOutcome:
    """`result`, counted in GET /metrics' progress events (`count_events`) when it changed
    anything."""
    if result.changed:
        count_events(
            session,
            kind,
            unlocked=len(result.unlocked),
            achievements=len(result.achievements),
            level_up=result.level_up,
        )
    return result


def enrol(session: Session, user: User, slug: str) -> ProgressOutcome:
    """Enrol the learner in tree `slug` (again: nothing changes); root skills become AVAILABLE."""
    answer = run_visible(
        user,
        lambda unpublished_ok: repository.enrol(
            session, user.id, slug, _now(), unpublished_ok=unpublished_ok
        ),
    )
    if answer is None:
        raise NotFound(f"No skill tree {slug!r}.")
    return counted(session, Event.ENROLL, outcome(answer, None))


def start(session: Session, user: User, skill_id: str) -> ProgressOutcome:
    """Start an AVAILABLE skill (IN_PROGRESS); a started or finished skill stays as it is."""
    return _skill_event(session, user, Event.START, skill_id)


def complete(
    session: Session, user: User, skill_id: str, request: CompleteRequest
) -> ProgressOutcome:
    """Complete an AVAILABLE or IN_PROGRESS skill with all its consequences (once only)."""
    evidence = (
        validate_document(ProgressEvidence, request.evidence, at=("evidence",))
        if request.evidence is not None
        else None
    )
    return _skill_event(
        session,
        user,
        Event.COMPLETE,
        skill_id,
        method=request.method,
        score=request.score,
        assessment_id=request.assessment_id,
        evidence=evidence,
        minutes=request.minutes_spent or 0,
    )


def skip(session: Session, user: User, skill_id: str) -> ProgressOutcome:
    """Skip an optional, unlocked skill (SKIPPED); what needed only it becomes AVAILABLE."""
    return _skill_event(session, user, Event.SKIP, skill_id)


def record_activity(session: Session, user: User, skill_id: str, minutes: int) -> ProgressOutcome:
    """Add time spent on an unlocked skill and count one attempt."""
    return _skill_event(session, user, Event.ACTIVITY, skill_id, minutes=minutes)


def my_progress(session: Session, user: User) -> MyProgress:
    """The learner's totals (streak as of now) and their trees with progress."""
    profile = repository.profile_as_of(session, user.id, _now())
    return MyProgress(
        profile=ProfileSummary.model_validate(profile),
        trees=[
            EnrolledTree(tree=TreeRef.model_validate(tree), progress=TreeProgress.model_validate(e))
            for e, tree in repository.enrolments(session, user.id)
        ],
    )


def learner_measures(session: Session, user_id: str) -> LearnerMeasures:
    """What the learner's achievement criteria are measured against, exactly as of now."""
    return repository.measures(session, user_id)


def hold_learners(session: Session, tree_id: str) -> list[str] | None:
    """Before a change of tree `tree_id`: hold it and its learners until the transaction ends;
    the learners to recount afterwards, None without such a tree (`repository.hold_learners`)."""
    return repository.hold_learners(session, tree_id)


def recount_learners(session: Session, tree_id: str, learners: Sequence[str]) -> None:
    """After a change of tree `tree_id`: unlock what it frees for the `learners` held and
    recount their progress (`repository.recount_learners`)."""
    repository.recount_learners(session, tree_id, learners)
