"""a learner's skill rows: one foreign key to skills, time indexes without the unstarted rows

Revision ID: 0043
Revises: 0042
Create Date: 2026-12-07

Issue 12, part 1: enrolling writes a row and an UNLOCK event per root skill (docs/progress.md,
"Enrolling": why the rows stay), so what each row costs beyond its own bytes is paid once per
root: 1,000 or 10,000 times in the "many roots" trees of benchmarks/bench_learner_paths.py.

- `user_skill_progress_skill_id_fkey` (skill_id -> skills.id, from 0001) is implied by
  `user_skill_progress_skill_tree_fkey` ((skill_id, skill_tree_id) -> skills (id, skill_tree_id),
  both columns NOT NULL, the same ON DELETE / ON UPDATE CASCADE): every row it refuses the
  composite key refuses, every cascade it makes the composite key makes. The models declare only
  the composite key. Each insert paid one more referential check (a `FOR KEY SHARE` lookup of the
  skill) per row.
- `idx_skill_completion` (completed_at) and `idx_skill_progress_activity` (last_activity_at)
  held an entry for every row, NULL for every LOCKED or AVAILABLE one (most rows: each root of
  each enrolment). Every read through them asks for a time range, which implies NOT NULL, so the
  planner uses them as partial indexes alike; the unstarted rows no longer add entries.

The downgrade restores both as they were.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0043"
down_revision: str | None = "0042"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE user_skill_progress DROP CONSTRAINT user_skill_progress_skill_id_fkey")
    op.execute("DROP INDEX idx_skill_completion")
    op.execute(
        "CREATE INDEX idx_skill_completion ON user_skill_progress (completed_at)"
        " WHERE completed_at IS NOT NULL"
    )
    op.execute("DROP INDEX idx_skill_progress_activity")
    op.execute(
        "CREATE INDEX idx_skill_progress_activity ON user_skill_progress (last_activity_at)"
        " WHERE last_activity_at IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX idx_skill_progress_activity")
    op.execute("CREATE INDEX idx_skill_progress_activity ON user_skill_progress (last_activity_at)")
    op.execute("DROP INDEX idx_skill_completion")
    op.execute("CREATE INDEX idx_skill_completion ON user_skill_progress (completed_at)")
    op.execute(
        "ALTER TABLE user_skill_progress ADD CONSTRAINT user_skill_progress_skill_id_fkey"
        " FOREIGN KEY (skill_id) REFERENCES skills (id) ON UPDATE CASCADE ON DELETE CASCADE"
    )
