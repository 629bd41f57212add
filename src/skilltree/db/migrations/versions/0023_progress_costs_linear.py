"""progress: enrolling, unlocking and refusing cost what they touch, not the tree's size or its square

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06

`progress_enrol_learner` asked `progress_unlock` about every active skill of the tree, each one
checked against its prerequisites: 318 ms to enrol in a tree of 10,000 skills (a root every 10th),
against 93 ms for writing the same 1,000 rows and events by hand. Only two kinds of skill can be
free at enrolment: those without active prerequisites, and dependents of a skill the learner has
already satisfied (rows kept from before). Those are the candidates now (as
`progress_unlock_enrolled` does after a tree changes); what is unlocked is the same.

`progress_unlock` answered the unlocked skills by joining two CTEs the planner takes for one row
each: a nested loop, quadratic in the skills unlocked (999,000 rows compared to unlock 1,000). It
now looks their names up by primary key.

`progress_missing_prerequisites` (what a refused start or completion lists) compared each skill
it reached with every skill seen before it (`<> ALL (seen)`): a learner asking to start the last
skill of a 100,000-skill tree kept a backend busy for minutes. One recursive query now reaches
each prerequisite once, at its nearest distance; the answer is the same.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE = r"""
CREATE OR REPLACE FUNCTION progress_missing_prerequisites(p_user text, p_skill text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
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
$$;

CREATE OR REPLACE FUNCTION progress_unlock(
    p_user text, p_tree text, p_candidates text[], p_now timestamptz
) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    unlocked jsonb;
BEGIN
    -- Every candidate (every active skill of the tree when NULL) without a row or LOCKED whose
    -- prerequisites are now satisfied becomes AVAILABLE, with its unlock time and one UNLOCK
    -- event (only for the rows this statement wrote: a racing tree edit writes the others).
    WITH candidates AS MATERIALIZED (
        -- (driven by the ids, not "p_candidates IS NULL OR ...": PL/pgSQL keeps a generic plan)
        SELECT c.id, c.name
        FROM unnest(coalesce(p_candidates, ARRAY(
                SELECT id FROM skills WHERE skill_tree_id = p_tree))) AS k(id)
        JOIN skills c ON c.id = k.id
        LEFT JOIN user_skill_progress r ON r.user_id = p_user AND r.skill_id = c.id
        WHERE c.skill_tree_id = p_tree AND c.is_active
          AND (r.status IS NULL OR r.status = 'LOCKED')
    ), ready AS MATERIALIZED (
        SELECT id, name FROM candidates c
        WHERE NOT EXISTS (SELECT FROM progress_held_back(p_user, ARRAY[c.id]))
    ), rows AS (
        INSERT INTO user_skill_progress AS r (
            id, user_id, skill_id, skill_tree_id, status, unlocked_at)
        SELECT new_row_id(), p_user, id, p_tree, 'AVAILABLE', p_now FROM ready
        ON CONFLICT (user_id, skill_id)
            DO UPDATE SET status = 'AVAILABLE', unlocked_at = excluded.unlocked_at
            WHERE r.status = 'LOCKED'
        RETURNING r.skill_id
    ), events AS (
        INSERT INTO progress_events (user_id, kind, skill_tree_id, skill_id, occurred_at)
        SELECT p_user, 'UNLOCK', p_tree, skill_id, p_now FROM rows ORDER BY skill_id COLLATE "C"
    )
    -- The names by each written row's skill (its primary key): the planner takes both CTEs
    -- for one row each, and a join of the two was a nested loop, quadratic in what unlocked.
    SELECT coalesce(jsonb_agg(jsonb_build_object('id', s.id, 'name', s.name)
                              ORDER BY s.id COLLATE "C"), '[]')
    INTO unlocked FROM rows JOIN skills s ON s.id = rows.skill_id;
    RETURN unlocked;
END
$$;

CREATE OR REPLACE FUNCTION progress_enrol_learner(p_user text, p_tree text, p_now timestamptz)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO user_skill_tree_progress (
        id, user_id, skill_tree_id, total_skills, created_at)
    SELECT new_row_id(), p_user, p_tree, count(*), p_now FROM skills
    WHERE skill_tree_id = p_tree AND is_active;
    INSERT INTO progress_events (user_id, kind, skill_tree_id, occurred_at) VALUES (p_user, 'ENROLL', p_tree, p_now);
    -- Only skills without active prerequisites, and dependents of what the learner has already
    -- satisfied, can be free: those are the candidates, not every skill of the tree.
    RETURN progress_unlock(p_user, p_tree, ARRAY(
        SELECT s.id FROM skills s
        WHERE s.skill_tree_id = p_tree AND s.is_active AND NOT EXISTS (
            SELECT FROM skill_dependencies d
            JOIN skills p ON p.id = d.depends_on_id AND p.is_active
            WHERE d.skill_id = s.id)
        UNION
        SELECT d.skill_id
        FROM user_skill_progress r
        JOIN skills p ON p.id = r.skill_id
        JOIN skill_dependencies d ON d.depends_on_id = r.skill_id
        WHERE r.user_id = p_user AND r.skill_tree_id = p_tree
          AND progress_satisfies(r.status, p.is_optional)), p_now);
END
$$;
"""

DOWNGRADE = r"""
CREATE OR REPLACE FUNCTION progress_missing_prerequisites(p_user text, p_skill text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    seen text[] := ARRAY[p_skill];
    level text[] := ARRAY[p_skill];
    found text[] := '{}';
    depths integer[] := '{}';
    depth integer := 0;
    following text[];
BEGIN
    -- Breadth first over active prerequisites: each skill at its nearest distance, once.
    LOOP
        depth := depth + 1;
        SELECT array_agg(DISTINCT d.depends_on_id) INTO following
        FROM skill_dependencies d JOIN skills p ON p.id = d.depends_on_id AND p.is_active
        WHERE d.skill_id = ANY (level) AND d.depends_on_id <> ALL (seen);
        EXIT WHEN following IS NULL;
        seen := seen || following;
        found := found || following;
        depths := depths || array_fill(depth, ARRAY[cardinality(following)]);
        level := following;
    END LOOP;
    RETURN coalesce((
        SELECT jsonb_agg(jsonb_build_object('id', p.id, 'name', p.name)
                         ORDER BY m.depth, p.name COLLATE "C", p.id COLLATE "C")
        FROM unnest(found, depths) AS m(id, depth)
        JOIN skills p ON p.id = m.id
        LEFT JOIN user_skill_progress r ON r.user_id = p_user AND r.skill_id = p.id
        WHERE NOT progress_satisfies(r.status, p.is_optional)), '[]');
END
$$;

CREATE OR REPLACE FUNCTION progress_unlock(
    p_user text, p_tree text, p_candidates text[], p_now timestamptz
) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    unlocked jsonb;
BEGIN
    -- Every candidate (every active skill of the tree when NULL) without a row or LOCKED whose
    -- prerequisites are now satisfied becomes AVAILABLE, with its unlock time and one UNLOCK
    -- event (only for the rows this statement wrote: a racing tree edit writes the others).
    WITH candidates AS MATERIALIZED (
        -- (driven by the ids, not "p_candidates IS NULL OR ...": PL/pgSQL keeps a generic plan)
        SELECT c.id, c.name
        FROM unnest(coalesce(p_candidates, ARRAY(
                SELECT id FROM skills WHERE skill_tree_id = p_tree))) AS k(id)
        JOIN skills c ON c.id = k.id
        LEFT JOIN user_skill_progress r ON r.user_id = p_user AND r.skill_id = c.id
        WHERE c.skill_tree_id = p_tree AND c.is_active
          AND (r.status IS NULL OR r.status = 'LOCKED')
    ), ready AS MATERIALIZED (
        SELECT id, name FROM candidates c
        WHERE NOT EXISTS (SELECT FROM progress_held_back(p_user, ARRAY[c.id]))
    ), rows AS (
        INSERT INTO user_skill_progress AS r (
            id, user_id, skill_id, skill_tree_id, status, unlocked_at)
        SELECT new_row_id(), p_user, id, p_tree, 'AVAILABLE', p_now FROM ready
        ON CONFLICT (user_id, skill_id)
            DO UPDATE SET status = 'AVAILABLE', unlocked_at = excluded.unlocked_at
            WHERE r.status = 'LOCKED'
        RETURNING r.skill_id
    ), events AS (
        INSERT INTO progress_events (user_id, kind, skill_tree_id, skill_id, occurred_at)
        SELECT p_user, 'UNLOCK', p_tree, skill_id, p_now FROM rows ORDER BY skill_id COLLATE "C"
    )
    SELECT coalesce(jsonb_agg(jsonb_build_object('id', ready.id, 'name', ready.name)
                              ORDER BY ready.id COLLATE "C"), '[]')
    INTO unlocked FROM ready JOIN rows ON rows.skill_id = ready.id;
    RETURN unlocked;
END
$$;

CREATE OR REPLACE FUNCTION progress_enrol_learner(p_user text, p_tree text, p_now timestamptz)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO user_skill_tree_progress (
        id, user_id, skill_tree_id, total_skills, created_at)
    SELECT new_row_id(), p_user, p_tree, count(*), p_now FROM skills
    WHERE skill_tree_id = p_tree AND is_active;
    INSERT INTO progress_events (user_id, kind, skill_tree_id, occurred_at) VALUES (p_user, 'ENROLL', p_tree, p_now);
    RETURN progress_unlock(p_user, p_tree, NULL, p_now);
END
$$;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
