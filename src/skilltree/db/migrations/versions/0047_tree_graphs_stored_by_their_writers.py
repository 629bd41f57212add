"""a tree's graph stored by its writers, read in one row by the first request of its version

Revision ID: 0047
Revises: 0046
Create Date: 2026-12-07

Issue 12, part 1: the first request of a tree version that needs the whole graph (a learning path,
prerequisites at depth, "what next" when the ranks are not current) read it with
graph.repository's TREE_GRAPH: every active skill and edge of the tree aggregated into arrays
(34 ms at 10,000 skills, 316 ms at 100,000, in PostgreSQL alone), then grouped the edges by skill
in Python and checked every edge's order by position. A path's cold request cost 3.2-3.8x a warm
one at 10,000 skills and 5-5.7x at 100,000 (target: 3x).

`skill_tree_graphs` holds one row per tree: its active skills in the order by position (y, x,
id in code points, as TREE_GRAPH orders them) with their facts, each skill's count of active
prerequisites, those prerequisites as places in that order (skill after skill), and whether
every prerequisite comes before its skill by position (TreeGraph.drawn_top_down). The tree's
writers store it in the same transaction as their change (graph.snapshots: with the ranks,
after a tree writer's last write; after a rename or a move, which leaves the ranks current; after
a change of the tree's own row); it is valid only at the `structure_version` it was stored at,
which any change of the tree, its skills or its edges, by any writer, moves on: a tree changed by
plain SQL is read as before, never from a stale row. Existing trees get theirs here.

The downgrade drops the table.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0047"
down_revision: str | None = "0046"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE = r"""
CREATE TABLE skill_tree_graphs (
    skill_tree_id text NOT NULL,
    structure_version bigint NOT NULL,
    ids text[] NOT NULL,
    names text[] NOT NULL,
    positions_y double precision[] NOT NULL,
    positions_x double precision[] NOT NULL,
    estimated_minutes integer[] NOT NULL,
    optional boolean[] NOT NULL,
    xp_values integer[] NOT NULL,
    milestones boolean[] NOT NULL,
    prerequisite_counts integer[] NOT NULL,
    prerequisites integer[] NOT NULL,
    drawn_top_down boolean NOT NULL,
    CONSTRAINT skill_tree_graphs_pkey PRIMARY KEY (skill_tree_id),
    CONSTRAINT skill_tree_graphs_skill_tree_id_fkey FOREIGN KEY (skill_tree_id)
        REFERENCES skill_trees(id) ON UPDATE CASCADE ON DELETE CASCADE
);
COMMENT ON TABLE skill_tree_graphs IS 'A tree''s graph of active skills as the first request of a tree version reads it (skilltree.graph.snapshots): its skills by position with their facts, each one''s count of active prerequisites and their places, whether every prerequisite comes before its skill. Stored by the tree''s writers; valid only at its structure_version.';
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE skill_tree_graphs TO skilltree_app;
"""

DOWNGRADE = r"""
DROP TABLE skill_tree_graphs;
"""


# Every existing tree's graph, as graph.snapshots.STORE stored it when this revision was
# written (frozen here: a later change of STORE does not change what this revision did).
STORE_EVERY_TREE = r"""
DO $do$
DECLARE
    tree text;
BEGIN
    FOR tree IN SELECT id FROM skill_trees ORDER BY id LOOP
        EXECUTE $store$
    WITH s AS MATERIALIZED (
        SELECT s.id, s.name, s.position_y, s.position_x, s.estimated_minutes, s.is_optional,
               s.xp_value, s.is_milestone,
               (row_number() OVER (ORDER BY s.position_y, s.position_x, s.id COLLATE "C")
                - 1)::integer AS place
        FROM skills s WHERE s.skill_tree_id = $1 AND s.is_active
    ), e AS MATERIALIZED (
        SELECT k.place AS skill, p.place AS prerequisite
        FROM skill_dependencies d
        JOIN s k ON k.id = d.skill_id
        JOIN s p ON p.id = d.depends_on_id
        WHERE d.skill_tree_id = $1
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
    WHERE t.id = $1
    ON CONFLICT (skill_tree_id) DO UPDATE SET
        structure_version = excluded.structure_version, ids = excluded.ids,
        names = excluded.names, positions_y = excluded.positions_y,
        positions_x = excluded.positions_x, estimated_minutes = excluded.estimated_minutes,
        optional = excluded.optional, xp_values = excluded.xp_values,
        milestones = excluded.milestones, prerequisite_counts = excluded.prerequisite_counts,
        prerequisites = excluded.prerequisites, drawn_top_down = excluded.drawn_top_down
$store$ USING tree;
    END LOOP;
END
$do$;
"""


def upgrade() -> None:
    op.execute(UPGRADE)
    op.execute(STORE_EVERY_TREE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
