"""enrol reads the tree's active skill count its writers store

Revision ID: 0046
Revises: 0045
Create Date: 2026-12-07

Issue 12, part 1: enrolling counted the tree's active skills for the enrolment's `total_skills`
with `count(*)` over `skills`: a scan of every skill of the tree (of every tree, when the tree
holds most of the table), on every enrolment. At 10,000 skills that count was most of enrolling
in a tree with 100 roots (about 50 of 78 ms a call, taking turns with the same function reading
a stored count, on a loaded 2-core machine).

The tree's writers already read its whole active graph to store its ranks, in the same
transaction as the change (graph.ranks); they now store the count of its active skills with the
mark that the ranks are current, `skill_tree_ranks.active_skills`, and any change of the tree's
skills deletes the mark as before (skills_bump_tree_versions), so a stored count is never stale.
`progress_enrol_learner` reads it with the mark; a tree whose ranks are not current (changed
by plain SQL, a seed) is counted as before. Existing marks get their count here.

The downgrade restores the function and drops the column.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0046"
down_revision: str | None = "0045"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written by `skilltree db new-migration` from the live schema as 0045 left it
# (db/schema/progress.sql): edit it into what this revision installs.
UPGRADE = r"""
ALTER TABLE skill_tree_ranks ADD COLUMN active_skills integer;
UPDATE skill_tree_ranks r SET active_skills = (
    SELECT count(*) FROM skills s WHERE s.skill_tree_id = r.skill_tree_id AND s.is_active);
ALTER TABLE skill_tree_ranks ALTER COLUMN active_skills SET NOT NULL,
    ADD CONSTRAINT skill_tree_ranks_active_skills_check CHECK (active_skills >= 0);
COMMENT ON COLUMN skill_tree_ranks.active_skills IS 'The tree''s active skills when its ranks were stored (what enrolling counts as the enrolment''s total_skills).';

CREATE OR REPLACE FUNCTION public.progress_enrol_learner(p_user text, p_tree text, p_now timestamp with time zone)
 RETURNS jsonb
 LANGUAGE plpgsql
AS $function$
DECLARE
    -- The learner holds the tree (progress_enrol): no writer changes its graph meanwhile.
    -- Its active skills, counted by its writers with its ranks (0046): NULL when the ranks are
    -- not current (a change by plain SQL, a seed), then counted here.
    active integer := (SELECT active_skills FROM skill_tree_ranks WHERE skill_tree_id = p_tree);
    ranked boolean := active IS NOT NULL;
    roots jsonb := '[]';
    freed jsonb;
BEGIN
    IF NOT ranked THEN
        active := (SELECT count(*) FROM skills WHERE skill_tree_id = p_tree AND is_active);
    END IF;
    INSERT INTO user_skill_tree_progress (
        id, user_id, skill_tree_id, total_skills, created_at)
    VALUES (new_row_id(), p_user, p_tree, active, p_now);
    INSERT INTO progress_events (user_id, kind, skill_tree_id, occurred_at) VALUES (p_user, 'ENROLL', p_tree, p_now);
    -- Only skills without active prerequisites, and dependents of what the learner has already
    -- satisfied, can be free: those are the candidates, not every skill of the tree.
    IF ranked THEN
        -- The tree's stored ranks are current (skill_ranks, by the tree's index: the roots
        -- alone): each root is an active skill of the tree without an active prerequisite, free
        -- by definition, so it needs none of progress_unlock's checks (0045: they were a fifth
        -- of enrolling in a tree with 1,000 roots). As progress_unlock: AVAILABLE with its
        -- unlock time and one UNLOCK event for each row this statement wrote (none for a row
        -- already AVAILABLE or further).
        WITH rows AS (
            INSERT INTO user_skill_progress AS r (
                id, user_id, skill_id, skill_tree_id, status, unlocked_at)
            SELECT new_row_id(), p_user, k.skill_id, p_tree, 'AVAILABLE', p_now
            FROM skill_ranks k WHERE k.skill_tree_id = p_tree AND k.prerequisites = 0
            ON CONFLICT (user_id, skill_id)
                DO UPDATE SET status = 'AVAILABLE', unlocked_at = excluded.unlocked_at
                WHERE r.status = 'LOCKED'
            RETURNING r.skill_id
        ), events AS (
            INSERT INTO progress_events (user_id, kind, skill_tree_id, skill_id, occurred_at)
            SELECT p_user, 'UNLOCK', p_tree, skill_id, p_now FROM rows
            ORDER BY skill_id COLLATE "C"
        )
        -- Each name by its skill's primary key, whatever the planner guesses of `rows` (a
        -- join let it hash every skill of every tree for a few roots).
        SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'id', rows.skill_id,
                   'name', (SELECT s.name FROM skills s WHERE s.id = rows.skill_id))
                   ORDER BY rows.skill_id COLLATE "C"), '[]')
        INTO roots FROM rows;
    END IF;
    -- The rest through progress_unlock's checks: the roots when the ranks are not current (the
    -- skills without an active prerequisite), and the dependents of what the learner satisfied
    -- before enrolling (rarely any). The one statement of the engine planned again at each
    -- call (a custom plan folds `ranked`: 0036), once per enrolment, whose writes cost far more.
    freed := progress_unlock(p_user, p_tree, ARRAY(
        SELECT s.id FROM skills s
        WHERE NOT ranked AND s.skill_tree_id = p_tree AND s.is_active AND NOT EXISTS (
            SELECT FROM skill_dependencies d
            JOIN skills p ON p.id = d.depends_on_id AND p.is_active
            WHERE d.skill_id = s.id)
        UNION
        SELECT d.skill_id
        FROM user_skill_progress r
        JOIN skills p ON p.id = r.skill_id
        JOIN skill_dependencies d ON d.depends_on_id = r.skill_id
        WHERE r.user_id = p_user AND r.skill_tree_id = p_tree
          AND coalesce(r.status = 'COMPLETED' OR (r.status = 'SKIPPED' AND p.is_optional),
                       false)), p_now);
    IF freed = '[]' THEN
        RETURN roots;
    ELSIF roots = '[]' THEN
        RETURN freed;
    END IF;
    -- Both: one list by id, as progress_unlock lists what it unlocks.
    RETURN (SELECT jsonb_agg(u ORDER BY u->>'id' COLLATE "C")
            FROM (SELECT jsonb_array_elements(roots) UNION ALL
                  SELECT jsonb_array_elements(freed)) AS unlocked(u));
