"""Graph queries: a skill's or a tree's place (visibility and structure version), and a whole
tree's active graph, read in one statement so that it matches the version it comes with."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from skilltree.graph.tree_graphs import SkillRow, TreeGraph
from skilltree.models import Skill, SkillTree

# The tree's version, its active skills and its edges: one statement, so one snapshot, and the
# graph is exactly the one at that version. Plain rows (a kind, then the columns): about three
# times faster to produce and read than the same as JSON. Run on the session's own DBAPI cursor
# (psycopg's parameter style): SQLAlchemy's Row objects cost more than the query itself here.
TREE_GRAPH = """
    SELECT 'tree', t.id, NULL, t.structure_version, NULL, NULL, NULL, NULL, NULL
    FROM skill_trees t WHERE t.id = %(tree)s
    UNION ALL
    SELECT 'skill', s.id, s.name, s.estimated_minutes, s.position_y, s.position_x, s.is_optional,
           s.xp_value, s.is_milestone
    FROM skills s WHERE s.skill_tree_id = %(tree)s AND s.is_active
    UNION ALL
    SELECT 'edge', d.skill_id, d.depends_on_id, NULL, NULL, NULL, NULL, NULL, NULL
    FROM skill_dependencies d WHERE d.skill_tree_id = %(tree)s
"""


@dataclass(frozen=True)
class SkillPlace:
    """A skill with the facts graph queries need about it and its tree."""

    id: str
    is_active: bool
    skill_tree_id: str
    tree_published: bool
    tree_created_by: str | None
    structure_version: int


@dataclass(frozen=True)
class TreePlace:
    """A tree's id, visibility facts and structure version."""

    id: str
    is_published: bool
    created_by: str | None
    structure_version: int


def find_skill(session: Session, skill_id: str) -> SkillPlace | None:
    """The skill `skill_id` with its tree's visibility facts and structure version."""
    row = session.execute(
        select(
            Skill.id,
            Skill.is_active,
            Skill.skill_tree_id,
            SkillTree.is_published,
            SkillTree.created_by,
            SkillTree.structure_version,
        )
        .join(SkillTree, SkillTree.id == Skill.skill_tree_id)
        .where(Skill.id == skill_id)
    ).one_or_none()
    return SkillPlace(*row) if row else None


def find_tree(session: Session, slug: str) -> TreePlace | None:
    """The tree with `slug`, published or not, with its structure version."""
    row = session.execute(
        select(
            SkillTree.id, SkillTree.is_published, SkillTree.created_by, SkillTree.structure_version
        ).where(SkillTree.slug == slug)
    ).one_or_none()
    return TreePlace(*row) if row else None


def tree_graph(session: Session, tree_id: str) -> TreeGraph | None:
    """The graph of the tree's active skills (edges touching inactive skills left out), at the
    structure version it was read at; None when there is no such tree."""
    version: int | None = None
    skills: dict[str, SkillRow] = {}
    edges: list[tuple[str, str]] = []
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(TREE_GRAPH, {"tree": tree_id})
        rows = cursor.fetchall()
    finally:
        cursor.close()
    for kind, first, second, number, y, x, optional, xp, milestone in rows:
        if kind == "edge":
            edges.append((first, second))
        elif kind == "skill":
            skills[first] = (second, y, x, number, optional, xp, milestone)
        else:
            version = number
    if version is None:
        return None
    del rows
    found: dict[str, list[str]] = {skill_id: [] for skill_id in skills}
    for skill_id, prerequisite in edges:
        if skill_id in found and prerequisite in found:
            found[skill_id].append(prerequisite)
    # Tuples, not lists, in the graph kept (tree_graphs.SkillRow says why).
    needs = {skill_id: tuple(prerequisites) for skill_id, prerequisites in found.items()}
    return TreeGraph(tree_id, version, skills, needs)
