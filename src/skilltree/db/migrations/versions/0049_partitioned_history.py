"""progress: the event history in monthly range partitions

Revision ID: 0049
Revises: 0048
Create Date: 2026-12-07

Issue 17, part 5: `progress_events` only grows. It becomes a table partitioned by range of
`occurred_at`, one partition a month (UTC), plus a DEFAULT partition, so that no event ever waits
for a partition to exist: an event of a month without its partition lands in the default one,
and `skilltree db housekeeping` gives the month its partition and moves those rows into it
(`progress_history_add_month`). The partitions live in the schema `progress_history`, out of
`public`: the API's role has no privilege on them nor on the schema (it reads and writes
through `progress_events`, whose policy applies), and each partition carries the parent's
policy with row-level security enabled anyway. Old months can be detached into the schema
`progress_archive` and attached again (`skilltree db history`).

The table is converted in place: the rows are copied into the partitioned table with their ids
(the identity sequence goes on where it was), the primary key, indexes and the foreign key are
built after the copy, the two views over it and its triggers are made again, and the whole is
analysed. The months from the oldest event's to two after the current one get partitions.

The downgrade copies the rows back into one plain table, as 0047 left it; it refuses while
archived months wait in `progress_archive` (attach them first: `skilltree db history restore`).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0049"
down_revision: str | None = "0048"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = """
    occurred_at timestamp with time zone DEFAULT now() NOT NULL,
    user_id text NOT NULL,
    kind "ProgressEventKind" NOT NULL,
    skill_tree_id text,
    skill_id text,
    achievement_id text,
    xp_delta integer DEFAULT 0 NOT NULL,
    details jsonb DEFAULT '{}'::jsonb NOT NULL
"""
IDENTITY = (
    "id bigint GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME progress_events_id_seq "
    "START WITH 1 INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 CACHE 1 NO CYCLE) "
    "NOT NULL"
)

# The old table steps aside (its views and triggers go with it; they are made again below on
# the new one), its sequence too, so that the new table takes every name.
SET_ASIDE = """
LOCK TABLE progress_events IN ACCESS EXCLUSIVE MODE;
DROP VIEW analytics_tree_events;
DROP VIEW analytics_platform_events;
ALTER TABLE progress_events RENAME TO progress_events_before;
ALTER TABLE progress_events_before RENAME CONSTRAINT progress_events_pkey TO progress_events_before_pkey;
ALTER TABLE progress_events_before RENAME CONSTRAINT progress_events_user_id_fkey TO progress_events_before_user_id_fkey;
ALTER INDEX idx_progress_event_id RENAME TO idx_progress_event_id_before;
ALTER INDEX idx_progress_event_time RENAME TO idx_progress_event_time_before;
ALTER INDEX idx_progress_event_tree_time RENAME TO idx_progress_event_tree_time_before;
ALTER SEQUENCE progress_events_id_seq RENAME TO progress_events_before_id_seq;
DROP POLICY progress_events_policy ON progress_events_before;
"""

# Everything the table carries besides its rows and indexes, on the new table.
DRESS = """
SELECT setval('progress_events_id_seq', last_value, is_called) FROM progress_events_before_id_seq;
DROP TABLE progress_events_before;
ALTER TABLE progress_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY progress_events_policy ON progress_events AS PERMISSIVE FOR ALL TO skilltree_app
    USING ((user_id = current_setting('app.current_user_id'::text, true)))
    WITH CHECK ((user_id = current_setting('app.current_user_id'::text, true)));
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE progress_events TO skilltree_app;
GRANT SELECT, USAGE ON SEQUENCE progress_events_id_seq TO skilltree_app;
CREATE TRIGGER progress_events_append_only BEFORE UPDATE ON public.progress_events FOR EACH ROW EXECUTE FUNCTION progress_events_refuse_update();
CREATE TRIGGER analytics_unfold_deleted AFTER DELETE ON public.progress_events REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION analytics_unfold_deleted();
CREATE OR REPLACE VIEW analytics_platform_events AS
 SELECT id,
    occurred_at,
    user_id,
    kind,
    skill_tree_id,
    skill_id,
    xp_delta
   FROM progress_events e
  WHERE (EXISTS ( SELECT
           FROM analytics_platform_access));