END
$function$;
"""

# What 0045 installed, copied from the live schema: frozen, never edited.
DOWNGRADE = r"""
CREATE OR REPLACE FUNCTION public.progress_enrol_learner(p_user text, p_tree text, p_now timestamp with time zone)
 RETURNS jsonb
 LANGUAGE plpgsql
AS $function$
DECLARE
    -- The learner holds the tree (progress_enrol): no writer changes its graph meanwhile.
    ranked boolean := EXISTS (SELECT FROM skill_tree_ranks WHERE skill_tree_id = p_tree);
    roots jsonb := '[]';
    freed jsonb;
BEGIN
    INSERT INTO user_skill_tree_progress (
        id, user_id, skill_tree_id, total_skills, created_at)
    SELECT new_row_id(), p_user, p_tree, count(*), p_now FROM skills
    WHERE skill_tree_id = p_tree AND is_active;
    INSERT INTO progress_events (user_id, kind, skill_tree_id, occurred_at) VALUES (p_user, 'ENROLL', p_tree, p_now);
    -- Only skills without active prerequisites, and dependents of what the learner has already
    -- satisfied, can be free: those are the candidates, not every skill of the tree.
    IF ranked THEN
        -- The tree's stored ranks are current (skill_ranks, by the tree's index: the roots
        -- alone): each root is an active skill of the tree without an active prerequisite, free
        -- by definition, so it needs none of progress_unlock's checks (0045: they were a fifth
        -- of enrolling in a tree with 1,000 roots). As progress_unlock: AVAILABLE with its
        -- unlock time and one UNLOCK event for each row this statement wrote (none for a row
        -- already AVAILABLE or further).
        WITH rows AS (
            INSERT INTO user_skill_progress AS r (
                id, user_id, skill_id, skill_tree_id, status, unlocked_at)
            SELECT new_row_id(), p_user, k.skill_id, p_tree, 'AVAILABLE', p_now
            FROM skill_ranks k WHERE k.skill_tree_id = p_tree AND k.prerequisites = 0
            ON CONFLICT (user_id, skill_id)
                DO UPDATE SET status = 'AVAILABLE', unlocked_at = excluded.unlocked_at
                WHERE r.status = 'LOCKED'
            RETURNING r.skill_id
        ), events AS (
            INSERT INTO progress_events (user_id, kind, skill_tree_id, skill_id, occurred_at)
            SELECT p_user, 'UNLOCK', p_tree, skill_id, p_now FROM rows
            ORDER BY skill_id COLLATE "C"
        )
        -- Each name by its skill's primary key, whatever the planner guesses of `rows` (a
        -- join let it hash every skill of every tree for a few roots).
        SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'id', rows.skill_id,
                   'name', (SELECT s.name FROM skills s WHERE s.id = rows.skill_id))
                   ORDER BY rows.skill_id COLLATE "C"), '[]')
        INTO roots FROM rows;
    END IF;
    -- The rest through progress_unlock's checks: the roots when the ranks are not current (the
    -- skills without an active prerequisite), and the dependents of what the learner satisfied
    -- before enrolling (rarely any). The one statement of the engine planned again at each
    -- call (a custom plan folds `ranked`: 0036), once per enrolment, whose writes cost far more.
    freed := progress_unlock(p_user, p_tree, ARRAY(
        SELECT s.id FROM skills s
        WHERE NOT ranked AND s.skill_tree_id = p_tree AND s.is_active AND NOT EXISTS (
            SELECT FROM skill_dependencies d
            JOIN skills p ON p.id = d.depends_on_id AND p.is_active
            WHERE d.skill_id = s.id)
        UNION
        SELECT d.skill_id
        FROM user_skill_progress r
        JOIN skills p ON p.id = r.skill_id
        JOIN skill_dependencies d ON d.depends_on_id = r.skill_id
        WHERE r.user_id = p_user AND r.skill_tree_id = p_tree
          AND coalesce(r.status = 'COMPLETED' OR (r.status = 'SKIPPED' AND p.is_optional),
                       false)), p_now);
    IF freed = '[]' THEN
        RETURN roots;
    ELSIF roots = '[]' THEN
        RETURN freed;
    END IF;
    -- Both: one list by id, as progress_unlock lists what it unlocks.
    RETURN (SELECT jsonb_agg(u ORDER BY u->>'id' COLLATE "C")
            FROM (SELECT jsonb_array_elements(roots) UNION ALL
                  SELECT jsonb_array_elements(freed)) AS unlocked(u));
END
$function$;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
    op.execute("ALTER TABLE skill_tree_ranks DROP COLUMN active_skills")
