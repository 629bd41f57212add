"""stored graphs packed a column of bytes each, with each skill's chain ahead

Revision ID: 0048
Revises: 0047
Create Date: 2026-12-07

Issue 12, part 1: at 100,000 skills the first learning path of a tree version cost 6-6.6x a warm
one (target: 3x). Reading the stored graph's row took 60-90 ms (PostgreSQL arrays, which the
driver turns into a Python object a value: the ids alone 20-40 ms) and building a dict of every
skill from it 80 ms more. Migration 0047's `skill_tree_graphs` is remade with each column one
`bytea` laid out as graph.packing says (texts NUL-separated, numbers as little-endian 4- or
8-byte values, flags a byte each; each skill's prerequisites and dependents as places, skill after
skill, with where each skill's end), stored uncompressed (STORAGE EXTERNAL: the read is a copy,
not a decompression), with the count of skills and edges the lengths are checked against, and
each skill's dependents and chain ahead (what "what next" walks and ranks by), so that a graph
read from its stored row needs nothing of the whole tree computed again.

The stored graphs are derived data: the upgrade drops them and `skilltree db upgrade` stores
every tree's graph anew after the migrations (graph.snapshots.store_missing; until then a tree is
read from its rows, as before 0047). The downgrade restores 0047's table, empty, which 0047's
`db upgrade` fills the same way.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0048"
down_revision: str | None = "0047"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PACKED_COMMENT = (
    "COMMENT ON TABLE skill_tree_graphs IS 'A tree''s graph of active skills as the first request"
    " of a tree version reads it (skilltree.graph.snapshots): its skills by position with their"
    " facts, each one''s active prerequisites and dependents as places, its chain ahead, whether"
    " every prerequisite comes before its skill; a column of bytes each (skilltree.graph.packing)."
    " Stored by the tree''s writers; valid only at its structure_version.';"
)
COMMENT = (
    "COMMENT ON TABLE skill_tree_graphs IS 'A tree''s graph of active skills as the first request"
    " of a tree version reads it (skilltree.graph.snapshots): its skills by position with their"
    " facts, each one''s count of active prerequisites and their places, whether every"
    " prerequisite comes before its skill. Stored by the tree''s writers; valid only at its"
    " structure_version.';"
)

PACKED = (
    "ids", "names", "positions_y", "positions_x", "estimated_minutes", "optional", "xp_values",
    "milestones", "prerequisite_ends", "prerequisites", "dependent_ends", "dependents", "roots",
    "chains_ahead",
)  # fmt: skip

UPGRADE = (
    r"""
DROP TABLE skill_tree_graphs;
CREATE TABLE skill_tree_graphs (
    skill_tree_id text NOT NULL,
    structure_version bigint NOT NULL,
    skills integer NOT NULL,
    edges integer NOT NULL,
    ids bytea NOT NULL,
    names bytea NOT NULL,
    positions_y bytea NOT NULL,
    positions_x bytea NOT NULL,
    estimated_minutes bytea NOT NULL,
    optional bytea NOT NULL,
    xp_values bytea NOT NULL,
    milestones bytea NOT NULL,
    prerequisite_ends bytea NOT NULL,
    prerequisites bytea NOT NULL,
    dependent_ends bytea NOT NULL,
    dependents bytea NOT NULL,
    roots bytea NOT NULL,
    chains_ahead bytea NOT NULL,
    drawn_top_down boolean NOT NULL,
    CONSTRAINT skill_tree_graphs_pkey PRIMARY KEY (skill_tree_id),
    CONSTRAINT skill_tree_graphs_lengths_check CHECK (
        skills >= 0 AND edges >= 0
        AND length(positions_y) = 8 * skills AND length(positions_x) = 8 * skills
        AND length(estimated_minutes) = 4 * skills AND length(optional) = skills
        AND length(xp_values) = 4 * skills AND length(milestones) = skills
        AND length(prerequisite_ends) = 4 * skills AND length(prerequisites) = 4 * edges
        AND length(dependent_ends) = 4 * skills AND length(dependents) = 4 * edges
        AND length(roots) % 4 = 0 AND length(roots) <= 4 * skills
        AND length(chains_ahead) = 4 * skills),
    CONSTRAINT skill_tree_graphs_skill_tree_id_fkey FOREIGN KEY (skill_tree_id)
        REFERENCES skill_trees(id) ON UPDATE CASCADE ON DELETE CASCADE
);
"""
    + PACKED_COMMENT
    + "\n"
    + "\n".join(
        f"ALTER TABLE skill_tree_graphs ALTER COLUMN {column} SET STORAGE EXTERNAL;"
        for column in PACKED
    )
    + """
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE skill_tree_graphs TO skilltree_app;
"""
)

DOWNGRADE = (
    r"""
DROP TABLE skill_tree_graphs;
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
"""
    + COMMENT
    + """
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE skill_tree_graphs TO skilltree_app;
"""
)


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
