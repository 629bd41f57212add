"""A tree's graph stored by its writers, so that the first request of a tree version reads it in
one row instead of aggregating every skill and edge of the tree (issue 12; migration 0047).

`skill_tree_graphs` holds, per tree, what `graph.repository.tree_graph` builds a TreeGraph from:
the active skills in the order by position (y, x, then the id's code points) with their facts,
each skill's count of active prerequisites, those prerequisites as places in that order (skill
after skill, each skill's by place), and whether every prerequisite comes before its skill by
position (TreeGraph.drawn_top_down). It is stored with the tree's `structure_version` and read
only at that version: any change of the tree, its skills or its edges, by any writer, moves the
version on (db/schema/graph.sql), so a tree changed by a writer that does not store it (plain
SQL, a seed of old) is read from its rows as before, never from a stale copy.

Who stores it: every tree writer after its last write, with the ranks (graph.ranks.refresh);
the writers that change a tree without holding its learners (a rename or a move of a skill, the
tree's own fields) call `store` themselves. Storing is one statement, all in PostgreSQL: linear
in the tree, about what a cold read cost before, paid once per change instead of once per
process and tree version.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

# The facts by place, each skill's prerequisites by place: the same order as TREE_GRAPH's.
STORE = """
    WITH s AS MATERIALIZED (
        SELECT s.id, s.name, s.position_y, s.position_x, s.estimated_minutes, s.is_optional,
               s.xp_value, s.is_milestone,
               (row_number() OVER (ORDER BY s.position_y, s.position_x, s.id COLLATE "C")
                - 1)::integer AS place
        FROM skills s WHERE s.skill_tree_id = %(tree)s AND s.is_active
    ), e AS MATERIALIZED (
        SELECT k.place AS skill, p.place AS prerequisite
        FROM skill_dependencies d
        JOIN s k ON k.id = d.skill_id
        JOIN s p ON p.id = d.depends_on_id
        WHERE d.skill_tree_id = %(tree)s
    )
    INSERT INTO skill_tree_graphs AS g (
        skill_tree_id, structure_version, ids, names, positions_y, positions_x,
        estimated_minutes, optional, xp_values, milestones, prerequisite_counts, prerequisites,
        drawn_top_down)
    SELECT t.id, t.structure_version,
           coalesce(a.ids, '{}'), coalesce(a.names, '{}'), coalesce(a.ys, '{}'),
           coalesce(a.xs, '{}'), coalesce(a.minutes, '{}'), coalesce(a.optional, '{}'),
           coalesce(a.xp, '{}'), coalesce(a.milestones, '{}'), coalesce(a.counts, '{}'),
           coalesce((SELECT array_agg(e.prerequisite ORDER BY e.skill, e.prerequisite) FROM e),
                    '{}'),
           coalesce((SELECT bool_and(e.prerequisite < e.skill) FROM e), true)
    FROM skill_trees t
    CROSS JOIN LATERAL (
        SELECT array_agg(s.id ORDER BY s.place) AS ids,
               array_agg(s.name ORDER BY s.place) AS names,
               array_agg(s.position_y ORDER BY s.place) AS ys,
               array_agg(s.position_x ORDER BY s.place) AS xs,
               array_agg(s.estimated_minutes ORDER BY s.place) AS minutes,
               array_agg(s.is_optional ORDER BY s.place) AS optional,
               array_agg(s.xp_value ORDER BY s.place) AS xp,
               array_agg(s.is_milestone ORDER BY s.place) AS milestones,
               array_agg(coalesce(n.count, 0) ORDER BY s.place) AS counts
        FROM s LEFT JOIN (SELECT e.skill, count(*)::integer AS count FROM e GROUP BY e.skill) n
            ON n.skill = s.place) a
    WHERE t.id = %(tree)s
    ON CONFLICT (skill_tree_id) DO UPDATE SET
        structure_version = excluded.structure_version, ids = excluded.ids,
        names = excluded.names, positions_y = excluded.positions_y,
        positions_x = excluded.positions_x, estimated_minutes = excluded.estimated_minutes,
        optional = excluded.optional, xp_values = excluded.xp_values,
        milestones = excluded.milestones, prerequisite_counts = excluded.prerequisite_counts,
        prerequisites = excluded.prerequisites, drawn_top_down = excluded.drawn_top_down
"""


def store(session: Session, tree_id: str) -> None:
    """Store tree `tree_id`'s graph as the session sees it (its writes flushed), at the tree's
    current structure version; nothing for a tree that is gone."""
    session.flush()
    session.execute(text(STORE.replace("%(tree)s", ":tree")), {"tree": tree_id})
