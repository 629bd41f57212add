"""users.username is unique whatever its case: Maya_Chen and maya_chen are one name

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-08

A unique index on `lower(username)` next to the spec's exact `users_username_key`. Accounts that
already share a name when case is ignored would make `CREATE UNIQUE INDEX` fail with a bare
"could not create unique index" naming one of them; the migration looks first and stops with every
clash listed (name, then each account's id and spelling), to be renamed by hand. Nothing is
renamed automatically: which account keeps the name is a person's decision.

Sign-in by username ignores case too: the account functions of 0024 (`account_password_settings`,
`account_verify_login`) find the username by `lower(username)`, the index's expression, and
`account_password_settings` also answers the account's id (the sign-in throttle counts failures
per account, whichever of email or username names it). The downgrade restores 0024's.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHOWN = 50
"""At most this many clashing names in the error (the hint's query lists them all)."""

# The slice is spaced out: SQLAlchemy would read a colon followed by digits as a bound parameter.
REFUSE_CLASHES = f"""
DO $$
DECLARE
    clashes text[];
    total int;
BEGIN
    SELECT array_agg(clash ORDER BY name), count(*) INTO clashes, total
    FROM (
        SELECT lower(username) AS name,
               format('%s (%s)', lower(username),
                      string_agg(id || ' ' || username, ', ' ORDER BY created_at, id)) AS clash
        FROM users
        GROUP BY lower(username)
        HAVING count(*) > 1
    ) AS grouped;
    IF total > 0 THEN
        RAISE EXCEPTION '% usernames are each taken by more than one account when case is '
                        'ignored: %', total,
                        array_to_string(clashes[1 : {SHOWN}], '; ')
                        || CASE WHEN total > {SHOWN}
                                THEN format('; and %s more', total - {SHOWN}) ELSE '' END
            USING ERRCODE = 'unique_violation',
                  HINT = 'Before migrating, rename all but one account of each (UPDATE users '
                         'SET username = ... WHERE id = ...); SELECT lower(username), '
                         'array_agg(id) FROM users GROUP BY 1 HAVING count(*) > 1 lists them '
                         'all. See docs/operations.md.';
    END IF;
END
$$
"""


# Whole definitions (0024's, with the username found by lower(username)).
ACCOUNT_FUNCTIONS = """
DROP FUNCTION account_password_settings(text, text);
CREATE FUNCTION account_password_settings(
    p_email text, p_username text, OUT user_id text, OUT settings text, OUT hash_length integer)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    stored text;
BEGIN
    -- The active account with this (lower-cased) email, or else this username (any case), and
    -- its id. Its hash is a
    -- PHC string, $argon2id$v=19$m=..,t=..,p=..$<salt>$<hash>: everything but the hash, and
    -- the hash's length in bytes (unpadded base64: 4 characters for 3 bytes).
    IF p_email IS NOT NULL THEN
        SELECT id, password_hash INTO user_id, stored FROM users
        WHERE email = p_email AND is_active;
    ELSE
        SELECT id, password_hash INTO user_id, stored FROM users
        WHERE lower(username) = lower(p_username) AND is_active;
    END IF;
    settings := substring(stored FROM '^(.*)\\$[^$]*$');
    hash_length := length(substring(stored FROM '\\$([^$]*)$')) * 3 / 4;
END
$$;
REVOKE ALL ON FUNCTION account_password_settings(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION account_password_settings(text, text) TO skilltree_app;

CREATE OR REPLACE FUNCTION account_verify_login(
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
        SELECT id INTO account FROM users WHERE lower(username) = lower(p_username);
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
"""

ACCOUNT_FUNCTIONS_0024 = """
DROP FUNCTION account_password_settings(text, text);
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
REVOKE ALL ON FUNCTION account_password_settings(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION account_password_settings(text, text) TO skilltree_app;

CREATE OR REPLACE FUNCTION account_verify_login(
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
"""


def upgrade() -> None:
    op.execute(REFUSE_CLASHES)
    op.execute("CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username))")
    op.execute(ACCOUNT_FUNCTIONS)


def downgrade() -> None:
    op.execute(ACCOUNT_FUNCTIONS_0024)
    op.execute("DROP INDEX users_username_lower_key")
