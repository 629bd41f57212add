"""refresh_tree_enrolments(): every learner's progress in a tree, recomputed after the tree changed

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22

When an author adds, removes or (de)activates a skill, every enrolment in the tree is recomputed
(totals, percent, milestones, completion) and the learners' completed-tree counts recounted. The
author's request runs under row-level security as the author, who may not see other learners'
rows, so this runs as a SECURITY DEFINER function owned by the schema owner: it can only
recompute progress from the learners' own rows, never write anything else.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFRESH = r"""
CREATE FUNCTION refresh_tree_enrolments(p_tree text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    users text[];
BEGIN
    WITH active AS (
        SELECT id, is_optional, is_milestone FROM skills
        WHERE skill_tree_id = p_tree AND is_active
    ), totals AS (
        SELECT count(*) AS total, count(*) FILTER (WHERE NOT is_optional) AS required FROM active
    ), learner AS (
        SELECT e.id,
               count(a.id) FILTER (WHERE p.status = 'COMPLETED') AS completed,
               count(a.id) FILTER (WHERE NOT a.is_optional AND p.status IN ('COMPLETED', 'SKIPPED'))
                   AS required_done,
               coalesce(
                   array_agg(a.id ORDER BY a.id)
                       FILTER (WHERE a.is_milestone AND p.status = 'COMPLETED'),
                   '{}') AS milestones
        FROM user_skill_tree_progress e
        LEFT JOIN user_skill_progress p
               ON p.user_id = e.user_id AND p.skill_tree_id = e.skill_tree_id
        LEFT JOIN active a ON a.id = p.skill_id
        WHERE e.skill_tree_id = p_tree
        GROUP BY e.id
    ), refreshed AS (
        UPDATE user_skill_tree_progress e
        SET total_skills = totals.total,
            skills_completed = learner.completed,
            progress_percent = CASE WHEN totals.total = 0 THEN 0
                                    ELSE 100.0 * learner.completed / totals.total END,
            milestones_reached = learner.milestones,
            status = CASE
                WHEN learner.completed > 0 AND learner.required_done = totals.required
                    THEN 'COMPLETED'::"TreeProgressStatus"
                WHEN e.status = 'COMPLETED' THEN 'IN_PROGRESS'::"TreeProgressStatus"
                ELSE e.status END,
            completed_at = CASE
                WHEN learner.completed > 0 AND learner.required_done = totals.required
                    THEN coalesce(e.completed_at, now()) END
        FROM learner, totals
        WHERE e.id = learner.id
        RETURNING e.user_id
    )
    SELECT array_agg(user_id) INTO users FROM refreshed;

    UPDATE user_profiles u
    SET trees_completed = (
        SELECT count(*) FROM user_skill_tree_progress t
        WHERE t.user_id = u.user_id AND t.status = 'COMPLETED'
    )
    WHERE u.user_id = ANY (users);
END
$$;
REVOKE ALL ON FUNCTION refresh_tree_enrolments(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION refresh_tree_enrolments(text) TO skilltree_app;
"""


def upgrade() -> None:
    op.execute(REFRESH)


def downgrade() -> None:
    op.execute("DROP FUNCTION refresh_tree_enrolments(text)")
