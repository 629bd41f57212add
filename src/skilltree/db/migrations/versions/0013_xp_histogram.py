"""xp_histogram: how many learners hold each XP total, kept exact by triggers on user_profiles

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22

A learner's rank is 1 + the learners with more XP. Counting them in `user_profiles` reads one
index entry per learner above (31-47 ms for a learner near the bottom of 1,000,000); summing this
table reads one row per distinct XP value above. Triggers move the counts in the
same transaction as any change of `user_profiles` (any writer): inserts and deletes per statement,
net per XP value; an XP change per row, only when the XP really changes (a profile update that
leaves XP alone costs nothing), at commit (a deferred trigger). Learners who hold the same XP
move the same histogram rows: an XP change never waits for another's, it adds to the value's row
when no one else holds it (folding in what others left pending for that value) or else appends
its change to `xp_histogram_pending`. (Waiting made 8 workers completing skills commit one at a
time.) The number of learners at a value is its row plus its pending rows. Until commit, a
transaction's own histogram does not show its XP changes yet. Bulk inserts and deletes lock rows
in ascending XP order, so they cannot deadlock. The functions run as SECURITY DEFINER: the API
role may read the histogram but not write it (docs/security.md).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HISTOGRAM = """
CREATE TABLE xp_histogram (
    total_xp integer PRIMARY KEY,
    learners integer NOT NULL
);

CREATE TABLE xp_histogram_pending (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    total_xp integer NOT NULL,
    learners integer NOT NULL
);
CREATE INDEX idx_xp_histogram_pending_xp ON xp_histogram_pending (total_xp);

CREATE FUNCTION xp_histogram_apply() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    -- Net change per XP value; rows locked in ascending XP so concurrent moves never deadlock.
    IF TG_OP = 'INSERT' THEN
        INSERT INTO xp_histogram AS h (total_xp, learners)
        SELECT total_xp, count(*) FROM new_rows GROUP BY total_xp ORDER BY total_xp
        ON CONFLICT (total_xp) DO UPDATE SET learners = h.learners + excluded.learners;
    ELSE
        INSERT INTO xp_histogram AS h (total_xp, learners)
        SELECT total_xp, -count(*) FROM old_rows GROUP BY total_xp ORDER BY total_xp
        ON CONFLICT (total_xp) DO UPDATE SET learners = h.learners + excluded.learners;
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION xp_histogram_add(p_xp integer, p_learners integer) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    -- p_learners more learners hold p_xp, without waiting for anyone.
    PERFORM FROM xp_histogram WHERE total_xp = p_xp FOR UPDATE SKIP LOCKED;
    IF NOT FOUND AND NOT EXISTS (SELECT FROM xp_histogram WHERE total_xp = p_xp) THEN
        INSERT INTO xp_histogram (total_xp, learners) VALUES (p_xp, 0) ON CONFLICT DO NOTHING;
        PERFORM FROM xp_histogram WHERE total_xp = p_xp FOR UPDATE SKIP LOCKED;
    END IF;
    IF NOT FOUND THEN  -- another transaction holds the row: leave the change pending
        INSERT INTO xp_histogram_pending (total_xp, learners) VALUES (p_xp, p_learners);
        RETURN;
    END IF;
    -- Holding the row, fold in the changes committed as pending for it meanwhile.
    WITH folded AS (
        DELETE FROM xp_histogram_pending WHERE total_xp = p_xp RETURNING learners
    )
    UPDATE xp_histogram
    SET learners = learners + p_learners + (SELECT coalesce(sum(learners), 0) FROM folded)
    WHERE total_xp = p_xp;
END
$$;

CREATE FUNCTION xp_histogram_move() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    -- One learner's XP changed (at commit).
    PERFORM xp_histogram_add(OLD.total_xp, -1);
    PERFORM xp_histogram_add(NEW.total_xp, 1);
    RETURN NULL;
END
$$;

CREATE FUNCTION xp_histogram_clear() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    DELETE FROM xp_histogram;
    DELETE FROM xp_histogram_pending;
    RETURN NULL;
END
$$;

CREATE TRIGGER user_profiles_xp_histogram_insert AFTER INSERT ON user_profiles
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION xp_histogram_apply();
CREATE CONSTRAINT TRIGGER user_profiles_xp_histogram_update
    AFTER UPDATE OF total_xp ON user_profiles
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (OLD.total_xp IS DISTINCT FROM NEW.total_xp)
    EXECUTE FUNCTION xp_histogram_move();
CREATE TRIGGER user_profiles_xp_histogram_delete AFTER DELETE ON user_profiles
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION xp_histogram_apply();
CREATE TRIGGER user_profiles_xp_histogram_truncate AFTER TRUNCATE ON user_profiles
    FOR EACH STATEMENT EXECUTE FUNCTION xp_histogram_clear();

INSERT INTO xp_histogram (total_xp, learners)
SELECT total_xp, count(*) FROM user_profiles GROUP BY total_xp;

REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON xp_histogram FROM skilltree_app;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON xp_histogram_pending FROM skilltree_app;
REVOKE ALL ON FUNCTION xp_histogram_add(integer, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION xp_histogram_apply() FROM PUBLIC;
REVOKE ALL ON FUNCTION xp_histogram_move() FROM PUBLIC;
REVOKE ALL ON FUNCTION xp_histogram_clear() FROM PUBLIC;
"""


def upgrade() -> None:
    op.execute(HISTOGRAM)


def downgrade() -> None:
    for event in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER user_profiles_xp_histogram_{event} ON user_profiles")
    op.execute("DROP FUNCTION xp_histogram_apply()")
    op.execute("DROP FUNCTION xp_histogram_move()")
    op.execute("DROP FUNCTION xp_histogram_add(integer, integer)")
    op.execute("DROP FUNCTION xp_histogram_clear()")
    op.execute("DROP TABLE xp_histogram_pending")
    op.execute("DROP TABLE xp_histogram")
