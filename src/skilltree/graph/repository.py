"""Graph queries: a skill's or a tree's place (visibility and structure version), and a whole
tree's active graph, read in one statement so that it matches the version it comes with."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from skilltree.graph import packing
from skilltree.graph.tree_graphs import Columns, Groups, SkillRow, TreeGraph
from skilltree.models import Skill, SkillTree

# The tree's version, its active skills and its edges: one statement, so one snapshot, and the
# graph is exactly the one at that version. One row of arrays, a column each, read in binary,
# which Python zips into the graph's dicts without a Python step per skill: a third of the
# client's time of a row per skill and edge, for about the same time in PostgreSQL (measured at
# 10,000 skills). The skills come ordered by position as Python orders them (y, x, then the id's
# code points: `COLLATE "C"`), as tree_document.sql orders its graph, so the graph takes that
# order as it comes (sorting narrow rows costs PostgreSQL less than sorting in Python); the
# edges as they are read, each pair from the same row (two aggregates of one scan). Grouping
# the edges by skill and checking their order by position in the statement too cost PostgreSQL
# more than it saved Python. Run on the session's own DBAPI cursor (psycopg's parameter style).
TREE_GRAPH = """
    SELECT t.structure_version, s.*, e.*
    FROM skill_trees t
    CROSS JOIN LATERAL (
        SELECT array_agg(s.id ORDER BY s.position_y, s.position_x, s.id COLLATE "C"),
               array_agg(s.name ORDER BY s.position_y, s.position_x, s.id COLLATE "C"),
               array_agg(s.position_y ORDER BY s.position_y, s.position_x, s.id COLLATE "C"),
               array_agg(s.position_x ORDER BY s.position_y, s.position_x, s.id COLLATE "C"),
               array_agg(s.estimated_minutes
                         ORDER BY s.position_y, s.position_x, s.id COLLATE "C"),
               array_agg(s.is_optional ORDER BY s.position_y, s.position_x, s.id COLLATE "C"),
               array_agg(s.xp_value ORDER BY s.position_y, s.position_x, s.id COLLATE "C"),
               array_agg(s.is_milestone ORDER BY s.position_y, s.position_x, s.id COLLATE "C")
        FROM skills s WHERE s.skill_tree_id = t.id AND s.is_active) s
    CROSS JOIN LATERAL (
        SELECT array_agg(d.skill_id), array_agg(d.depends_on_id)
        FROM skill_dependencies d WHERE d.skill_tree_id = t.id) e
    WHERE t.id = %(tree)s
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


# The tree's version and its graph as its writers stored it at that version (graph.snapshots,
# laid out as graph.packing says), in one statement; the stored columns are NULL when the graph
# was not stored at that version.
STORED_GRAPH = """
    SELECT t.structure_version, g.skills, g.edges, g.ids, g.names, g.positions_y, g.positions_x,
           g.estimated_minutes, g.optional, g.xp_values, g.milestones,
           g.prerequisite_ends, g.prerequisites, g.dependent_ends, g.dependents, g.roots,
           g.chains_ahead, g.drawn_top_down
    FROM skill_trees t
    LEFT JOIN skill_tree_graphs g
        ON g.skill_tree_id = t.id AND g.structure_version = t.structure_version
    WHERE t.id = %(tree)s
"""


def tree_graph(session: Session, tree_id: str) -> TreeGraph | None:
    """The graph of the tree's active skills (edges touching inactive skills left out), at the
    structure version it was read at; None when there is no such tree. Read in one row as the
    tree's writers stored it at the tree's version (graph.snapshots), else from its rows."""
    return stored_graph(session, tree_id) or graph_from_rows(session, tree_id)


def stored_graph(session: Session, tree_id: str) -> TreeGraph | None:
    """The tree's graph as its writers stored it, if they stored it at the tree's version (one
    row read); else None."""
    with cursor_of(session, binary=True) as cursor:
        cursor.execute(STORED_GRAPH, {"tree": tree_id})
        stored = cursor.fetchone()
    if stored is None or stored[1] is None:
        return None
    return _stored_graph(tree_id, stored)


def graph_from_rows(session: Session, tree_id: str) -> TreeGraph | None:
    """The graph of the tree's active skills read from its skills and edges (TREE_GRAPH), at the
    structure version it was read at, as the session sees them; None when there is no such
    tree."""
    with cursor_of(session, binary=True) as cursor:
        cursor.execute(TREE_GRAPH, {"tree": tree_id})
        row = cursor.fetchone()
    if row is None:
        return None
    version, ids, names, ys, xs, minutes, optional, xp, milestones, skill_ids, prerequisites = row
    if ids is None:  # no active skill
        return TreeGraph(tree_id, version, {}, {}, by_position=[])
    columns = zip(names, ys, xs, minutes, optional, xp, milestones, strict=True)
    skills: dict[str, SkillRow] = dict(zip(ids, columns, strict=True))
    edges = zip(skill_ids or (), prerequisites or (), strict=True)
    return TreeGraph(tree_id, version, skills, _needs(skills, edges), by_position=ids)


