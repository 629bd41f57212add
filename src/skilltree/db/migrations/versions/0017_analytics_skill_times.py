"""analytics: time to complete per skill kept as a snapshot per tree, refreshed when it changed

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05

The p50/p95 time to complete every skill of a tree was a grouped percentile pass over every
COMPLETED `user_skill_progress` row of the tree on every read: seconds at 10,000 learners x
1,000 skills. Percentiles do not fold into small exact counters (a median needs every value),
so the figure becomes a snapshot: `analytics_skill_times` (per skill) and
`analytics_time_snapshots` (per tree: through which progress event it is exact, when computed,
when last found current). `analytics_refresh_skill_times()` recomputes one tree in that same
grouped pass; `analytics_skill_times_check()` (run by `skilltree analytics refresh-times`)
marks current the trees that had no COMPLETE or ACTIVITY event since, and lists the others.
A statement-level trigger on deleting COMPLETED rows (a deleted learner) marks their trees
stale; inserts and updates never fire it. See docs/analytics.md.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE = r"""
-- One row per skill that has learners who completed it, as of the tree's snapshot. No foreign
-- keys (as the other aggregates): rows of a deleted skill or tree go at the next check, and are
-- never shown meanwhile (readers join live skills).
CREATE TABLE analytics_skill_times (
    skill_id text PRIMARY KEY,
    skill_tree_id text NOT NULL,
    completed integer NOT NULL,
    p50_minutes double precision,
    p95_minutes double precision,
    p50_spent_minutes double precision,
    p95_spent_minutes double precision
);
CREATE INDEX idx_analytics_skill_times_tree ON analytics_skill_times (skill_tree_id);

-- One row per tree with a snapshot. Every progress event up to `through_event` (an id of
-- progress_events, all committed: the fold's watermark) is reflected in the tree's
-- analytics_skill_times; `computed_at` is when the grouped pass ran, `checked_at` when the
-- snapshot was last found current (no COMPLETE or ACTIVITY event of the tree since it).
-- `stale`: completed rows of the tree were deleted since (a deleted learner).
-- `computed_at` NULL: never computed yet (a deletion marked a tree nobody had asked for).
CREATE TABLE analytics_time_snapshots (
    skill_tree_id text PRIMARY KEY,
    through_event bigint NOT NULL DEFAULT 0,
    computed_at timestamptz,
    checked_at timestamptz,
    stale boolean NOT NULL DEFAULT false
);

ALTER TABLE analytics_skill_times ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics_time_snapshots ENABLE ROW LEVEL SECURITY;
CREATE POLICY analytics_skill_times_policy ON analytics_skill_times FOR SELECT
    TO skilltree_app USING (skill_tree_id IN (SELECT id FROM analytics_trees));
CREATE POLICY analytics_time_snapshots_policy ON analytics_time_snapshots FOR SELECT
    TO skilltree_app USING (skill_tree_id IN (SELECT id FROM analytics_trees));
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON analytics_skill_times, analytics_time_snapshots
    FROM skilltree_app;

-- Recompute tree `p_tree`'s snapshot in one grouped pass over its COMPLETED rows; returns the
-- event id it is exact through. With `p_only_missing`, only when the tree has none yet (else
-- returns the existing one's). The API's role may only ask for a missing one, and only for a
-- tree its learner may analyse: a request can make at most one computation per tree, ever;
-- recomputing is for `skilltree analytics refresh-times` (the owner).
-- Locks: the tree's snapshot row is taken before the pass, so a concurrent refresh waits, and a
-- concurrent deletion of completed rows either commits before the pass (which then sees it) or
-- waits to mark the new snapshot stale. Learners' writes are never waited for nor held up.
CREATE FUNCTION analytics_refresh_skill_times(p_tree text, p_only_missing boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    w bigint;
    snapshot analytics_time_snapshots;
BEGIN
    -- SET ROLE is not undone by SECURITY DEFINER: the `role` setting still names the caller's.
    IF current_setting('role', true) = 'skilltree_app' THEN
        IF NOT EXISTS (
                SELECT FROM skill_trees t JOIN users u
                    ON u.id = current_setting('app.current_user_id', true)
                WHERE t.id = p_tree
                  AND (u.role = 'ADMIN' OR (u.role = 'AUTHOR' AND t.created_by = u.id))) THEN
            RAISE EXCEPTION 'may not analyse tree %', p_tree USING ERRCODE = 'insufficient_privilege';
        END IF;
        p_only_missing := true;
    END IF;
    IF NOT EXISTS (SELECT FROM skill_trees WHERE id = p_tree) THEN
        RETURN NULL;
    END IF;
    -- Waits for a concurrent first computation (its row is not committed yet), then locks.
    INSERT INTO analytics_time_snapshots (skill_tree_id) VALUES (p_tree)
    ON CONFLICT (skill_tree_id) DO NOTHING;
    SELECT * INTO STRICT snapshot FROM analytics_time_snapshots
    WHERE skill_tree_id = p_tree FOR UPDATE;
    IF p_only_missing AND snapshot.computed_at IS NOT NULL THEN
        RETURN snapshot.through_event;
    END IF;
    -- Every event up to the fold's watermark has committed: the pass below (a later statement,
    -- so a later view of the data) sees all they changed.
    SELECT folded_through INTO w FROM analytics_fold_state;

    DELETE FROM analytics_skill_times WHERE skill_tree_id = p_tree;
    INSERT INTO analytics_skill_times
        (skill_id, skill_tree_id, completed, p50_minutes, p95_minutes, p50_spent_minutes,
         p95_spent_minutes)
    SELECT p.skill_id, p_tree, count(*),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM p.completed_at
               - coalesce(p.started_at, p.completed_at)) / 60),
           percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM p.completed_at
               - coalesce(p.started_at, p.completed_at)) / 60),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY p.time_spent_minutes),
           percentile_cont(0.95) WITHIN GROUP (ORDER BY p.time_spent_minutes)
    FROM user_skill_progress p
    WHERE p.skill_tree_id = p_tree AND p.status = 'COMPLETED'
    GROUP BY p.skill_id;

    UPDATE analytics_time_snapshots
    SET through_event = w, computed_at = now(), checked_at = now(), stale = false
    WHERE skill_tree_id = p_tree;
    RETURN w;
