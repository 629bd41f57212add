"""Personalised learning paths: the way to a target skill, and what to learn next (seed 004).

Each answer costs what it touches, never the tree's size squared: the path reads the target's
prerequisites only; "what next" looks at the skills that can be worked on (roots, started skills,
dependents of finished ones) and their dependents. What depends on the whole tree (each skill's
chain ahead) is stored by the tree's writers (graph.ranks), so "what next" is one query over those
skills and never reads the whole graph; for a tree whose ranks are not current it is computed once
per tree version with the cached graph, to the same answer.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping

from sqlalchemy.orm import Session

from skilltree.catalog import repository as catalog_repository
from skilltree.errors import NotFound
from skilltree.graph import service as graph_service
from skilltree.graph.tree_graphs import TreeGraph
from skilltree.models import SkillProgressStatus, User
from skilltree.progress import repository, states
from skilltree.progress.schemas import (
    LearningPathJson,
    NextSkills,
    PathStep,
    PathStepJson,
    Recommendation,
    SkillRef,
)
from skilltree.progress.service import LearnerTree, learner_tree, visible_tree

Status = SkillProgressStatus
DONE = frozenset({Status.COMPLETED, Status.SKIPPED})
WORKABLE = frozenset({Status.AVAILABLE, Status.IN_PROGRESS})


def _learner_tree(session: Session, user: User, slug: str) -> LearnerTree:
    tree = visible_tree(catalog_repository.find_tree(session, slug), user, f"skill tree {slug!r}")
    return learner_tree(session, user.id, tree)


def path_to(
    session: Session, user: User, slug: str, target: str, limit: int, offset: int = 0
) -> LearningPathJson:
    """What the learner still has to do to reach `target` (itself included), in learning order,
    as the JSON object of a LearningPath: a page of it (`path_page`)."""
    view = _learner_tree(session, user, slug)
    if target not in view.graph.position_rank:
        raise NotFound(f"Tree {slug!r} has no active skill {target!r}.")
    return path_page(view.graph, view.statuses, target, limit, offset)


def path_page(
    graph: TreeGraph, statuses: Mapping[str, Status], target: str, limit: int, offset: int
) -> LearningPathJson:
    """The path to `target` (an active skill of `graph`) of the learner whose rows say
    `statuses`: the steps from `offset`, at most `limit` of them, with the totals of the whole
    path. The whole path is ordered (a page of it must be the same page whoever asks), but only
    the page's steps are described and sent: a path to the far end of a large tree has tens of
    thousands of steps.

    Linear in the target's prerequisites at any depth, with a small constant: they are found a
    level at a time by set operations on their places by position (ints: no Python step per
    edge), and in a graph drawn top down (TreeGraph.drawn_top_down) the path's order is the
    order of those places, integers sorted; the totals are sums over the path's places, without
    a Python step each."""
    by_position, place_needs, place = graph.by_position, graph.place_needs, graph.position_rank
    wanted = {place[target]}
    level: set[int] = wanted
    while level:  # the prerequisites one level further, less those met on a shorter way
        level = set().union(*map(place_needs.__getitem__, level))
        level -= wanted
        wanted |= level
    # Satisfied prerequisites hold nothing back; an optional one that is not done is still on
    # the way (it has to be completed or skipped). (A row of an inactive skill has no place.)
    todo = wanted.difference([place.get(s) for s, status in statuses.items() if status in DONE])
    if graph.drawn_top_down:  # learning order: by position (TreeGraph.ordered)
        page = sorted(todo)[offset : offset + limit]
    else:
        ordered = graph.ordered([by_position[at] for at in todo])[offset : offset + limit]
        page = list(map(place.__getitem__, ordered))
    satisfied = states.satisfied_skills(statuses, graph.optional)
    # The page's facts from the graph's columns by place: what is keyed by id is not needed.
    columns = graph.columns
    names, minutes, xp_values = columns.names, columns.estimated_minutes, columns.xp_values
    steps: list[PathStepJson] = []
    for at in page:
        skill_id = by_position[at]
        needs = {skill_id: map(by_position.__getitem__, place_needs[at])}
        steps.append(
            {
                "id": skill_id,
                "name": names[at],
                "status": states.state_given(skill_id, needs, statuses, satisfied).value,
                "estimatedMinutes": minutes[at],
                "xpValue": xp_values[at],
            }
        )
    following = offset + limit
    return {
        "target": {"id": target, "name": names[place[target]]},
        "steps": steps,
        "totalSteps": len(todo),
        "totalMinutes": sum(map(graph.minutes_by_place.__getitem__, todo)),  # unknown: 0
        "totalXp": sum(map(graph.xp_by_place.__getitem__, todo)),
        "nextOffset": following if following < len(todo) else None,
    }


def rows_by_place(
    graph: TreeGraph, statuses: Mapping[str, Status]
) -> tuple[dict[int, Status], set[int]]:
    """The learner's rows of `graph`'s active skills by place (rows of inactive skills left
    out), and the places of those that no longer hold their dependents back
    (states.satisfied_skills)."""
    place, optional = graph.position_rank, graph.columns.optional
    rows = {place[skill]: status for skill, status in statuses.items() if skill in place}
    satisfied = {
        at
        for at, status in rows.items()
        if status is Status.COMPLETED or (status is Status.SKIPPED and optional[at])
    }
    return rows, satisfied


def workable_places(
    graph: TreeGraph, rows: Mapping[int, Status], satisfied: set[int]
) -> dict[int, Status]:
    """The places of the skills the learner whose `rows_by_place` are `rows` and `satisfied`
    can work on now (AVAILABLE or IN_PROGRESS), with their state: only roots, skills with a
    row and dependents of satisfied skills can be, so only those are read."""
    # Each skill's prerequisites and dependents as slices of the graph's groups (TreeGraph:
    # read for the few skills looked at, never made for every skill).
    needs, need_starts, need_ends = graph.needs_groups
    dependents, starts, ends = graph.dependents_groups
    candidates = set(graph.root_places)
    found: dict[int, Status] = {}
    for at, status in rows.items():
        if status is Status.IN_PROGRESS:  # what the row says (states.state_given)
            found[at] = status
        elif status is Status.AVAILABLE:
            candidates.add(at)
        if at in satisfied:
            candidates.update(dependents[starts[at] : ends[at]])
    # The others' state: AVAILABLE when no row says otherwise and their prerequisites are
    # satisfied (states.state_given, inlined: thousands of candidates in a tree of many roots).
    recorded = states.RECORDED
    for at in candidates:
        if rows.get(at) not in recorded and satisfied.issuperset(
            needs[need_starts[at] : need_ends[at]]
        ):
            found[at] = Status.AVAILABLE
    return found


def unlocked_places(
    graph: TreeGraph, rows: Mapping[int, Status], satisfied: set[int], skills: Iterable[int]
) -> dict[int, list[int]]:
    """For each of the places `skills` (workable ones), the places of the LOCKED skills that
    finishing it alone would unlock: those whose only unsatisfied prerequisite it is (each
    dependent's prerequisites counted once)."""
    needs, need_starts, need_ends = graph.needs_groups
    dependents, starts, ends = graph.dependents_groups
    recorded = states.RECORDED
    unsatisfied: dict[int, int] = {}
    unlocks: dict[int, list[int]] = {}
    for at in skills:
        found = []
        for dependent in dependents[starts[at] : ends[at]]:
            if rows.get(dependent) in recorded:
                continue
            if dependent not in unsatisfied:  # a skill's prerequisites are distinct
                prerequisites = needs[need_starts[dependent] : need_ends[dependent]]
                unsatisfied[dependent] = len(prerequisites) - len(
                    satisfied.intersection(prerequisites)
                )
            if unsatisfied[dependent] == 1:  # `at` is not satisfied: it is the one
                found.append(dependent)
        unlocks[at] = found
    return unlocks


def workable(graph: TreeGraph, statuses: Mapping[str, Status]) -> dict[str, Status]:
    """`workable_places` by skill id."""
    rows, satisfied = rows_by_place(graph, statuses)
    ids = graph.by_position
    return {ids[at]: status for at, status in workable_places(graph, rows, satisfied).items()}


def unlocked_by(
    graph: TreeGraph, statuses: Mapping[str, Status], skills: Iterable[str]
) -> dict[str, list[str]]:
    """`unlocked_places` by skill id, each skill's list by id."""
    rows, satisfied = rows_by_place(graph, statuses)
    ids, place = graph.by_position, graph.position_rank
    found = unlocked_places(graph, rows, satisfied, map(place.__getitem__, skills))
    return {ids[at]: sorted(map(ids.__getitem__, unlocks)) for at, unlocks in found.items()}


def next_skills(session: Session, user: User, slug: str, limit: int) -> NextSkills:
    """Skills the learner can work on now, ranked: started ones, milestones, what unlocks the
    most, then what heads the longest chain of skills still ahead, then what the most skills
    need directly. (Not the count of every skill downstream: no algorithm counts those for every
    skill in linear time, and a learner's request must not cost the tree's size squared.)

    From the tree's graph when this process keeps it at the tree's version or its writers
    stored it at that version (`ranked_next`, by place: one row read at most, besides the
    learner's rows), else from the tree's stored ranks when they are current (graph.ranks: one
    query over the skills that can be worked on, their prerequisites and dependents), else from
    its graph read from its rows: the same answer every way, ties included."""
    tree = visible_tree(catalog_repository.find_tree(session, slug), user, f"skill tree {slug!r}")
    graph = graph_service.stored_graph(session, tree.id, tree.structure_version)
    if graph is not None:
        # Kept in this process, or read in one row as its writers stored it: ranked by place,
        # reading only the learner's rows besides (the fastest, warm or cold).
        statuses = repository.skill_statuses(session, user.id, tree.id)
        return ranked_next(LearnerTree(tree, graph, statuses), limit)
    facts = repository.next_facts(session, user.id, tree.id)
    if facts is None:
        return ranked_next(learner_tree(session, user.id, tree), limit)
    unlocks = {w.id: sorted(facts.unlocks.get(w.id, ())) for w in facts.workable}
    best = heapq.nsmallest(
        limit,
        facts.workable,
        key=lambda w: (
            not w.started,
            not w.is_milestone,
            -len(unlocks[w.id]),
            -w.chain_ahead,
            -w.dependents,
            w.position,  # y, then x
            w.id,
        ),
    )
    return NextSkills.model_construct(
        recommendations=[
            _recommendation(
                PathStep.model_construct(
                    id=w.id,
                    name=w.name,
                    status=Status.IN_PROGRESS if w.started else Status.AVAILABLE,
                    estimated_minutes=w.estimated_minutes,
                    xp_value=w.xp_value,
                ),
                w.is_milestone,
                unlocks[w.id],
            )
            for w in best
        ]
    )


def ranked_next(view: LearnerTree, limit: int) -> NextSkills:
    """`next_skills` from the tree's graph (kept per tree version in each process, or read as
    its writers stored it): by place, so that a graph just read builds nothing keyed by id."""
    graph = view.graph
    rows, satisfied = rows_by_place(graph, view.statuses)
    now = workable_places(graph, rows, satisfied)
    unlocks = unlocked_places(graph, rows, satisfied, now)
    columns, chains = graph.columns, graph.chains_by_place
    _, starts, ends = graph.dependents_groups
    milestones = columns.milestones
    best = heapq.nsmallest(
        limit,
        now,
        key=lambda at: (
            now[at] is not Status.IN_PROGRESS,
            not milestones[at],
            -len(unlocks[at]),
            -chains[at],
            starts[at] - ends[at],  # more direct dependents first
            at,  # position: y, then x, then id
        ),
    )
    ids, names = graph.by_position, columns.names
    recommendations = []
    for at in best:
        step = PathStep.model_construct(
            id=ids[at],
            name=names[at],
            status=now[at],
            estimated_minutes=columns.estimated_minutes[at],
            xp_value=columns.xp_values[at],
        )
        unlocked = sorted((ids[d], names[d]) for d in unlocks[at])
        recommendations.append(_recommendation(step, bool(milestones[at]), unlocked))
    return NextSkills.model_construct(recommendations=recommendations)


def _recommendation(
    step: PathStep, milestone: bool, unlocks: list[tuple[str, str]]
) -> Recommendation:
    """A recommended skill with what finishing it unlocks ((id, name) each) and why."""
    return Recommendation.model_construct(
        skill=step,
        is_milestone=milestone,
        unlocks=[SkillRef.model_construct(id=d, name=name) for d, name in unlocks],
        reason=_reason(step.status, milestone, [name for _, name in unlocks]),
    )


def _reason(state: Status, milestone: bool, unlocks: list[str]) -> str:
    parts = []
    if state is Status.IN_PROGRESS:
        parts.append("You have started it")
    if milestone:
        parts.append("it is a milestone")
    if unlocks:
        names = ", ".join(unlocks)
        parts.append(f"it unlocks {len(unlocks)} skill{'s' if len(unlocks) > 1 else ''}: {names}")
    if not parts:
        parts.append("Its prerequisites are done")
    sentence = "; ".join(parts)
    return sentence[0].upper() + sentence[1:] + "."
