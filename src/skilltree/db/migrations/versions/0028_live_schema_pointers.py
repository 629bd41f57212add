"""progress: a comment in progress_missing_prerequisites points at the live graph.sql

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06

Issue 13, "pointers tell the truth": the function's comment sent readers to migration 0012 for
skill_dependency_chain's trick; the live definition is in src/skilltree/db/schema/graph.sql. Only
the comment changes; the downgrade restores 0023's text.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written by `skilltree db new-migration` from the live schema as 0027 left it
# (db/schema/progress.sql), then its comment edited.
UPGRADE = r"""
CREATE OR REPLACE FUNCTION public.progress_missing_prerequisites(p_user text, p_skill text)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
AS $function$
BEGIN
    -- Breadth first over active prerequisites, each skill once at its nearest distance, in one
    -- recursive query. The distance is an interval of n days minus n*24 hours, which PostgreSQL
    -- compares (and hashes) as equal whatever n: UNION keeps each skill once, from the first,
    -- nearest level it is met at, while the day part still counts the level (the trick of
    -- skill_dependency_chain, in src/skilltree/db/schema/graph.sql). The loop this replaces
    -- compared every new skill with every skill seen before it: quadratic in the prerequisites.
    RETURN coalesce((
        WITH RECURSIVE reached(id, level) AS (
            SELECT p_skill, interval '0'
            UNION
            SELECT d.depends_on_id, m.level + interval '1 day' - interval '24 hours'
            FROM reached m
            JOIN skill_dependencies d ON d.skill_id = m.id
            JOIN skills p ON p.id = d.depends_on_id AND p.is_active
        )
        SELECT jsonb_agg(jsonb_build_object('id', p.id, 'name', p.name)
                         ORDER BY extract(day FROM m.level), p.name COLLATE "C", p.id COLLATE "C")
        FROM reached m
        JOIN skills p ON p.id = m.id
        LEFT JOIN user_skill_progress r ON r.user_id = p_user AND r.skill_id = p.id
        WHERE m.id <> p_skill AND NOT progress_satisfies(r.status, p.is_optional)), '[]');
END
$function$;
"""

# What 0027 installed, copied from the live schema: frozen, never edited.
DOWNGRADE = r"""
CREATE OR REPLACE FUNCTION public.progress_missing_prerequisites(p_user text, p_skill text)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
AS $function$
BEGIN
    -- Breadth first over active prerequisites, each skill once at its nearest distance, in one
    -- recursive query. The distance is an interval of n days minus n*24 hours, which PostgreSQL
    -- compares (and hashes) as equal whatever n: UNION keeps each skill once, from the first,
    -- nearest level it is met at, while the day part still counts the level (the trick of
    -- skill_dependency_chain, migration 0012). The loop this replaces compared every new skill
    -- with every skill seen before it: quadratic in the prerequisites.
    RETURN coalesce((
        WITH RECURSIVE reached(id, level) AS (
            SELECT p_skill, interval '0'
            UNION
            SELECT d.depends_on_id, m.level + interval '1 day' - interval '24 hours'
            FROM reached m
            JOIN skill_dependencies d ON d.skill_id = m.id
            JOIN skills p ON p.id = d.depends_on_id AND p.is_active
        )
        SELECT jsonb_agg(jsonb_build_object('id', p.id, 'name', p.name)
                         ORDER BY extract(day FROM m.level), p.name COLLATE "C", p.id COLLATE "C")
        FROM reached m
        JOIN skills p ON p.id = m.id
        LEFT JOIN user_skill_progress r ON r.user_id = p_user AND r.skill_id = p.id
        WHERE m.id <> p_skill AND NOT progress_satisfies(r.status, p.is_optional)), '[]');
END
$function$;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
