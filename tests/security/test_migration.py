"""Migration 0008: the role is made once per server, and going down leaves nothing behind."""

from __future__ import annotations

import os
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import ProgrammingError

from skilltree.db import migrate
from skilltree.db.rls import APP_ROLE
from skilltree.db.session import create_db_engine
from tests import databases
from tests.security.conftest import PROTECTED_TABLES

REVISION = "0008"
# Roles belong to the whole server: these names are this test process's own, and every test
# runs inside a transaction that is rolled back, roles included.
MIGRATOR = f"skilltree_test_migrator_{os.getpid()}"
THROWAWAY = f"skilltree_test_app_{os.getpid()}"


@pytest.fixture(scope="module")
def migration() -> ModuleType:
    """The migration's module (its SQL, for a throwaway role)."""
    script = ScriptDirectory.from_config(migrate.alembic_config()).get_revision(REVISION)
    assert script is not None
    return script.module


def can_set_role(connection: Connection, member: str, role: str) -> bool:
    """Whether `member` may SET ROLE to `role` (PostgreSQL 16 made that an option of its own)."""
    option = "SET" if connection.dialect.server_version_info >= (16,) else "MEMBER"  # type: ignore[operator]
    return bool(
        connection.execute(
            text("SELECT pg_has_role(:member, :role, :option)"),
            {"member": member, "role": role, "option": option},
        ).scalar_one()
    )


def role_exists(connection: Connection, role: str) -> bool:
    return bool(
        connection.execute(
            text("SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = :role)"), {"role": role}
        ).scalar_one()
    )


def test_without_createrole_the_migration_says_what_to_grant(
    connection: Connection, migration: ModuleType
) -> None:
    connection.execute(text(f"CREATE ROLE {MIGRATOR} NOLOGIN"))
    connection.execute(text(f"SET LOCAL ROLE {MIGRATOR}"))
    with pytest.raises(ProgrammingError) as refused, connection.begin_nested():
        connection.execute(text(migration.ENSURE_ROLE.format(role=THROWAWAY)))
    diagnostic = refused.value.orig.diag  # type: ignore[union-attr]
    assert diagnostic.message_primary == (
        f"role {THROWAWAY} does not exist, and {MIGRATOR} may not create it"
    )
    assert f"CREATE ROLE {THROWAWAY} NOLOGIN; GRANT {THROWAWAY} TO {MIGRATOR};" in (
        diagnostic.message_hint or ""
    )


def test_a_createrole_migrator_makes_the_role_and_may_switch_to_it(
    connection: Connection, migration: ModuleType
) -> None:
    connection.execute(text(f"CREATE ROLE {MIGRATOR} NOLOGIN CREATEROLE"))
    connection.execute(text(f"SET LOCAL ROLE {MIGRATOR}"))
    connection.execute(text(migration.ENSURE_ROLE.format(role=THROWAWAY)))
    connection.execute(text(migration.ENSURE_ROLE.format(role=THROWAWAY)))  # again: no change
    assert can_set_role(connection, MIGRATOR, THROWAWAY)
    connection.execute(text(f"SET LOCAL ROLE {THROWAWAY}"))


def test_going_down_drops_the_role_only_when_nothing_else_uses_it(
    connection: Connection, migration: ModuleType
) -> None:
    drop = text(migration.DROP_ROLE_IF_UNUSED.format(role=THROWAWAY))
    connection.execute(text(f"CREATE ROLE {THROWAWAY} NOLOGIN"))
    connection.execute(text(f"GRANT SELECT ON users TO {THROWAWAY}"))  # as another database's
    connection.execute(drop)
    assert role_exists(connection, THROWAWAY)
    connection.execute(text(f"REVOKE SELECT ON users FROM {THROWAWAY}"))
    connection.execute(drop)
    assert not role_exists(connection, THROWAWAY)


@pytest.fixture(scope="module")
def own_database() -> Iterator[Engine]:
    """An engine on an empty database of this module's own."""
    name = databases.test_database_name("rls")
    engine = create_db_engine(databases.create_database(name))
    yield engine
    engine.dispose()
    databases.drop_database(name)


PROTECTION = """
SELECT
    (SELECT count(*) FROM pg_policies WHERE schemaname = 'public') AS policies,
    (SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace
        AND relrowsecurity) AS protected_tables,
    (SELECT count(*) FROM pg_class c, aclexplode(c.relacl) a
        WHERE a.grantee = to_regrole(:role)) AS table_grants,
    (SELECT count(*) FROM pg_proc p, aclexplode(p.proacl) a
        WHERE a.grantee = to_regrole(:role)) AS function_grants,
    (SELECT count(DISTINCT d.oid) FROM pg_default_acl d, aclexplode(d.defaclacl) a
        WHERE a.grantee = to_regrole(:role)) AS default_grants
"""


