"""A tree's graph stored by its writers, so that the first request of a tree version reads it in
one row instead of aggregating every skill and edge of the tree (issue 12; migrations 0047, 0048).

`skill_tree_graphs` holds, per tree, what `graph.repository.tree_graph` builds a TreeGraph from:
the active skills in the order by position (y, x, then the id's code points) with their facts,
each skill's active prerequisites as places in that order (skill after skill, each skill's by
place, with where each skill's end), its dependents likewise, its roots, its chain ahead, and
whether every prerequisite comes before its skill by position (TreeGraph.drawn_top_down), each
column one bytea laid out as graph.packing says. It is stored with the tree's
`structure_version` and read only at that version: any change of the tree, its skills or its
edges, by any writer, moves the version on (db/schema/graph.sql), so a tree changed by a writer
that does not store it (plain SQL) is read from its rows as before, never from a stale copy.

Who stores it: every tree writer after its last write, with the ranks (graph.ranks.refresh, from
the same read of the tree's rows); the writers that change a tree without holding its learners
call `store` after a rename or a move of a skill (or a change of its XP or minutes), and `keep`
after a change of facts the graph does not hold (the tree's own fields, publishing included; a
skill's description): that moves the stored graph to the new version without rewriting it;
`skilltree db upgrade` stores the graph of every tree whose stored graph is not current
(`store_missing`).
Storing is linear in the tree: the graph read from its rows in one statement (what the first
request of every process paid before), grouped in Python, written in one statement. (Grouping in
SQL joined the edges to a numbered copy of the skills: right after an import, before the tables'
statistics knew the new rows, the planner made that a nested loop, quadratic in the tree.)
"""

from __future__ import annotations

from itertools import accumulate, chain

from sqlalchemy import text
from sqlalchemy.orm import Session

from skilltree.graph import packing, repository
from skilltree.graph.tree_graphs import TreeGraph

# Each column is sent as one bytea, laid out as graph.packing says (psycopg sends a list a value
# at a time in Python, 7-24 ms a column of 10,000: measured).
WRITE = """
    INSERT INTO skill_tree_graphs AS g (
        skill_tree_id, structure_version, skills, edges, ids, names, positions_y, positions_x,
        estimated_minutes, optional, xp_values, milestones, prerequisite_ends, prerequisites,
        dependent_ends, dependents, roots, chains_ahead, drawn_top_down)
    VALUES (
        %(tree)s, %(version)s, %(skills)s, %(edges)s, %(ids)s, %(names)s, %(ys)s, %(xs)s,
        %(minutes)s, %(optional)s, %(xp)s, %(milestones)s, %(needs_ends)s, %(places)s,
        %(dependent_ends)s, %(dependents)s, %(roots)s, %(chains)s, %(top_down)s)
    ON CONFLICT (skill_tree_id) DO UPDATE SET
        structure_version = excluded.structure_version, skills = excluded.skills,
        edges = excluded.edges, ids = excluded.ids, names = excluded.names,
        positions_y = excluded.positions_y, positions_x = excluded.positions_x,
        estimated_minutes = excluded.estimated_minutes, optional = excluded.optional,
        xp_values = excluded.xp_values, milestones = excluded.milestones,
        prerequisite_ends = excluded.prerequisite_ends, prerequisites = excluded.prerequisites,
        dependent_ends = excluded.dependent_ends, dependents = excluded.dependents,
        roots = excluded.roots, chains_ahead = excluded.chains_ahead,
        drawn_top_down = excluded.drawn_top_down
    -- Stored at that version already: the same graph (a version is one state of the tree).
    WHERE g.structure_version <> excluded.structure_version
"""

MISSING = """
    SELECT t.id FROM skill_trees t
    WHERE NOT EXISTS (
        SELECT FROM skill_tree_graphs g
        WHERE g.skill_tree_id = t.id AND g.structure_version = t.structure_version)
    ORDER BY t.id
"""


def store_graph(session: Session, graph: TreeGraph) -> None:
    """Store `graph`, read from the tree's rows in this transaction after its last change, at
    the version it was read at."""
    columns, place_needs, dependents = graph.columns, graph.place_needs, graph.dependents_groups
    with repository.cursor_of(session) as cursor:
        cursor.execute(
            WRITE,
            {
                "tree": graph.tree_id,
                "version": graph.version,
                "skills": len(columns.ids),
                "edges": graph.edge_count,
                "ids": packing.texts(columns.ids),
                "names": packing.texts(columns.names),
                "ys": packing.floats(columns.positions_y),
                "xs": packing.floats(columns.positions_x),
                "minutes": packing.minutes(columns.estimated_minutes),
                "optional": packing.flags(columns.optional),
                "xp": packing.ints(columns.xp_values),
                "milestones": packing.flags(columns.milestones),
                "needs_ends": packing.ints(accumulate(map(len, place_needs))),
                "places": packing.ints(chain.from_iterable(map(sorted, place_needs))),
                "dependent_ends": packing.ints(dependents.ends),
                "dependents": packing.ints(dependents.places),
                "roots": packing.ints(graph.root_places),
                "chains": packing.ints(graph.chains_by_place),
                "top_down": graph.drawn_top_down,
            },
        )


def store(session: Session, tree_id: str) -> None:
    """Store tree `tree_id`'s graph as the session sees it (its writes flushed), at the tree's
    current version; nothing for a tree that is gone."""
    session.flush()
    graph = repository.graph_from_rows(session, tree_id)
    if graph is not None:
        store_graph(session, graph)


# After a change that moved the tree's version on by exactly one and left every fact the graph
# holds as it was: the stored graph, current just before, is current now. `- 1` is read with
# the tree's row locked by the change itself: a change committed in between (by plain SQL, say)
# moved the version too, and then nothing matches.
RESTAMP = """
    UPDATE skill_tree_graphs g SET structure_version = t.structure_version
    FROM skill_trees t
    WHERE t.id = %(tree)s AND g.skill_tree_id = t.id
      AND g.structure_version = t.structure_version - 1
"""


def keep(session: Session, tree_id: str) -> None:
    """After a change of tree `tree_id` that moved its version on once and changed none of the
    facts its graph holds (the tree's own fields; a skill's description, say): its stored graph
    moves to the new version (one row updated, its arrays untouched) when it was current before;
    otherwise it is stored anew."""
    session.flush()
    with repository.cursor_of(session) as cursor:
        cursor.execute(RESTAMP, {"tree": tree_id})
        kept = cursor.rowcount == 1
    if not kept:
        store(session, tree_id)


def store_missing(session: Session) -> int:
    """Store the graph of every tree whose stored graph is not at its version (trees made before
    migration 0047, or changed by plain SQL since), each held as a tree writer holds it (FOR
    UPDATE: a change in flight finishes first); how many."""
    trees = list(session.scalars(text(MISSING + " FOR UPDATE OF t")))
    for tree_id in trees:
        store(session, tree_id)
    return len(trees)
