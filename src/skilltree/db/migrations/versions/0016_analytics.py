"""analytics: views that read across learners for authors and admins, aggregates of the audit trail

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-22

Authors analyse their trees, admins every tree and the platform, but the API runs under
row-level security as one learner. The views below run with their owner's rights (the tables'
owner, not subject to the policies) and let through only what the caller may analyse
(`analytics_trees`, `analytics_platform_access`); the API role may only read them.

The funnel and the per-day and per-period series are too large to count on every read
(10,000 learners x 1,000 skills is ten million rows), and triggers on the progress tables would
cost every progress event. Instead `analytics_fold()` folds progress_events into three small
tables (per skill, per tree and day, per platform period) up to a watermark, and readers count
the events after it: exact at every moment, nothing added to the write path. Deleting events (with a learner) takes back what was folded, in a statement-level
trigger that inserts never fire. See docs/analytics.md and docs/security.md.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE = r"""
-- ---- who may analyse what ----------------------------------------------------------------------
-- Views run with their owner's rights (the tables' owner, whom row-level security does not
-- filter), so they can read across learners; each one lets through only what the caller may
-- analyse. The caller is `current_user` (a view does not change it) and, for the API's role, the
-- learner id the request set: authors see their own trees, admins every tree and the platform.
-- Any other role granted access (the owner, the CLI) is an administrator already.

CREATE VIEW analytics_trees AS
SELECT t.id
FROM skill_trees t
WHERE current_user <> 'skilltree_app'
   OR EXISTS (
        SELECT FROM users u
        WHERE u.id = current_setting('app.current_user_id', true)
          AND (u.role = 'ADMIN' OR (u.role = 'AUTHOR' AND t.created_by = u.id)));

CREATE VIEW analytics_platform_access AS
SELECT true AS granted
WHERE current_user <> 'skilltree_app'
   OR EXISTS (
        SELECT FROM users u
        WHERE u.id = current_setting('app.current_user_id', true) AND u.role = 'ADMIN');

CREATE VIEW analytics_enrolments AS
SELECT e.id, e.user_id, e.skill_tree_id, e.status, e.progress_percent, e.skills_completed,
       e.total_skills, e.time_spent_minutes, e.started_at, e.last_activity_at, e.completed_at,
       e.created_at
FROM user_skill_tree_progress e
WHERE e.skill_tree_id IN (SELECT id FROM analytics_trees);

CREATE VIEW analytics_skill_progress AS
SELECT p.user_id, p.skill_id, p.skill_tree_id, p.status, p.time_spent_minutes,
       p.attempts_count, p.unlocked_at, p.started_at, p.last_activity_at, p.completed_at,
       p.struggling_indicators, p.engagement_score
FROM user_skill_progress p
WHERE p.skill_tree_id IN (SELECT id FROM analytics_trees);

CREATE VIEW analytics_tree_events AS
SELECT e.id, e.occurred_at, e.user_id, e.kind, e.skill_tree_id, e.skill_id, e.xp_delta
FROM progress_events e
WHERE e.skill_tree_id IN (SELECT id FROM analytics_trees);

CREATE VIEW analytics_platform_events AS
SELECT e.id, e.occurred_at, e.user_id, e.kind, e.skill_tree_id, e.skill_id, e.xp_delta
FROM progress_events e
WHERE EXISTS (SELECT FROM analytics_platform_access);

CREATE VIEW analytics_platform_enrolments AS
SELECT e.user_id, e.skill_tree_id, e.created_at
FROM user_skill_tree_progress e
WHERE EXISTS (SELECT FROM analytics_platform_access);

-- ---- aggregates folded from progress_events ---------------------------------------------
-- Every event up to `folded_through` (an id of progress_events) is counted in the tables below;
-- readers add the events after it (the tail), so every figure is exact at any moment.

CREATE TABLE analytics_fold_state (
    id boolean PRIMARY KEY DEFAULT true CONSTRAINT analytics_fold_state_single_check CHECK (id),
    folded_through bigint NOT NULL DEFAULT 0,
    folded_at timestamptz
);
INSERT INTO analytics_fold_state DEFAULT VALUES;

