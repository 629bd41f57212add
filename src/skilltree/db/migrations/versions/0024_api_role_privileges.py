"""accounts: the API's role reads no password hash, token hash nor email, changes no account,
and writes only its learner's profile

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06

Until now `skilltree_app` held SELECT, INSERT, UPDATE and DELETE on `users`, `user_sessions` and
`user_profiles` (0008), and the last two but `user_sessions` were outside row-level security: a
query as the role could read every password hash and email, make anyone an ADMIN, or change
another learner's XP. From here on (docs/security.md has the whole table):

- `users`: SELECT on every column but `email` and `password_hash`; INSERT of a new account, but
  not of `role`, `is_active`, `email_verified` (a new account is an active, unverified
  LEARNER); no UPDATE, no DELETE. Roles change only as the owner (the CLI).
- `user_sessions`: SELECT on every column but `token_hash` (still only the learner's rows);
  INSERT; UPDATE of `last_activity_at`, `is_active` and `ended_at` only; no DELETE.
- `user_profiles`: row-level security like the other learner tables for writes (INSERT and
  UPDATE of the learner's own row only), every row still readable (the leaderboard); no DELETE.
- Three SECURITY DEFINER functions give the role what it needs of the secrets, each for one
  account and each needing the password or the token:
  `account_password_settings(email, username)`: the hash's algorithm, parameters and salt
  (without the hash itself) and the hash's length, so the API can hash a password the same way;
  `account_verify_login(email, username, hashed)`: whether that hash equals the stored one
  (compared in the database, through SHA-256 of both, so timing reveals nothing of the stored
  one); if so records the login and makes the account the transaction's learner, and answers
  its id and email; `account_session(token_hash)`: the live session a token opens, its user and
  email, and makes that user the transaction's learner.
  EXECUTE on them is the role's only (not PUBLIC's).

Authentication thus runs as the role too: a request no longer needs the tables' owner for
anything. The progress engine (SECURITY INVOKER) writes only the acting learner's profile, which
the policy allows; `refresh_tree_enrolments` (SECURITY DEFINER) still recounts every learner of
a tree as the owner.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEARNER_ROW = "user_id = current_setting('app.current_user_id', true)"

UPGRADE = f"""
REVOKE ALL ON users, user_sessions, user_profiles FROM skilltree_app;

GRANT SELECT (id, username, first_name, last_name, avatar_url, is_active, email_verified,
              last_login_at, role, created_at, updated_at, created_by, updated_by)
    ON users TO skilltree_app;
-- Not role, is_active, email_verified: a new account takes their defaults.
GRANT INSERT (id, email, username, password_hash, first_name, last_name, avatar_url,
              last_login_at, created_by, updated_by)
    ON users TO skilltree_app;

GRANT SELECT (id, user_id, device_info, ip_address, started_at, last_activity_at, expires_at,
              ended_at, is_active)
    ON user_sessions TO skilltree_app;
GRANT INSERT ON user_sessions TO skilltree_app;
GRANT UPDATE (last_activity_at, is_active, ended_at) ON user_sessions TO skilltree_app;

GRANT SELECT, INSERT, UPDATE ON user_profiles TO skilltree_app;
ALTER TABLE user_profiles ENABLE ROW LEVEL SECURITY;
CREATE POLICY user_profiles_policy ON user_profiles FOR ALL TO skilltree_app
    USING ({LEARNER_ROW}) WITH CHECK ({LEARNER_ROW});
-- Permissive policies add up: every profile is readable (the leaderboard), only the learner's
-- own is written.
CREATE POLICY user_profiles_read_policy ON user_profiles FOR SELECT TO skilltree_app
    USING (true);

CREATE FUNCTION account_password_settings(
    p_email text, p_username text, OUT settings text, OUT hash_length integer)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    stored text;
BEGIN
    -- The active account with this (lower-cased) email, or else this username. Its hash is a
    -- PHC string, $argon2id$v=19$m=..,t=..,p=..$<salt>$<hash>: everything but the hash, and
    -- the hash's length in bytes (unpadded base64: 4 characters for 3 bytes).
    IF p_email IS NOT NULL THEN
        SELECT password_hash INTO stored FROM users WHERE email = p_email AND is_active;
    ELSE
        SELECT password_hash INTO stored FROM users WHERE username = p_username AND is_active;
    END IF;
    settings := substring(stored FROM '^(.*)\\$[^$]*$');
    hash_length := length(substring(stored FROM '\\$([^$]*)$')) * 3 / 4;
END
$$;

CREATE FUNCTION account_verify_login(
    p_email text, p_username text, p_hashed text, OUT user_id text, OUT email text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    account text;
BEGIN
    -- p_hashed: the password as the caller hashed it with account_password_settings. Compared
    -- through SHA-256 of both sides: how long the comparison takes says nothing of the stored
    -- hash. A match records the login and makes the account the transaction's learner.
    IF p_email IS NOT NULL THEN
        SELECT id INTO account FROM users WHERE users.email = p_email;
    ELSE
        SELECT id INTO account FROM users WHERE username = p_username;
    END IF;
    UPDATE users u SET last_login_at = now()
    WHERE u.id = account AND u.is_active AND p_hashed LIKE '$%'
      AND sha256(convert_to(u.password_hash, 'UTF8')) = sha256(convert_to(p_hashed, 'UTF8'))
    RETURNING u.id, u.email INTO user_id, email;
    IF FOUND THEN
        PERFORM set_config('app.current_user_id', user_id, true);
    END IF;
END
$$;

CREATE FUNCTION account_session(
    p_token_hash bytea, OUT session_id text, OUT user_id text, OUT email text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
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
$$;

REVOKE ALL ON FUNCTION account_password_settings(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION account_verify_login(text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION account_session(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION account_password_settings(text, text) TO skilltree_app;
GRANT EXECUTE ON FUNCTION account_verify_login(text, text, text) TO skilltree_app;
GRANT EXECUTE ON FUNCTION account_session(bytea) TO skilltree_app;
"""

# Back to 0008's grants: everything on the three tables, no policy on profiles.
DOWNGRADE = """
DROP FUNCTION account_session(bytea);
DROP FUNCTION account_verify_login(text, text, text);
DROP FUNCTION account_password_settings(text, text);
DROP POLICY user_profiles_read_policy ON user_profiles;
DROP POLICY user_profiles_policy ON user_profiles;
ALTER TABLE user_profiles DISABLE ROW LEVEL SECURITY;
REVOKE ALL ON users, user_sessions, user_profiles FROM skilltree_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON users, user_sessions, user_profiles TO skilltree_app;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