CREATE OR REPLACE VIEW analytics_tree_events AS
 SELECT id,
    occurred_at,
    user_id,
    kind,
    skill_tree_id,
    skill_id,
    xp_delta
   FROM progress_events e
  WHERE (skill_tree_id IN ( SELECT analytics_trees.id
           FROM analytics_trees));
REVOKE ALL ON TABLE analytics_platform_events, analytics_tree_events FROM skilltree_app;
GRANT SELECT ON TABLE analytics_platform_events, analytics_tree_events TO skilltree_app;
"""

INDEXES = """
ALTER TABLE progress_events ADD CONSTRAINT progress_events_pkey PRIMARY KEY (user_id, occurred_at, id);
CREATE INDEX idx_progress_event_id ON progress_events USING btree (id);
CREATE INDEX idx_progress_event_time ON progress_events USING btree (occurred_at);
CREATE INDEX idx_progress_event_tree_time ON progress_events USING btree (skill_tree_id, occurred_at);
ALTER TABLE progress_events ADD CONSTRAINT progress_events_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE;
"""

UPGRADE = (
    r"""
CREATE SCHEMA progress_history;
COMMENT ON SCHEMA progress_history IS 'The partitions of progress_events, one a month (UTC) and a default one (migration 0049). Read and written through progress_events only.';
CREATE SCHEMA progress_archive;
COMMENT ON SCHEMA progress_archive IS 'Months of progress_events detached by `skilltree db history archive`, attached again by `restore`.';
"""
    + SET_ASIDE
    + f"CREATE TABLE progress_events ({IDENTITY},{COLUMNS}) PARTITION BY RANGE (occurred_at);\n"
    + r"""
CREATE FUNCTION progress_history_add_month(p_month date, p_restore boolean DEFAULT false)
RETURNS boolean
LANGUAGE plpgsql
SET search_path TO 'public', 'pg_temp'
AS $$
DECLARE
    first_day date := date_trunc('month', p_month)::date;
    name text := 'progress_events_' || to_char(p_month, 'YYYY_MM');
    lower_bound timestamptz := first_day::timestamp AT TIME ZONE 'UTC';
    upper_bound timestamptz := (first_day + interval '1 month')::timestamp AT TIME ZONE 'UTC';
BEGIN
    IF to_regclass(format('progress_history.%I', name)) IS NOT NULL THEN
        RETURN false;
    ELSIF to_regclass(format('progress_archive.%I', name)) IS NOT NULL THEN
        -- An archived month comes back only when asked (skilltree db history restore).
        IF NOT p_restore THEN
            RETURN false;
        END IF;
        EXECUTE format('ALTER TABLE progress_archive.%I SET SCHEMA progress_history', name);
    ELSIF p_restore THEN
        RETURN false;
    ELSE
        -- Built apart, then attached: attaching locks progress_events in SHARE UPDATE
        -- EXCLUSIVE mode only, so events keep coming in (CREATE TABLE ... PARTITION OF would
        -- lock them all out).
        EXECUTE format('CREATE TABLE progress_history.%I (LIKE progress_events INCLUDING DEFAULTS)', name);
        EXECUTE format('ALTER TABLE progress_history.%I ENABLE ROW LEVEL SECURITY', name);
        EXECUTE format(
            'CREATE POLICY progress_events_policy ON progress_history.%I AS PERMISSIVE FOR ALL TO skilltree_app'
            ' USING ((user_id = current_setting(''app.current_user_id''::text, true)))'
            ' WITH CHECK ((user_id = current_setting(''app.current_user_id''::text, true)))', name);
    END IF;
    -- The month's events waiting in the default partition move in first (attaching checks
    -- that the default one holds none of the month). Straight on the partitions: no trigger of
    -- progress_events fires, the analytics' aggregates stay as they are.
    EXECUTE format(
        'WITH moved AS (DELETE FROM progress_history.progress_events_default'
        ' WHERE occurred_at >= %L AND occurred_at < %L RETURNING *)'
        ' INSERT INTO progress_history.%I SELECT * FROM moved', lower_bound, upper_bound, name);
    EXECUTE format(
        'ALTER TABLE progress_events ATTACH PARTITION progress_history.%I FOR VALUES FROM (%L) TO (%L)',
        name, lower_bound, upper_bound);
    RETURN true;
