"""Graph queries: the prerequisite edges around a skill, and a whole tree's graph."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from skilltree.models import Skill, SkillDependency, SkillTree

# Every edge among the skills that `:skill` needs, at any depth (UNION: each skill once).
_EDGES_ABOVE = text(
    """
    WITH RECURSIVE above(id) AS (
        SELECT CAST(:skill AS text)
        UNION
        SELECT d.depends_on_id FROM skill_dependencies d JOIN above ON d.skill_id = above.id
    )
    SELECT d.skill_id, d.depends_on_id, s.name
    FROM skill_dependencies d
    JOIN above ON d.skill_id = above.id
    JOIN skills s ON s.id = d.depends_on_id
    """
)
# Every edge among the skills that need `:skill`, at any depth.
_EDGES_BELOW = text(
    """
    WITH RECURSIVE below(id) AS (
        SELECT CAST(:skill AS text)
        UNION
        SELECT d.skill_id FROM skill_dependencies d JOIN below ON d.depends_on_id = below.id
    )
    SELECT d.skill_id, d.depends_on_id, s.name
    FROM skill_dependencies d
    JOIN below ON d.depends_on_id = below.id
    JOIN skills s ON s.id = d.skill_id
    """
)


@dataclass(frozen=True)
class SkillPlace:
    """A skill with the facts graph queries need about it and its tree."""

    id: str
    name: str
    skill_tree_id: str
    tree_published: bool
    tree_created_by: str | None


@dataclass(frozen=True)
class Edges:
    """Prerequisite edges (skill, prerequisite) and the names of the skills they reach."""

    pairs: list[tuple[str, str]]
    names: dict[str, str]


def find_skill(session: Session, skill_id: str) -> SkillPlace | None:
    """The skill `skill_id` with its tree's visibility facts."""
    row = session.execute(
        select(
            Skill.id, Skill.name, Skill.skill_tree_id, SkillTree.is_published, SkillTree.created_by
        )
        .join(SkillTree, SkillTree.id == Skill.skill_tree_id)
        .where(Skill.id == skill_id)
    ).one_or_none()
    return SkillPlace(*row) if row else None


def find_tree(session: Session, slug: str) -> SkillTree | None:
    """The tree with `slug`, published or not."""
    return session.scalars(select(SkillTree).where(SkillTree.slug == slug)).one_or_none()


def edges_above(session: Session, skill_id: str) -> Edges:
    """The edges among everything `skill_id` needs, with the prerequisites' names."""
    rows = session.execute(_EDGES_ABOVE, {"skill": skill_id}).all()
    return Edges(pairs=[(s, p) for s, p, _ in rows], names={p: name for _, p, name in rows})


def edges_below(session: Session, skill_id: str) -> Edges:
    """The edges among everything that needs `skill_id`, with the dependents' names."""
    rows = session.execute(_EDGES_BELOW, {"skill": skill_id}).all()
    return Edges(pairs=[(s, p) for s, p, _ in rows], names={s: name for s, _, name in rows})


@dataclass(frozen=True)
class TreeGraph:
    """A tree's active skills (id -> (name, position y, position x, minutes)) and their edges."""

    skills: dict[str, tuple[str, float, float, int | None]]
    pairs: list[tuple[str, str]]


def tree_graph(session: Session, tree_id: str) -> TreeGraph:
    """The graph of the tree's active skills (edges to inactive skills left out)."""
    skills = {
        row.id: (row.name, row.position_y, row.position_x, row.estimated_minutes)
        for row in session.execute(
            select(
                Skill.id, Skill.name, Skill.position_y, Skill.position_x, Skill.estimated_minutes
            ).where(Skill.skill_tree_id == tree_id, Skill.is_active)
        )
    }
    pairs = [
        (s, p)
        for s, p in session.execute(
            select(SkillDependency.skill_id, SkillDependency.depends_on_id).where(
                SkillDependency.skill_tree_id == tree_id
            )
        ).tuples()
        if s in skills and p in skills
    ]
    return TreeGraph(skills=skills, pairs=pairs)