def protection(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return dict(connection.execute(text(PROTECTION), {"role": APP_ROLE}).mappings().one())


def test_down_leaves_no_policy_nor_grant_and_up_restores_them(own_database: Engine) -> None:
    migrate.upgrade(own_database, REVISION)
    up = protection(own_database)
    assert up["policies"] == up["protected_tables"] == len(PROTECTED_TABLES)
    assert up["table_grants"] > 0
    assert up["function_grants"] > 0
    assert up["default_grants"] == 3

    migrate.downgrade(own_database, "-1")
    assert protection(own_database) == dict.fromkeys(up, 0)

    migrate.upgrade(own_database, REVISION)
    assert protection(own_database) == up


def test_every_learner_table_is_protected(own_database: Engine) -> None:
    # A new table with a user_id column must be listed here and get a policy. user_profiles'
    # policies (migration 0024) keep writes to the learner's own row and let every row be read.
    written_by_its_learner = {"user_profiles"}
    # Attempts are read by their learner only and written only by the assessment functions
    # (migration 0030; tests/assessments/test_security.py).
    # So are learners' time on content modules (migration 0034; tests/content/test_security.py)
    # and submissions, read by their learner and their reviewers, written only by the project
    # functions (migration 0038; tests/reviews/test_security.py).
    read_by_its_learner = {
        "assessment_attempts",
        "user_skill_module_progress",
        "project_submissions",
        # Mastery cards and reviews (migration 0040; tests/mastery/test_security.py): read by
        # their learner, written only by mastery_record.
        "skill_mastery",
        "mastery_reviews",
    }
    # Deliveries are read and written only by the integration functions (migration 0033; no
    # policy, no privilege: tests/integrations/test_security.py).
    by_functions_only = {"integration_deliveries"}
    migrate.upgrade(own_database)
    with own_database.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT c.relname, c.relrowsecurity AND NOT c.relforcerowsecurity "
                "FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid "
                "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') "
                "AND a.attname = 'user_id'"
            )
        )
        tables = {name: protected for name, protected in rows}
    assert tables == dict.fromkeys(
        {*PROTECTED_TABLES, *written_by_its_learner, *read_by_its_learner, *by_functions_only}, True
    )


ACCOUNT_PRIVILEGES = """
SELECT
    has_column_privilege(:role, 'users', 'password_hash', 'SELECT') AS reads_password_hashes,
    has_column_privilege(:role, 'users', 'email', 'SELECT') AS reads_emails,
    has_column_privilege(:role, 'user_sessions', 'token_hash', 'SELECT') AS reads_token_hashes,
    has_column_privilege(:role, 'users', 'role', 'UPDATE') AS changes_roles,
    has_column_privilege(:role, 'users', 'role', 'INSERT') AS inserts_roles,
    has_table_privilege(:role, 'user_profiles', 'DELETE') AS deletes_profiles,
    (SELECT relrowsecurity FROM pg_class WHERE oid = 'user_profiles'::regclass)
        AS profiles_protected,
    (SELECT count(*) FROM pg_policies WHERE tablename = 'user_profiles') AS profile_policies,
    (SELECT count(*) FROM pg_proc WHERE proname LIKE 'account\\_%') AS account_functions
"""


def account_privileges(engine: Engine) -> dict[str, Any]:
    with engine.connect() as connection:
        return dict(
            connection.execute(text(ACCOUNT_PRIVILEGES), {"role": APP_ROLE}).mappings().one()
        )


ACCOUNTS_REVISION = "0024"
"""The migration that narrows the role's rights on accounts."""


def test_the_accounts_migration_goes_down_to_0008s_grants_and_up_again(
    own_database: Engine,
) -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config()).get_revision(ACCOUNTS_REVISION)
    assert script is not None
    assert isinstance(script.down_revision, str)
    below = script.down_revision
    migrate.upgrade(own_database)
    migrate.downgrade(own_database, below)
    before = account_privileges(own_database)
    assert before == {
        "reads_password_hashes": True,
        "reads_emails": True,
        "reads_token_hashes": True,
        "changes_roles": True,
        "inserts_roles": True,
        "deletes_profiles": True,
        "profiles_protected": False,
        "profile_policies": 0,
        "account_functions": 0,
    }

    migrate.upgrade(own_database, ACCOUNTS_REVISION)
    assert account_privileges(own_database) == {
        "reads_password_hashes": False,
        "reads_emails": False,
        "reads_token_hashes": False,
        "changes_roles": False,
        "inserts_roles": False,
        "deletes_profiles": False,
        "profiles_protected": True,
        "profile_policies": 2,
        "account_functions": 3,
    }

    migrate.downgrade(own_database, below)
    assert account_privileges(own_database) == before
    migrate.upgrade(own_database)
