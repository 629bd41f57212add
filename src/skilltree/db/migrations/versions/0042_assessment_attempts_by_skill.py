"""assessment attempts by skill: an index for item analysis and pass rates

Revision ID: 0042
Revises: 0041
Create Date: 2026-12-07

Issue 14, part 7. Item analysis, the questions failed most and the pass rates read every
learner's attempts at one skill (`analytics_assessment_attempts`); the only index of
`assessment_attempts` leads with the learner (`idx_assessment_attempt_user_skill`), so without
this one each read scans every attempt of the platform, and costs more with every other bank.
Measured in benchmarks/bench_item_analysis.py (RESULTS.md): with the bank's attempts a twentieth
of the table, p50 lower by 8 to 16 ms (of about 135); a fifth, no difference yet. Not unique: no Citus rule asks for `user_id` in it.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0042"
down_revision: str | None = "0041"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE INDEX idx_assessment_attempt_skill ON assessment_attempts (skill_id)")


def downgrade() -> None:
    op.execute("DROP INDEX idx_assessment_attempt_skill")
