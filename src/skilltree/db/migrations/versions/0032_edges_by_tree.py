"""skill_dependencies indexed by tree: reading one tree's edges costs that tree's edges

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-06

A tree's graph (graph.repository.tree_graph: what next, paths, prerequisites, learning plans)
reads the tree's edges by `skill_tree_id`, which no index led with: every read scanned the edges
of every tree. With five trees (440,000 edges) that was 33 ms for the 20,000 edges of a
10,000-skill tree, and it grows with the whole catalog; by this index, 1.4 ms (18 ms for a
100,000-skill tree). B-tree deduplication keeps it small (3 MB for 440,000 edges).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE INDEX idx_skill_dependencies_tree ON skill_dependencies (skill_tree_id)")


def downgrade() -> None:
    op.execute("DROP INDEX idx_skill_dependencies_tree")
