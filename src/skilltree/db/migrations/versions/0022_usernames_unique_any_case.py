"""users.username is unique whatever its case: Maya_Chen and maya_chen are one name

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-08

A unique index on `lower(username)` next to the spec's exact `users_username_key`. Accounts that
already share a name when case is ignored would make `CREATE UNIQUE INDEX` fail with a bare
"could not create unique index" naming one of them; the migration looks first and stops with every
clash listed (name, then each account's id and spelling), to be renamed by hand. Nothing is
renamed automatically: which account keeps the name is a person's decision.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
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


def upgrade() -> None:
    op.execute(REFUSE_CLASHES)
    op.execute("CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username))")


def downgrade() -> None:
    op.execute("DROP INDEX users_username_lower_key")
