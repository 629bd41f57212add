"""progress: enrolling without forced generic plans, unlocking by equalities, roots from ranks

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-07

`progress_enrol` ran with `plan_cache_mode = force_generic_plan` (0021): its generic plan of the
roots query took a tree to be a fifth of all skills and scanned every skill and edge of the
database (1.0-1.4 s for a 10,000-skill tree under load). Custom plans were not safe either:
`progress_unlock`'s candidates were a LEFT JOIN of the learner's rows kept by "status IS NULL
OR LOCKED", then checked by `progress_held_back(p_user, ARRAY[c.id])`; a custom plan that took
10,000 candidates for a few compared each with every skill of the tree in a nested loop (10^9
pairs, 63 s). Now:

- `progress_unlock` meets each candidate's skill, row and prerequisites by equalities only (the
  row by NOT EXISTS of a row not LOCKED, the prerequisites by `d.skill_id = c.id`), which an
  index, a hash or a merge answers: linear in the candidates whatever the plan's estimates.
- `progress_enrol` runs without the setting (custom plans, PostgreSQL's default).
- `progress_enrol_learner` takes the roots from the tree's stored ranks when they are current
  (`skill_ranks`, 0035: by the tree's index, the roots alone), else as before.

`progress_skill_event` keeps the setting: without it, two statements it runs stay on custom
plans, re-planned at every event (`progress_unlock`'s, whose candidates are a constant array in
a custom plan; `progress_finish`'s achievements, whose `rewards = 0` folds), which cost a
completion 5-6 ms more on a 10,000-skill tree (7 ms forced generic, 13 ms custom, on a loaded
machine). Its plans are linear either way now.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0036"
down_revision: str | None = "0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written by `skilltree db new-migration` from the live schema as 0035 left it
# (db/schema/progress.sql): edit it into what this revision installs.
UPGRADE = r"""
CREATE OR REPLACE FUNCTION public.progress_enrol(p_user text, p_slug text, p_now timestamp with time zone, p_unpublished_ok boolean DEFAULT false)
 RETURNS jsonb
 LANGUAGE plpgsql
AS $function$
DECLARE
    tree record;
    prof user_profiles;
BEGIN
    -- The learner first, then the tree; a learner not enrolled yet holds the tree (KEY SHARE)
    -- and reads it again: as progress_skill_event.
    prof := progress_lock_profile(p_user);
    SELECT t.id, t.is_published, t.created_by,
           EXISTS (SELECT FROM user_skill_tree_progress e
                   WHERE e.user_id = p_user AND e.skill_tree_id = t.id) AS enrolled
    INTO tree FROM skill_trees t WHERE t.slug = p_slug;
    IF FOUND AND NOT tree.enrolled THEN
        SELECT t.id, t.is_published, t.created_by, false AS enrolled
        INTO tree FROM skill_trees t WHERE t.id = tree.id FOR KEY SHARE;
    END IF;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('refused', 'NotFound');
    ELSIF NOT tree.is_published AND NOT p_unpublished_ok THEN
        RETURN jsonb_build_object('refused', 'Unpublished', 'createdBy', tree.created_by);
    ELSIF tree.enrolled THEN
        RETURN progress_finish(prof, tree.id, NULL, NULL, p_now, false, 0, 0, false, '[]');
    END IF;
    RETURN progress_finish(prof, tree.id, NULL, NULL, p_now, true, 0, 0, false,
                           progress_enrol_learner(p_user, tree.id, p_now));
END
$function$;

CREATE OR REPLACE FUNCTION public.progress_unlock(p_user text, p_tree text, p_candidates text[], p_now timestamp with time zone)
 RETURNS jsonb
 LANGUAGE plpgsql
AS $function$
DECLARE
    unlocked jsonb;