CREATE TABLE analytics_skill_counts (
    skill_id text PRIMARY KEY,
    skill_tree_id text NOT NULL,
    unlocked integer NOT NULL DEFAULT 0,
    started integer NOT NULL DEFAULT 0,
    completed integer NOT NULL DEFAULT 0,
    skipped integer NOT NULL DEFAULT 0
);
CREATE INDEX idx_analytics_skill_counts_tree ON analytics_skill_counts (skill_tree_id);

CREATE TABLE analytics_tree_days (
    skill_tree_id text NOT NULL,
    day date NOT NULL,
    enrolments integer NOT NULL DEFAULT 0,
    completions integer NOT NULL DEFAULT 0,
    active_learners integer NOT NULL DEFAULT 0,
    PRIMARY KEY (skill_tree_id, day)
);

-- Learners active on the whole platform per UTC day, week (from Monday) and month, each
-- counted once per period.
CREATE TABLE analytics_platform_periods (
    period text NOT NULL CONSTRAINT analytics_platform_periods_period_check
        CHECK (period IN ('day', 'week', 'month')),
    first_day date NOT NULL,
    active_learners integer NOT NULL DEFAULT 0,
    PRIMARY KEY (period, first_day)
);

ALTER TABLE analytics_platform_periods ENABLE ROW LEVEL SECURITY;
CREATE POLICY analytics_platform_periods_policy ON analytics_platform_periods FOR SELECT
    TO skilltree_app USING (EXISTS (SELECT FROM analytics_platform_access));
ALTER TABLE analytics_skill_counts ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics_tree_days ENABLE ROW LEVEL SECURITY;
CREATE POLICY analytics_skill_counts_policy ON analytics_skill_counts FOR SELECT TO skilltree_app
    USING (skill_tree_id IN (SELECT id FROM analytics_trees));
CREATE POLICY analytics_tree_days_policy ON analytics_tree_days FOR SELECT TO skilltree_app
    USING (skill_tree_id IN (SELECT id FROM analytics_trees));
REVOKE INSERT, UPDATE, DELETE ON analytics_fold_state, analytics_skill_counts,
    analytics_tree_days, analytics_platform_periods FROM skilltree_app;

-- The first day of the period ('day', 'week' or 'month') that `p_day` falls in.
CREATE FUNCTION analytics_period_start(p_period text, p_day date) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE p_period WHEN 'day' THEN p_day
                         ELSE date_trunc(p_period, p_day::timestamp)::date END
$$;

-- The day after the period that starts on `p_first`.
CREATE FUNCTION analytics_period_end(p_period text, p_first date) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (p_first + ('1 ' || p_period)::interval)::date
$$;

-- A learner is active in a tree on a day (UTC) with a START, COMPLETE, SKIP or ACTIVITY event
-- there, as for streaks.
CREATE FUNCTION analytics_learning_kind(p_kind "ProgressEventKind") RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT p_kind IN ('START', 'COMPLETE', 'SKIP', 'ACTIVITY')
$$;

-- The learner's time zone if PostgreSQL knows it, else UTC (as the streak rule does).
CREATE FUNCTION analytics_zone(p_zone text) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    PERFORM now() AT TIME ZONE nullif(p_zone, '');
    RETURN coalesce(nullif(p_zone, ''), 'UTC');
EXCEPTION WHEN invalid_parameter_value THEN
    RETURN 'UTC';
END
$$;

