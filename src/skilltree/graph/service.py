"""Graph questions about skills and trees, exact at any depth.

Answers come from the tree's graph of active skills (inactive skills count nowhere, as in the
rest of the system), kept in process per structure version (see graph.tree_graphs): a request
pays one small query for the skill's or tree's facts and version, and reads the whole graph again
only when the tree changed since.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from skilltree import metrics
from skilltree.cache.memory import MB
from skilltree.catalog.visibility import may_view_tree
from skilltree.config import DEFAULT_CACHE_MB
from skilltree.errors import NotFound
from skilltree.graph import dag, repository
from skilltree.graph.schemas import CriticalPath, LearningPlan, PathSkill, RelatedSkillJson
from skilltree.graph.tree_graphs import TreeGraph, new_graph_cache
from skilltree.models import User

GRAPHS = new_graph_cache(DEFAULT_CACHE_MB * MB // 2)
"""Recent trees' graphs, kept by read-only requests (see graph.tree_graphs); half of
CACHE_MEMORY_MB (`configure_caches`)."""


def visible_skill(session: Session, skill_id: str, viewer: User | None) -> repository.SkillPlace:
    """The skill `skill_id` if `viewer` may see its tree, else NotFound (hidden looks missing)."""
    place = repository.find_skill(session, skill_id)
    if place is None or not may_view_tree(
        is_published=place.tree_published, created_by=place.tree_created_by, viewer=viewer
    ):
        raise NotFound(f"No skill has the id {skill_id!r}.")
    return place


def cached_graph(tree_id: str, version: int) -> TreeGraph | None:
    """The graph of tree `tree_id` at `version` if this process keeps it, else None (nothing
    read)."""
    known = GRAPHS.get(tree_id)
    return known if known is not None and known.version == version else None


def tree_graph(session: Session, tree_id: str, version: int, *, from_cache: bool) -> TreeGraph:
    """The graph of tree `tree_id`'s active skills, from the cache when it holds `version`.

    `from_cache`: use and keep cached copies; only for requests that wrote nothing.
    """
    known = cached_graph(tree_id, version) if from_cache else None
    if known is not None:
        metrics.TREE_GRAPHS.hit()
        return known
    if from_cache:
        metrics.TREE_GRAPHS.miss()
    graph = repository.tree_graph(session, tree_id)
    if graph is None:  # deleted since the caller's query
        raise NotFound(f"No skill tree has the id {tree_id!r}.")
    if from_cache:
        GRAPHS.put(graph.tree_id, graph)
    return graph


def stored_graph(session: Session, tree_id: str, version: int) -> TreeGraph | None:
    """The graph of tree `tree_id` at `version` from the cache, else as its writers stored it
    at that version (one row read, then kept); None when neither has it (nothing read from the
    tree's rows). Only for requests that wrote nothing."""
    known = cached_graph(tree_id, version)
    if known is not None:
        metrics.TREE_GRAPHS.hit()
        return known
    metrics.TREE_GRAPHS.miss()
    graph = repository.stored_graph(session, tree_id)
    if graph is None or graph.version != version:  # not stored, or the tree changed since
        return None
    GRAPHS.put(graph.tree_id, graph)
    return graph


def _active_skill_graph(
    session: Session, skill_id: str, viewer: User | None, from_cache: bool
) -> TreeGraph:
    """The graph around the visible skill `skill_id`; NotFound when it is hidden or inactive."""
    place = visible_skill(session, skill_id, viewer)
    if place.is_active:
        graph = tree_graph(
            session, place.skill_tree_id, place.structure_version, from_cache=from_cache
        )
        if skill_id in graph.skills:
            return graph
    raise NotFound(f"Skill {skill_id!r} is not active.")


def _related(graph: TreeGraph, depths: dict[str, int]) -> list[RelatedSkillJson]:
    """The skills at `depths`, nearest first, then by name and id, as JSON-ready objects."""
    rows = graph.skills.rows
    ordered = sorted((d, rows[s][0], s) for s, d in depths.items())
    return [{"id": s, "name": name, "depth": d} for d, name, s in ordered]


def prerequisites(
    session: Session, skill_id: str, viewer: User | None, *, from_cache: bool = False
) -> list[RelatedSkillJson]:
    """Every active skill the active skill `skill_id` needs through active skills, at any depth,
    nearest first. `from_cache`: see `tree_graph`."""
    graph = _active_skill_graph(session, skill_id, viewer, from_cache)
    return _related(graph, dag.transitive_prerequisites(graph.needs, skill_id))


def dependents(
    session: Session, skill_id: str, viewer: User | None, *, from_cache: bool = False
) -> list[RelatedSkillJson]:
    """Every active skill that needs the active skill `skill_id` through active skills, at any
    depth, nearest first. `from_cache`: see `tree_graph`."""
    graph = _active_skill_graph(session, skill_id, viewer, from_cache)
    return _related(graph, dag.transitive_prerequisites(graph.dependents, skill_id))


def critical_path(
    session: Session, skill_id: str, viewer: User | None, *, from_cache: bool = False
) -> CriticalPath:
    """The chain of prerequisites ending at `skill_id` with the most estimated minutes."""
    graph = _active_skill_graph(session, skill_id, viewer, from_cache)
    rows = graph.skills.rows
    minutes = {s: row[3] for s, row in rows.items()}
    path = dag.critical_path(graph.needs, skill_id, minutes)
    return CriticalPath.model_construct(
        skills=[
            PathSkill.model_construct(id=s, name=rows[s][0], estimated_minutes=minutes[s])
            for s in path.skills
        ],
        total_minutes=path.minutes,
    )


def learning_plan(
    session: Session, slug: str, viewer: User | None, *, from_cache: bool = False
) -> LearningPlan:
    """Tree `slug`'s active skills in learning order (ties by position y, then x) and by layer."""
    tree = repository.find_tree(session, slug)
    if tree is None or not may_view_tree(
        is_published=tree.is_published, created_by=tree.created_by, viewer=viewer
    ):
        raise NotFound(f"No skill tree has the slug {slug!r}.")
    plan = tree_graph(session, tree.id, tree.structure_version, from_cache=from_cache)
    order = plan.learning_order
    # Copies: the cached lists are shared, the answer is the caller's to keep.
    return LearningPlan.model_construct(
        order=list(order.order), layers=[list(layer) for layer in order.layers]
    )
