"""the analytics watermark read on a standby without a lock

Revision ID: 0050
Revises: 0048
Create Date: 2026-12-07

Issue 17 part 2: the funnel, completions over time and the platform's active learners stayed on
the primary with read replicas: they read the aggregates' watermark with `analytics_watermark()`,
which takes `FOR SHARE` on the fold state so that no fold moves it while the request reads
(folding waits), and a standby refuses any row lock. On a standby nothing folds, and the API
reads a replica in one snapshot (REPEATABLE READ: db.replicas), so replay cannot move the
watermark under a request's later statements either: there the watermark is read without the
lock. On a primary nothing changes.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0050"
down_revision: str | None = "0048"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE = r"""
CREATE OR REPLACE FUNCTION public.analytics_watermark(OUT folded_through bigint, OUT folded_at timestamp with time zone, OUT newest_event bigint)
 RETURNS record
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'public', 'pg_temp'
AS $function$
BEGIN
    IF pg_is_in_recovery() THEN
        -- A standby: nothing folds here, and the request reads in one snapshot (a lock is
        -- refused in recovery).
        SELECT s.folded_through, s.folded_at,
               greatest(s.folded_through, (SELECT max(id) FROM progress_events))
        INTO folded_through, folded_at, newest_event
        FROM analytics_fold_state s;
    ELSE
        SELECT s.folded_through, s.folded_at,
               greatest(s.folded_through, (SELECT max(id) FROM progress_events))
        INTO folded_through, folded_at, newest_event
        FROM analytics_fold_state s
        FOR SHARE OF s;
    END IF;
END
$function$;
"""

DOWNGRADE = r"""
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
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