def _stored_graph(tree_id: str, row: tuple[Any, ...]) -> TreeGraph:
    """The TreeGraph of a row of STORED_GRAPH with its graph (graph.packing): its columns by
    place as they are; what is keyed by id is built when asked for (TreeGraph.from_columns)."""
    version, count, edges, ids, names, ys, xs, minutes, optional, xp, milestones = row[:11]
    needs_ends, needs, dependent_ends, dependents, roots, chains, top_down = row[11:]
    columns = Columns(
        packing.unpack_texts(ids, count),
        packing.LazyTexts(names, count),
        packing.unpack_floats(ys),
        packing.unpack_floats(xs),
        packing.unpack_minutes(minutes),
        optional,
        packing.unpack_ints(xp),
        milestones,
    )
    return TreeGraph.from_columns(
        tree_id,
        version,
        columns,
        Groups(*packing.unpack_groups(needs, needs_ends)),
        Groups(*packing.unpack_groups(dependents, dependent_ends)),
        drawn_top_down=top_down,
        roots=packing.unpack_ints(roots),
        chains=packing.unpack_ints(chains),
        edge_count=edges,
    )


def _needs(skills: Collection[str], edges: Iterable[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    """Each of `skills` with its prerequisites among them, from the tree's `edges` (skill,
    prerequisite): edges touching other (inactive) skills left out."""
    found: dict[str, list[str]] = {skill_id: [] for skill_id in skills}
    for skill_id, prerequisite in edges:
        if skill_id in found and prerequisite in found:
            found[skill_id].append(prerequisite)
    # Tuples, not lists, in the graph kept (tree_graphs.SkillRow says why).
    return {skill_id: tuple(prerequisites) for skill_id, prerequisites in found.items()}


STORED_RANKS = """
    SELECT skill_id, chain_ahead, dependents, prerequisites FROM skill_ranks
    WHERE skill_tree_id = %(tree)s
"""
WRITE_RANKS = """
    INSERT INTO skill_ranks AS r (skill_id, skill_tree_id, chain_ahead, dependents, prerequisites)
    SELECT n.skill_id, %(tree)s, n.chain_ahead, n.dependents, n.prerequisites
    FROM unnest(%(skills)s::text[], %(chains)s::integer[], %(dependents)s::integer[],
                %(prerequisites)s::integer[]) AS n(skill_id, chain_ahead, dependents, prerequisites)
    ON CONFLICT (skill_id) DO UPDATE
    SET chain_ahead = excluded.chain_ahead, dependents = excluded.dependents,
        prerequisites = excluded.prerequisites
"""
FORGET_RANKS = "DELETE FROM skill_ranks WHERE skill_id = ANY (%(skills)s::text[])"
MARK_RANKED = """
    INSERT INTO skill_tree_ranks (skill_tree_id, active_skills) VALUES (%(tree)s, %(active)s)
    ON CONFLICT (skill_tree_id) DO UPDATE SET active_skills = excluded.active_skills
    WHERE skill_tree_ranks.active_skills <> excluded.active_skills
"""

Rank = tuple[int, int, int]
"""What "what next" ranks an active skill by, of its tree's graph: its chain ahead, its active
direct dependents, its active direct prerequisites (0: a root)."""


def stored_ranks(session: Session, tree_id: str) -> dict[str, Rank]:
    """The ranks stored for the tree's skills, by skill (current or not)."""
    with cursor_of(session) as cursor:
        cursor.execute(STORED_RANKS, {"tree": tree_id})
        return {skill: (chain, dependents, needs) for skill, chain, dependents, needs in cursor}


def write_ranks(
    session: Session,
    tree_id: str,
    changed: Mapping[str, Rank],
    gone: Collection[str],
    active_skills: int,
) -> None:
    """Store the `changed` ranks of the tree's skills, forget those of the skills `gone`, and
    mark the tree's ranks current with its count of `active_skills` (until its graph changes
    again: db/schema/graph.sql)."""
    with cursor_of(session) as cursor:
        if gone:
            cursor.execute(FORGET_RANKS, {"skills": list(gone)})
        if changed:
            cursor.execute(
                WRITE_RANKS,
                {
                    "tree": tree_id,
                    "skills": list(changed),
                    "chains": [rank[0] for rank in changed.values()],
                    "dependents": [rank[1] for rank in changed.values()],
                    "prerequisites": [rank[2] for rank in changed.values()],
                },
            )
        cursor.execute(MARK_RANKED, {"tree": tree_id, "active": active_skills})


@contextmanager
def cursor_of(session: Session, *, binary: bool = False) -> Iterator[Any]:
    # The session's own DBAPI cursor (psycopg's parameter style), as tree_graph reads.
    cursor = session.connection().connection.cursor(binary=binary)
    try:
        yield cursor
    finally:
        cursor.close()
