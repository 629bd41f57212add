"""row-level security: the API's role sees and writes only the current learner's rows

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23

The API runs its queries as the role `skilltree_app` (NOLOGIN; the migrating user becomes a
member, so it may `SET ROLE` to it) with the learner's id in the setting `app.current_user_id`.
On the learner tables that role sees and writes a row only when its `user_id` is that id. RLS is
ENABLEd, not FORCEd: the tables' owner (migrations, CLI, seed) still sees every row.

A role belongs to the whole server, not to one database: it is created only when missing, and
dropped on downgrade only when no other database still uses it.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "skilltree_app"
LEARNER_TABLES = {
    # table: policy (the spec names the first one)
    "user_skill_progress": "user_progress_policy",
    "user_skill_tree_progress": "user_skill_tree_progress_policy",
    "user_achievements": "user_achievements_policy",
    "user_sessions": "user_sessions_policy",
    "progress_events": "progress_events_policy",
    "idempotency_keys": "idempotency_keys_policy",
}

# {role} is formatted in (tests run it for a throwaway role). CREATE ROLE may race with another
# database's migration on the same server; the loser just finds the role there.
ENSURE_ROLE = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
        IF NOT EXISTS (
            SELECT FROM pg_roles WHERE rolname = current_user AND (rolcreaterole OR rolsuper)
        ) THEN
            RAISE EXCEPTION 'role {role} does not exist, and % may not create it', current_user
                USING ERRCODE = 'insufficient_privilege',
                      HINT = format('Once, as a superuser: CREATE ROLE {role} NOLOGIN; '
                                    'GRANT {role} TO %I;  (or ALTER ROLE %I CREATEROLE;) '
                                    'then migrate again. See docs/security.md.',
                                    current_user, current_user);
        END IF;
        BEGIN
            CREATE ROLE {role} NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
    -- From PostgreSQL 16 on, membership alone does not allow SET ROLE: the SET option does.
    IF NOT pg_has_role(current_user, '{role}',
                       CASE WHEN current_setting('server_version_num')::int >= 160000
                            THEN 'SET' ELSE 'MEMBER' END) THEN
        BEGIN
            GRANT {role} TO CURRENT_USER;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE EXCEPTION '% may not make itself a member of role {role}', current_user
                USING ERRCODE = 'insufficient_privilege',
                      HINT = format('Once, as a superuser: GRANT {role} TO %I; '
                                    'then migrate again. See docs/security.md.', current_user);
        END;
    END IF;
END
$$
"""

DROP_ROLE_IF_UNUSED = """
DO $$
BEGIN
    DROP ROLE IF EXISTS {role};
EXCEPTION WHEN dependent_objects_still_exist OR insufficient_privilege THEN
    RAISE NOTICE 'role {role} kept: %', SQLERRM;
END
$$
"""

LEARNER_ROW = "user_id = current_setting('app.current_user_id', true)"


def upgrade() -> None:
    op.execute(ENSURE_ROLE.format(role=APP_ROLE))
    for statement in (
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        "REVOKE ALL ON alembic_version FROM {role}",
        "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        "GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {role}",
        # Tables, sequences and functions later migrations create get the same grants.
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO {role}",
    ):
        op.execute(statement.format(role=APP_ROLE))
    for table, policy in LEARNER_TABLES.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY {policy} ON {table} FOR ALL TO {APP_ROLE} "
            f"USING ({LEARNER_ROW}) WITH CHECK ({LEARNER_ROW})"
        )


def downgrade() -> None:
    for table, policy in LEARNER_TABLES.items():
        op.execute(f"DROP POLICY {policy} ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    for statement in (
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON FUNCTIONS FROM {role}",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM {role}",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {role}",
        "REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM {role}",
        "REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}",
        "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}",
    ):
        op.execute(statement.format(role=APP_ROLE))
    op.execute(DROP_ROLE_IF_UNUSED.format(role=APP_ROLE))