BEGIN
    -- Every candidate (every active skill of the tree when NULL) without a row or LOCKED whose
    -- prerequisites are now satisfied becomes AVAILABLE, with its unlock time and one UNLOCK
    -- event (only for the rows this statement wrote: a racing tree edit writes the others).
    -- Whatever plan the planner makes (custom or generic), each candidate meets the skill, the
    -- learner's row and the prerequisites that are its own by equalities that an index, a hash
    -- or a merge answers, never a filter over all of them: a custom plan of the previous shape
    -- (a LEFT JOIN of the learner's rows kept by "status IS NULL OR LOCKED", then
    -- progress_held_back(p_user, ARRAY[c.id])) took 10,000 candidates for a few and compared
    -- each with every skill of the tree in a nested loop (10^9 pairs, 63 s).
    WITH candidates AS MATERIALIZED (
        -- (driven by the ids, not "p_candidates IS NULL OR ...": one plan for both)
        SELECT c.id
        FROM unnest(coalesce(p_candidates, ARRAY(
                SELECT id FROM skills WHERE skill_tree_id = p_tree))) AS k(id)
        JOIN skills c ON c.id = k.id
        WHERE c.skill_tree_id = p_tree AND c.is_active
          AND NOT EXISTS (
              SELECT FROM user_skill_progress r
              WHERE r.user_id = p_user AND r.skill_id = c.id AND r.status <> 'LOCKED')
    ), ready AS MATERIALIZED (
        SELECT c.id FROM candidates c
        WHERE NOT EXISTS (
            SELECT FROM skill_dependencies d
            JOIN skills p ON p.id = d.depends_on_id AND p.is_active
            LEFT JOIN user_skill_progress pr ON pr.user_id = p_user AND pr.skill_id = p.id
            WHERE d.skill_id = c.id AND NOT progress_satisfies(pr.status, p.is_optional))
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
$function$;

CREATE OR REPLACE FUNCTION public.progress_enrol_learner(p_user text, p_tree text, p_now timestamp with time zone)
 RETURNS jsonb
 LANGUAGE plpgsql
AS $function$
DECLARE
    -- The learner holds the tree (progress_enrol): no writer changes its graph meanwhile.
    ranked boolean := EXISTS (SELECT FROM skill_tree_ranks WHERE skill_tree_id = p_tree);
BEGIN
    INSERT INTO user_skill_tree_progress (
        id, user_id, skill_tree_id, total_skills, created_at)
    SELECT new_row_id(), p_user, p_tree, count(*), p_now FROM skills
    WHERE skill_tree_id = p_tree AND is_active;
    INSERT INTO progress_events (user_id, kind, skill_tree_id, occurred_at) VALUES (p_user, 'ENROLL', p_tree, p_now);
    -- Only skills without active prerequisites, and dependents of what the learner has already
    -- satisfied, can be free: those are the candidates, not every skill of the tree. The roots
    -- are the tree's stored ranks' when they are current (skill_ranks, by the tree's index: the
    -- roots alone), else the skills without an active prerequisite (only one of the two runs).
    RETURN progress_unlock(p_user, p_tree, ARRAY(
        SELECT k.skill_id FROM skill_ranks k
        WHERE ranked AND k.skill_tree_id = p_tree AND k.prerequisites = 0
        UNION
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
          AND progress_satisfies(r.status, p.is_optional)), p_now);
END
$function$;
"""

# What 0035 installed, copied from the live schema: frozen, never edited.
DOWNGRADE = r"""
CREATE OR REPLACE FUNCTION public.progress_enrol(p_user text, p_slug text, p_now timestamp with time zone, p_unpublished_ok boolean DEFAULT false)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET plan_cache_mode TO 'force_generic_plan'
AS $function$
DECLARE
    tree record;
    prof user_profiles;
BEGIN
    -- The learner first, then the tree; a learner not enrolled yet holds the tree (KEY SHARE)
    -- and reads it again: as progress_skill_event.
    prof := progress_lock_profile(p_user);
    SELECT t.id, t.is_published, t.created_by,
           EXISTS (SELECT FROM user_skill_tree_progress e
                   WHERE e.user_id = p_user AND e.skill_tree_id = t.id) AS enrolled
    INTO tree FROM skill_trees t WHERE t.slug = p_slug;
    IF FOUND AND NOT tree.enrolled THEN
        SELECT t.id, t.is_published, t.created_by, false AS enrolled
        INTO tree FROM skill_trees t WHERE t.id = tree.id FOR KEY SHARE;
    END IF;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('refused', 'NotFound');
    ELSIF NOT tree.is_published AND NOT p_unpublished_ok THEN
        RETURN jsonb_build_object('refused', 'Unpublished', 'createdBy', tree.created_by);
    ELSIF tree.enrolled THEN
        RETURN progress_finish(prof, tree.id, NULL, NULL, p_now, false, 0, 0, false, '[]');
    END IF;
    RETURN progress_finish(prof, tree.id, NULL, NULL, p_now, true, 0, 0, false,
                           progress_enrol_learner(p_user, tree.id, p_now));
END
$function$;

CREATE OR REPLACE FUNCTION public.progress_unlock(p_user text, p_tree text, p_candidates text[], p_now timestamp with time zone)
 RETURNS jsonb
 LANGUAGE plpgsql
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION public.progress_enrol_learner(p_user text, p_tree text, p_now timestamp with time zone)
 RETURNS jsonb
 LANGUAGE plpgsql
AS $function$
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
$function$;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
