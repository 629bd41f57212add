"""session tokens carry their user: the sign-in look-up finds the learner first

Revision ID: 0044
Revises: 0043
Create Date: 2026-12-07

Issue 18, blocker 10: the sign-in look-up joined `user_sessions` and `users` by the token's
hash alone, which a Citus cluster cannot route to one worker (the learner is found last). A new
session's token is the user's id, a dot and 256 random bits (`accounts.service.new_token`); only
the whole token's SHA-256 is stored, as before, so the id alone opens nothing and a token with
another user's id finds none of theirs. `account_session(hash, user)` looks the session up by
the user and the hash. Tokens issued before (no dot) are looked up by their hash alone: on one
PostgreSQL they keep working until they end or expire.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0044"
down_revision: str | None = "0043"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written by `skilltree db new-migration` from the live schema as 0043 left it
# (db/schema/accounts.sql): edit it into what this revision installs.
UPGRADE = r"""
DROP FUNCTION account_session(bytea);
CREATE FUNCTION public.account_session(p_token_hash bytea, p_user text, OUT session_id text, OUT user_id text, OUT email text)
 RETURNS record
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'public', 'pg_temp'
AS $function$
BEGIN
    -- The active, unexpired session of an active user whose token hashes to p_token_hash; its
    -- user becomes the transaction's learner. (The clock, not now(): a long transaction must
    -- not keep a session alive past its expiry.) p_user: the user the token names (tokens
    -- carry it since 0044), so the learner is found first, by the key of their rows; NULL for
    -- a token issued before, found by its hash alone.
    IF p_user IS NULL THEN
        SELECT s.id, s.user_id, u.email INTO session_id, user_id, email
        FROM user_sessions s JOIN users u ON u.id = s.user_id
        WHERE s.token_hash = p_token_hash AND s.is_active AND s.expires_at > clock_timestamp()
          AND u.is_active;
    ELSE
        SELECT s.id, s.user_id, u.email INTO session_id, user_id, email
        FROM user_sessions s JOIN users u ON u.id = s.user_id
        WHERE s.user_id = p_user AND u.id = p_user AND s.token_hash = p_token_hash
          AND s.is_active AND s.expires_at > clock_timestamp() AND u.is_active;
    END IF;
    IF FOUND THEN
        PERFORM set_config('app.current_user_id', user_id, true);
    END IF;
END
$function$;
REVOKE ALL ON FUNCTION account_session(bytea, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION account_session(bytea, text) TO skilltree_app;
"""

# What 0043 installed, copied from the live schema: frozen, never edited.
DOWNGRADE = r"""
DROP FUNCTION account_session(bytea, text);
CREATE FUNCTION public.account_session(p_token_hash bytea, OUT session_id text, OUT user_id text, OUT email text)
 RETURNS record
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'public', 'pg_temp'
AS $function$
BEGIN
    -- The active, unexpired session of an active user whose token hashes to p_token_hash; its
    -- user becomes the transaction's learner. (The clock, not now(): a long transaction must
    -- not keep a session alive past its expiry.)
    SELECT s.id, s.user_id, u.email INTO session_id, user_id, email
    FROM user_sessions s JOIN users u ON u.id = s.user_id
    WHERE s.token_hash = p_token_hash AND s.is_active AND s.expires_at > clock_timestamp()
      AND u.is_active;
    IF FOUND THEN
        PERFORM set_config('app.current_user_id', user_id, true);
    END IF;
END
$function$;
REVOKE ALL ON FUNCTION account_session(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION account_session(bytea) TO skilltree_app;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