-- Fold every committed event after the watermark into the aggregates; returns how many. With
-- `p_min_tail`, only when at least that many events (by id) lie after the watermark: a reader
-- asks for that before it takes the watermark, without locking anything when the tail is short.
-- With `p_max_ids`, at most that range of ids after the watermark: a long history is folded in
-- short transactions (each holds the lock below only for its own part).
-- The share lock waits for every transaction still writing events and keeps new ones out for
-- the fold's few milliseconds: no event with an id at or below the new watermark can commit
-- later (identity values are handed out in order), so none is ever missed.
CREATE FUNCTION analytics_fold(p_min_tail bigint DEFAULT 0, p_max_ids bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    w_old bigint;
    w_new bigint;
    folded bigint;
BEGIN
    -- Counted, not taken from the ids' span (ids of rolled-back or deleted events leave gaps),
    -- and no further than needed: at most p_min_tail entries of the primary key.
    IF p_min_tail > 0 AND (SELECT count(*) FROM (
            SELECT FROM progress_events
            WHERE id > (SELECT folded_through FROM analytics_fold_state)
            LIMIT p_min_tail) tail) < p_min_tail THEN
        RETURN 0;
    END IF;
    SELECT folded_through INTO w_old FROM analytics_fold_state FOR UPDATE;
    LOCK TABLE progress_events IN SHARE MODE;
    SELECT coalesce(max(id), w_old) INTO w_new FROM progress_events WHERE id > w_old;
    -- Every id up to max(id) is final now, so any prefix of them may be folded alone.
    w_new := least(w_new, w_old + p_max_ids);
    IF w_new = w_old THEN
        RETURN 0;
    END IF;

    CREATE TEMP TABLE analytics_batch ON COMMIT DROP AS
    SELECT e.id, e.user_id, e.kind, e.skill_tree_id, e.skill_id,
           (e.occurred_at AT TIME ZONE 'UTC')::date AS day
    FROM progress_events e
    WHERE e.id > w_old AND e.id <= w_new AND e.skill_tree_id IS NOT NULL;
    GET DIAGNOSTICS folded = ROW_COUNT;

    INSERT INTO analytics_skill_counts AS c
        (skill_id, skill_tree_id, unlocked, started, completed, skipped)
    SELECT b.skill_id, s.skill_tree_id,
           count(*) FILTER (WHERE b.kind = 'UNLOCK'),
           count(*) FILTER (WHERE b.kind = 'START'),
           count(*) FILTER (WHERE b.kind = 'COMPLETE'),
           count(*) FILTER (WHERE b.kind = 'SKIP')
    FROM analytics_batch b
    JOIN skills s ON s.id = b.skill_id
    WHERE b.kind IN ('UNLOCK', 'START', 'COMPLETE', 'SKIP')
    GROUP BY b.skill_id, s.skill_tree_id
    ON CONFLICT (skill_id) DO UPDATE
    SET unlocked = c.unlocked + excluded.unlocked,
        started = c.started + excluded.started,
        completed = c.completed + excluded.completed,
        skipped = c.skipped + excluded.skipped;

    -- A (learner, tree, day) of the batch adds an active learner unless an event folded before
    -- already made that learner active there that day.
    INSERT INTO analytics_tree_days AS d
        (skill_tree_id, day, enrolments, completions, active_learners)
    SELECT x.skill_tree_id, x.day, sum(x.enrolments), sum(x.completions), sum(x.active)
    FROM (
        SELECT skill_tree_id, day,
               count(*) FILTER (WHERE kind = 'ENROLL') AS enrolments,
               count(*) FILTER (WHERE kind = 'COMPLETE') AS completions,
               0 AS active
        FROM analytics_batch
        GROUP BY skill_tree_id, day
        UNION ALL
        SELECT a.skill_tree_id, a.day, 0, 0, count(*)
        FROM (SELECT DISTINCT skill_tree_id, day, user_id
              FROM analytics_batch WHERE analytics_learning_kind(kind)) a
        WHERE w_old = 0 OR NOT EXISTS (
            SELECT FROM progress_events p
            WHERE p.user_id = a.user_id
              AND p.occurred_at >= a.day::timestamp AT TIME ZONE 'UTC'
              AND p.occurred_at < (a.day + 1)::timestamp AT TIME ZONE 'UTC'
              AND p.id <= w_old
              AND p.skill_tree_id = a.skill_tree_id
              AND analytics_learning_kind(p.kind))
        GROUP BY a.skill_tree_id, a.day
    ) x
    JOIN skill_trees t ON t.id = x.skill_tree_id
    GROUP BY x.skill_tree_id, x.day
    ON CONFLICT (skill_tree_id, day) DO UPDATE
    SET enrolments = d.enrolments + excluded.enrolments,
        completions = d.completions + excluded.completions,
        active_learners = d.active_learners + excluded.active_learners;

    -- The same for the platform: a (learner, period) of the batch adds an active learner to the
    -- period unless a folded event already made them active in it.
    INSERT INTO analytics_platform_periods AS pp (period, first_day, active_learners)
    SELECT a.period, a.first_day, count(*)
    FROM (SELECT DISTINCT p.period, analytics_period_start(p.period, d.day) AS first_day,
                 d.user_id
          FROM (SELECT DISTINCT user_id, day FROM analytics_batch
                WHERE analytics_learning_kind(kind)) d
          CROSS JOIN (VALUES ('day'), ('week'), ('month')) p (period)) a
    WHERE w_old = 0 OR NOT EXISTS (
        SELECT FROM progress_events e
        WHERE e.user_id = a.user_id
          AND e.occurred_at >= a.first_day::timestamp AT TIME ZONE 'UTC'
          AND e.occurred_at < analytics_period_end(a.period, a.first_day)::timestamp
                              AT TIME ZONE 'UTC'
          AND e.id <= w_old
          AND analytics_learning_kind(e.kind))
    GROUP BY a.period, a.first_day
    ON CONFLICT (period, first_day) DO UPDATE
    SET active_learners = pp.active_learners + excluded.active_learners;

    -- No foreign keys (the history outlives deleted skills and trees, as progress_events does):
    -- what belonged to a deleted skill or tree goes at the next fold.
    DELETE FROM analytics_skill_counts c
    WHERE NOT EXISTS (SELECT FROM skills s WHERE s.id = c.skill_id);
    DELETE FROM analytics_tree_days d
    WHERE NOT EXISTS (SELECT FROM skill_trees t WHERE t.id = d.skill_tree_id);

    DROP TABLE analytics_batch;
    UPDATE analytics_fold_state SET folded_through = w_new, folded_at = now();
    RETURN folded;
END
$$;
REVOKE ALL ON FUNCTION analytics_fold(bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics_fold(bigint, bigint) TO skilltree_app;

-- The watermark for a reader, with the newest event's id (the tail is at most the difference).
-- FOR SHARE holds it until the reader's transaction ends: no fold can move it meanwhile (a fold
-- in progress is waited for), so the aggregates and the tail the reader counts stay consistent.
CREATE FUNCTION analytics_watermark(OUT folded_through bigint, OUT folded_at timestamptz,
                                    OUT newest_event bigint)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT s.folded_through, s.folded_at,
           greatest(s.folded_through, (SELECT max(id) FROM progress_events))
    FROM analytics_fold_state s
    FOR SHARE OF s
$$;
REVOKE ALL ON FUNCTION analytics_watermark() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics_watermark() TO skilltree_app;

-- Events are never updated, but deleting a learner deletes theirs: take back what was folded.
-- Fires per statement, with the deleted rows as a table: inserts never pay for it.
CREATE FUNCTION analytics_unfold_deleted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    w bigint := (SELECT folded_through FROM analytics_fold_state);
BEGIN
    UPDATE analytics_skill_counts c
    SET unlocked = c.unlocked - g.unlocked,
        started = c.started - g.started,
        completed = c.completed - g.completed,
        skipped = c.skipped - g.skipped
    FROM (SELECT skill_id,
                 count(*) FILTER (WHERE kind = 'UNLOCK') AS unlocked,
                 count(*) FILTER (WHERE kind = 'START') AS started,
                 count(*) FILTER (WHERE kind = 'COMPLETE') AS completed,
                 count(*) FILTER (WHERE kind = 'SKIP') AS skipped
          FROM gone WHERE id <= w AND skill_id IS NOT NULL GROUP BY skill_id) g
    WHERE c.skill_id = g.skill_id;

    UPDATE analytics_tree_days d
    SET enrolments = d.enrolments - g.enrolments,
        completions = d.completions - g.completions,
        active_learners = d.active_learners - g.active
    FROM (
        SELECT skill_tree_id, day, sum(enrolments) AS enrolments,
               sum(completions) AS completions, sum(active) AS active
        FROM (
            SELECT skill_tree_id, (occurred_at AT TIME ZONE 'UTC')::date AS day,
                   count(*) FILTER (WHERE kind = 'ENROLL') AS enrolments,
                   count(*) FILTER (WHERE kind = 'COMPLETE') AS completions,
                   0 AS active
            FROM gone WHERE id <= w AND skill_tree_id IS NOT NULL
            GROUP BY 1, 2
            UNION ALL
            -- a learner no longer active there that day, once their last such event is gone
            SELECT a.skill_tree_id, a.day, 0, 0, count(*)
            FROM (SELECT DISTINCT skill_tree_id, (occurred_at AT TIME ZONE 'UTC')::date AS day,
                         user_id
                  FROM gone
                  WHERE id <= w AND skill_tree_id IS NOT NULL
                    AND analytics_learning_kind(kind)) a
            WHERE NOT EXISTS (
                SELECT FROM progress_events p
                WHERE p.user_id = a.user_id
                  AND p.occurred_at >= a.day::timestamp AT TIME ZONE 'UTC'
                  AND p.occurred_at < (a.day + 1)::timestamp AT TIME ZONE 'UTC'
                  AND p.id <= w
                  AND p.skill_tree_id = a.skill_tree_id
                  AND analytics_learning_kind(p.kind))
            GROUP BY 1, 2
        ) x
        GROUP BY 1, 2
    ) g
    WHERE d.skill_tree_id = g.skill_tree_id AND d.day = g.day;

    UPDATE analytics_platform_periods pp
    SET active_learners = pp.active_learners - g.active
    FROM (
        SELECT a.period, a.first_day, count(*) AS active
        FROM (SELECT DISTINCT p.period,
                     analytics_period_start(p.period, (occurred_at AT TIME ZONE 'UTC')::date)
                         AS first_day,
                     user_id
              FROM gone
              CROSS JOIN (VALUES ('day'), ('week'), ('month')) p (period)
              WHERE id <= w AND skill_tree_id IS NOT NULL AND analytics_learning_kind(kind)) a
        WHERE NOT EXISTS (
            SELECT FROM progress_events e
            WHERE e.user_id = a.user_id
              AND e.occurred_at >= a.first_day::timestamp AT TIME ZONE 'UTC'
              AND e.occurred_at < analytics_period_end(a.period, a.first_day)::timestamp
                                  AT TIME ZONE 'UTC'
              AND e.id <= w
              AND analytics_learning_kind(e.kind))
        GROUP BY a.period, a.first_day
    ) g
    WHERE pp.period = g.period AND pp.first_day = g.first_day;
    RETURN NULL;
END
$$;
CREATE TRIGGER analytics_unfold_deleted AFTER DELETE ON progress_events
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
    EXECUTE FUNCTION analytics_unfold_deleted();

-- A learner's pace against the tree's: the median of every enrolment's completed skills per
-- day since it started. Only an aggregate leaves the function, and only over 5 enrolments or
-- more, so it cannot tell one other learner's pace.
CREATE FUNCTION analytics_median_pace(p_tree text, p_now timestamptz) RETURNS double precision
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT CASE WHEN count(*) >= 5 THEN
               percentile_cont(0.5) WITHIN GROUP (
                   ORDER BY skills_completed
                            / greatest(extract(epoch FROM p_now - started_at) / 86400, 1.0))
           END
    FROM user_skill_tree_progress
    WHERE skill_tree_id = p_tree AND started_at IS NOT NULL
$$;
REVOKE ALL ON FUNCTION analytics_median_pace(text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics_median_pace(text, timestamptz) TO skilltree_app;

REVOKE ALL ON analytics_trees, analytics_platform_access, analytics_enrolments,
    analytics_skill_progress, analytics_tree_events, analytics_platform_events,
    analytics_platform_enrolments FROM skilltree_app;
GRANT SELECT ON analytics_trees, analytics_platform_access, analytics_enrolments,
    analytics_skill_progress, analytics_tree_events, analytics_platform_events,
    analytics_platform_enrolments TO skilltree_app;

"""

DOWNGRADE = """
DROP TRIGGER analytics_unfold_deleted ON progress_events;
DROP FUNCTION analytics_unfold_deleted();
DROP FUNCTION analytics_fold(bigint, bigint);
DROP FUNCTION analytics_watermark();
DROP FUNCTION analytics_median_pace(text, timestamptz);
DROP FUNCTION analytics_learning_kind("ProgressEventKind");
DROP FUNCTION analytics_zone(text);
DROP TABLE analytics_platform_periods;
DROP FUNCTION analytics_period_end(text, date);
DROP FUNCTION analytics_period_start(text, date);
DROP TABLE analytics_tree_days;
DROP TABLE analytics_skill_counts;
DROP TABLE analytics_fold_state;
DROP VIEW analytics_platform_enrolments;
DROP VIEW analytics_platform_events;
DROP VIEW analytics_tree_events;
DROP VIEW analytics_skill_progress;
DROP VIEW analytics_enrolments;
DROP VIEW analytics_platform_access;
DROP VIEW analytics_trees;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