END
$$;
REVOKE ALL ON FUNCTION analytics_refresh_skill_times(text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics_refresh_skill_times(text, boolean) TO skilltree_app;

-- For `skilltree analytics refresh-times`: up to the fold's watermark, marks current every
-- snapshot whose tree had no COMPLETE or ACTIVITY event since it (the only events that change a
-- COMPLETED row: completing it, or logging more time on it), drops the snapshots of deleted
-- trees, and returns the trees whose snapshot must be recomputed (changed, stale, or never
-- computed). One pass over the events' primary key since the oldest snapshot's watermark.
CREATE FUNCTION analytics_skill_times_check() RETURNS SETOF text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    w bigint := (SELECT folded_through FROM analytics_fold_state);
    -- Only current snapshots need the events (the others are recomputed anyway).
    lo bigint := (SELECT min(through_event) FROM analytics_time_snapshots
                  WHERE computed_at IS NOT NULL AND NOT stale);
BEGIN
    DELETE FROM analytics_time_snapshots s
    WHERE NOT EXISTS (SELECT FROM skill_trees t WHERE t.id = s.skill_tree_id);
    DELETE FROM analytics_skill_times m
    WHERE NOT EXISTS (SELECT FROM skill_trees t WHERE t.id = m.skill_tree_id);

    CREATE TEMP TABLE analytics_changed ON COMMIT DROP AS
    SELECT e.skill_tree_id, max(e.id) AS newest
    FROM progress_events e
    WHERE e.id > coalesce(lo, w) AND e.id <= w AND e.kind IN ('COMPLETE', 'ACTIVITY')
      AND e.skill_tree_id IS NOT NULL
    GROUP BY e.skill_tree_id;

    UPDATE analytics_time_snapshots s
    SET through_event = w, checked_at = now()
    WHERE s.through_event < w AND s.computed_at IS NOT NULL AND NOT s.stale
      AND NOT EXISTS (SELECT FROM analytics_changed c
                      WHERE c.skill_tree_id = s.skill_tree_id AND c.newest > s.through_event);

    RETURN QUERY
    SELECT s.skill_tree_id FROM analytics_time_snapshots s
    WHERE s.computed_at IS NULL OR s.stale OR s.through_event < w
    ORDER BY s.skill_tree_id;
    DROP TABLE analytics_changed;
END
$$;
REVOKE ALL ON FUNCTION analytics_skill_times_check() FROM PUBLIC, skilltree_app;

-- Deleting COMPLETED rows (with a learner, or a skill) changes the percentiles without any
-- event: mark the trees' snapshots stale (a row for a tree without one, so a first computation
-- racing the deletion is redone too). Per statement, with the deleted rows as a table: inserts
-- and updates never fire it.
CREATE FUNCTION analytics_skill_times_deleted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO analytics_time_snapshots AS s (skill_tree_id, stale)
    SELECT DISTINCT g.skill_tree_id, true FROM gone g WHERE g.status = 'COMPLETED'
    ORDER BY 1
    ON CONFLICT (skill_tree_id) DO UPDATE SET stale = true WHERE NOT s.stale;
    RETURN NULL;
END
$$;
CREATE TRIGGER analytics_skill_times_deleted AFTER DELETE ON user_skill_progress
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
    EXECUTE FUNCTION analytics_skill_times_deleted();
"""

DOWNGRADE = """
DROP TRIGGER analytics_skill_times_deleted ON user_skill_progress;
DROP FUNCTION analytics_skill_times_deleted();
DROP FUNCTION analytics_skill_times_check();
DROP FUNCTION analytics_refresh_skill_times(text, boolean);
DROP TABLE analytics_time_snapshots;
DROP TABLE analytics_skill_times;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
