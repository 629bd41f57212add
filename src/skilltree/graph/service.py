"""Graph questions about skills and trees, exact at any depth."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy.orm import Session

from skilltree.catalog.visibility import may_view_tree
from skilltree.errors import NotFound
from skilltree.graph import dag, repository
from skilltree.graph.schemas import CriticalPath, LearningPlan, PathSkill, RelatedSkill
from skilltree.models import User


def visible_skill(session: Session, skill_id: str, viewer: User | None) -> repository.SkillPlace:
    """The skill `skill_id` if `viewer` may see its tree, else NotFound (hidden looks missing)."""
    place = repository.find_skill(session, skill_id)
    if place is None or not may_view_tree(
        is_published=place.tree_published, created_by=place.tree_created_by, viewer=viewer
    ):
        raise NotFound(f"No skill has the id {skill_id!r}.")
    return place


def _needs(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    needs: dict[str, list[str]] = defaultdict(list)
    for skill, prerequisite in pairs:
        needs[skill].append(prerequisite)
    return needs


def prerequisites(session: Session, skill_id: str, viewer: User | None) -> list[RelatedSkill]:
    """Every skill `skill_id` needs, at any depth, nearest first."""
    visible_skill(session, skill_id, viewer)
    edges = repository.edges_above(session, skill_id)
    depths = dag.transitive_prerequisites(_needs(edges.pairs), skill_id)
    return sorted(
        (RelatedSkill(id=s, name=edges.names[s], depth=d) for s, d in depths.items()),
        key=lambda r: (r.depth, r.name, r.id),
    )


def dependents(session: Session, skill_id: str, viewer: User | None) -> list[RelatedSkill]:
    """Every skill that needs `skill_id`, at any depth, nearest first."""
    visible_skill(session, skill_id, viewer)
    edges = repository.edges_below(session, skill_id)
    depths = dag.transitive_dependents(_needs(edges.pairs), skill_id)
    return sorted(
        (RelatedSkill(id=s, name=edges.names[s], depth=d) for s, d in depths.items()),
        key=lambda r: (r.depth, r.name, r.id),
    )


def critical_path(session: Session, skill_id: str, viewer: User | None) -> CriticalPath:
    """The chain of prerequisites ending at `skill_id` with the most estimated minutes."""
    place = visible_skill(session, skill_id, viewer)
    graph = repository.tree_graph(session, place.skill_tree_id)
    if skill_id not in graph.skills:
        raise NotFound(f"Skill {skill_id!r} is not active.")
    minutes = {s: facts[3] for s, facts in graph.skills.items()}
    path = dag.critical_path(_needs(graph.pairs), skill_id, minutes)
    return CriticalPath(
        skills=[
            PathSkill(id=s, name=graph.skills[s][0], estimated_minutes=minutes[s])
            for s in path.skills
        ],
        total_minutes=path.minutes,
    )


def learning_plan(session: Session, slug: str, viewer: User | None) -> LearningPlan:
    """Tree `slug`'s active skills in learning order (ties by position y, then x) and by layer."""
    tree = repository.find_tree(session, slug)
    if tree is None or not may_view_tree(
        is_published=tree.is_published, created_by=tree.created_by, viewer=viewer
    ):
        raise NotFound(f"No skill tree has the slug {slug!r}.")
    graph = repository.tree_graph(session, tree.id)
    needs: dict[str, list[str]] = {s: [] for s in graph.skills}
    needs.update(_needs(graph.pairs))
    order = dag.learning_order(
        needs, sort_key=lambda s: (graph.skills[s][1], graph.skills[s][2], s)
    )
    return LearningPlan(order=order, layers=dag.topological_layers(needs))
