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
plain SQL is read as before, never from a stale row. Existing trees get theirs from `skilltree db
upgrade` after the migrations (graph.snapshots.store_missing: grouped in Python, linear; until
then they are read from their rows as before).

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


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
