"""analytics: learners' graded attempts for item analysis, to a tree's author and admins

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-07

Issue 14, part 7 ("Teachers see what works"). `assessment_attempts` is a learner table: row-level
security lets the API's role read the transaction's learner's attempts only. Item analysis and
pass rates read every learner's attempts at a skill, for the skill's tree's author or an admin,
as the other analytics read `user_skill_progress` (analytics_skill_progress):

- `analytics_assessment_attempts`: the attempts at the skills of the trees the caller may
  analyse (`analytics_trees`), with what the analyses need (when, the score, passed, expired, the
  per-question results) and nothing else (not the answers as sent, nor the questions drawn, nor
  the completion). Read only: the API's role has SELECT on it and nothing more.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0041"
down_revision: str | None = "0040"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE = """
CREATE VIEW analytics_assessment_attempts AS
    SELECT a.user_id, a.id, a.skill_id, a.started_at, a.submitted_at, a.score, a.passed,
           a.expired, a.results
    FROM assessment_attempts a
    WHERE a.skill_id IN (SELECT s.id FROM skills s
                         WHERE s.skill_tree_id IN (SELECT id FROM analytics_trees));
REVOKE ALL ON analytics_assessment_attempts FROM skilltree_app;
GRANT SELECT ON analytics_assessment_attempts TO skilltree_app;
"""

DOWNGRADE = """
DROP VIEW analytics_assessment_attempts;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
