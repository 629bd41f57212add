"""treefile: a large import refreshes the planner's statistics of the tables it filled

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05

Until autovacuum gets to it (a minute or more), a tree-file import that added many skills leaves
the planner with the old row counts of `skills` and `skill_dependencies`, and the first read of
the new tree took ten times as long (measured: 376 ms against 39 ms for 1,000 skills). Once such
an import has committed, it runs `analyze_catalog()` in a short transaction of its own
(docs/tree-format.md). The API imports as `skilltree_app`, which does not own the tables:
`analyze_catalog()` runs as their owner, analyses those two tables only and takes no argument.
It waits at most 5 s for a table another session holds (autovacuum gives way within about a
second; a manual VACUUM may not): past that it fails, which the import logs.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE = """
CREATE FUNCTION analyze_catalog() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET lock_timeout = '5s' AS $$
BEGIN
    ANALYZE skills;
    ANALYZE skill_dependencies;
END
$$;
REVOKE ALL ON FUNCTION analyze_catalog() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analyze_catalog() TO skilltree_app;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute("DROP FUNCTION analyze_catalog()")
