"""search: type-ahead finds names starting with the typed text in a B-tree range

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05

Type-ahead ranks names starting with the typed text first. Those were found through the names'
trigram index, like names with a later word starting with it, which visits every matching skill
in `skills`' wide rows (2,000 rows on as many pages for a common prefix over 100,000 skills). A
B-tree over the lower-cased names (`text_pattern_ops`, so that a LIKE prefix is a range, whatever
the collation) answers "starts with" as a range scan, and carries the name, tree and active flag
so that the skills' rows are not visited; the later-word search runs only when fewer names than
asked for start with the text. (docs/search.md, benchmarks/RESULTS.md.)
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX idx_skill_name_prefix ON skills (lower(name) text_pattern_ops)"
        " INCLUDE (name, skill_tree_id, is_active)"
    )
    op.execute("CREATE INDEX idx_tree_name_prefix ON skill_trees (lower(name) text_pattern_ops)")


def downgrade() -> None:
    op.execute("DROP INDEX idx_tree_name_prefix")
    op.execute("DROP INDEX idx_skill_name_prefix")