END
$$;
REVOKE ALL ON FUNCTION progress_history_add_month(date, boolean) FROM PUBLIC, skilltree_app;
COMMENT ON FUNCTION progress_history_add_month(date, boolean) IS 'Gives the month of p_month (UTC) its partition of progress_events, moving its events out of the default partition; false when it has one (or an archived one, unless p_restore: then that one is attached again). Housekeeping calls it for the months ahead and for every month the default partition holds.';

CREATE TABLE progress_history.progress_events_default (LIKE progress_events INCLUDING DEFAULTS);
ALTER TABLE progress_history.progress_events_default ENABLE ROW LEVEL SECURITY;
CREATE POLICY progress_events_policy ON progress_history.progress_events_default AS PERMISSIVE FOR ALL TO skilltree_app
    USING ((user_id = current_setting('app.current_user_id'::text, true)))
    WITH CHECK ((user_id = current_setting('app.current_user_id'::text, true)));
ALTER TABLE progress_events ATTACH PARTITION progress_history.progress_events_default DEFAULT;
SELECT progress_history_add_month(month::date)
FROM generate_series(
    date_trunc('month', coalesce(
        (SELECT min(occurred_at) FROM progress_events_before), now()) AT TIME ZONE 'UTC'),
    date_trunc('month', now() AT TIME ZONE 'UTC') + interval '2 months',
    interval '1 month') month;
INSERT INTO progress_events OVERRIDING SYSTEM VALUE SELECT * FROM progress_events_before;
"""
    + INDEXES
    + DRESS
    + r"""
-- The newest event from the identity sequence, not max(id): that read one index per partition.
-- (Ids of rolled-back events count too: the tail it gives is an upper bound, as it says.)
CREATE OR REPLACE FUNCTION public.analytics_watermark(OUT folded_through bigint, OUT folded_at timestamp with time zone, OUT newest_event bigint)
 RETURNS record
 LANGUAGE sql
 SECURITY DEFINER
 SET search_path TO 'public', 'pg_temp'
AS $function$
    SELECT s.folded_through, s.folded_at,
           greatest(s.folded_through, pg_sequence_last_value('progress_events_id_seq'))
    FROM analytics_fold_state s
    FOR SHARE OF s
$function$;
ANALYZE progress_events;
"""
)

DOWNGRADE = (
    r"""
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_tables WHERE schemaname = 'progress_archive') THEN
        RAISE EXCEPTION 'progress_archive holds archived months of progress_events: attach them first (skilltree db history restore)';
    END IF;
END
$$;
"""
    + SET_ASIDE
    + f"CREATE TABLE progress_events ({IDENTITY},{COLUMNS});\n"
    + "INSERT INTO progress_events OVERRIDING SYSTEM VALUE SELECT * FROM progress_events_before;\n"
    + INDEXES
    + DRESS
    + r"""
DROP FUNCTION progress_history_add_month(date, boolean);
CREATE OR REPLACE FUNCTION public.analytics_watermark(OUT folded_through bigint, OUT folded_at timestamp with time zone, OUT newest_event bigint)
 RETURNS record
 LANGUAGE sql
 SECURITY DEFINER
 SET search_path TO 'public', 'pg_temp'
AS $function$
    SELECT s.folded_through, s.folded_at,
           greatest(s.folded_through, (SELECT max(id) FROM progress_events))
    FROM analytics_fold_state s
    FOR SHARE OF s
$function$;
DROP SCHEMA progress_history;
DROP SCHEMA progress_archive;
ANALYZE progress_events;
"""
)


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
