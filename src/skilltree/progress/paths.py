"""Personalised learning paths: the way to a target skill, and what to learn next (seed 004)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from skilltree.catalog import repository as catalog_repository
from skilltree.errors import NotFound
from skilltree.graph import dag
from skilltree.models import SkillProgressStatus, User
from skilltree.progress import repository, states
from skilltree.progress.repository import TreeView
from skilltree.progress.schemas import (
    LearningPath,
    NextSkills,
    PathStep,
    Recommendation,
    SkillRef,
)
from skilltree.progress.service import visible_tree

Status = SkillProgressStatus
DONE = frozenset({Status.COMPLETED, Status.SKIPPED})


def _view(session: Session, user: User, slug: str) -> TreeView:
    tree = visible_tree(catalog_repository.find_tree(session, slug), user, f"skill tree {slug!r}")
    return repository.tree_view(session, user.id, tree)


def _statuses(view: TreeView) -> dict[str, Status]:
    rows = {skill_id: row.status for skill_id, row in view.rows.items()}
    return {s: states.state_of(s, view.needs, rows, view.optional) for s in view.skills}


def _step(view: TreeView, skill_id: str, status: Status) -> PathStep:
    facts = view.skills[skill_id]
    return PathStep(
        id=skill_id,
        name=facts.name,
        status=status,
        estimated_minutes=facts.estimated_minutes,
        xp_value=facts.xp_value,
    )


def _by_position(view: TreeView, skill_id: str) -> tuple[float, float, str]:
    facts = view.skills[skill_id]
    return (facts.position_y, facts.position_x, skill_id)


def path_to(session: Session, user: User, slug: str, target: str) -> LearningPath:
    """What the learner still has to do to reach `target` (itself included), in learning order."""
    view = _view(session, user, slug)
    if target not in view.skills:
        raise NotFound(f"Tree {slug!r} has no active skill {target!r}.")
    status = _statuses(view)
    # Satisfied prerequisites hold nothing back; an optional one that is not done is still on
    # the way (it has to be completed or skipped).
    wanted = [target, *dag.transitive_prerequisites(view.needs, target)]
    todo = {s for s in wanted if status[s] not in DONE}
    order = dag.learning_order(
        {s: [p for p in view.needs[s] if p in todo] for s in todo},
        sort_key=lambda s: _by_position(view, s),
    )
    steps = [_step(view, s, status[s]) for s in order]
    return LearningPath(
        target=SkillRef(id=target, name=view.skills[target].name),
        steps=steps,
        total_minutes=sum(step.estimated_minutes or 0 for step in steps),
        total_xp=sum(step.xp_value for step in steps),
    )


def next_skills(session: Session, user: User, slug: str, limit: int) -> NextSkills:
    """Skills the learner can work on now, ranked: started ones, milestones, most unlocked."""
    view = _view(session, user, slug)
    status = _statuses(view)
    reverse = dag.dependents_of(view.needs)
    recommendations = []
    for skill_id, state in status.items():
        if state not in {Status.AVAILABLE, Status.IN_PROGRESS}:
            continue
        # What finishing it would unlock: dependents whose other prerequisites are all done.
        unlocks = [
            d
            for d in reverse.get(skill_id, [])
            if status[d] is Status.LOCKED
            and all(p == skill_id or status[p] in DONE for p in view.needs[d])
        ]
        facts = view.skills[skill_id]
        reason = _reason(view, state, facts.is_milestone, unlocks)
        recommendations.append(
            (
                (
                    state is not Status.IN_PROGRESS,
                    not facts.is_milestone,
                    -len(unlocks),
                    -len(dag.transitive_dependents(view.needs, skill_id)),
                    _by_position(view, skill_id),
                ),
                Recommendation(
                    skill=_step(view, skill_id, state),
                    is_milestone=facts.is_milestone,
                    unlocks=[SkillRef(id=d, name=view.skills[d].name) for d in unlocks],
                    reason=reason,
                ),
            )
        )
    recommendations.sort(key=lambda pair: pair[0])
    return NextSkills(recommendations=[r for _, r in recommendations[:limit]])


def _reason(view: TreeView, state: Status, milestone: bool, unlocks: list[str]) -> str:
    parts = []
    if state is Status.IN_PROGRESS:
        parts.append("You have started it")
    if milestone:
        parts.append("it is a milestone")
    if unlocks:
        names = ", ".join(view.skills[d].name for d in unlocks)
        parts.append(f"it unlocks {len(unlocks)} skill{'s' if len(unlocks) > 1 else ''}: {names}")
    if not parts:
        parts.append("Its prerequisites are done")
    sentence = "; ".join(parts)
    return sentence[0].upper() + sentence[1:] + "."
