"""The migrations build exactly the models' schema, and go down to nothing and up again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, text

from skilltree.db import migrate
from skilltree.db.session import create_db_engine
from skilltree.models import Base
from tests import databases

# Everything of ours a migration could leave behind in `public`, by kind.
LEFTOVERS = {
    "tables": "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
    "AND tablename <> 'alembic_version'",
    "views": "SELECT viewname FROM pg_views WHERE schemaname = 'public'",
    "types": "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
    "WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'c') AND t.typrelid = 0",
    "functions": "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
    "WHERE n.nspname = 'public'",
    "sequences": "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'",
}


@pytest.fixture(scope="module")
def fresh_engine() -> Iterator[Engine]:
    """An engine on a database of its own, created empty for this module."""
    name = databases.test_database_name("migrations")
    engine = create_db_engine(databases.create_database(name))
    yield engine
    engine.dispose()
    databases.drop_database(name)


def _leftovers(connection: Connection) -> dict[str, list[str]]:
    return {kind: list(connection.execute(text(sql)).scalars()) for kind, sql in LEFTOVERS.items()}


def _schema_differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        # pytest turns warnings into errors, so a Computed column alembic cannot compare fails
        # this test loudly instead of being skipped in silence.
        return list(compare_metadata(context, Base.metadata))


def test_up_down_and_up_again(fresh_engine: Engine) -> None:
    assert migrate.current_revision(fresh_engine) is None
    head = migrate.head_revision()
    assert head is not None

    migrate.upgrade(fresh_engine)
    assert migrate.current_revision(fresh_engine) == head
    assert _schema_differences(fresh_engine) == []

    migrate.downgrade(fresh_engine, "base")
    assert migrate.current_revision(fresh_engine) is None
    with fresh_engine.connect() as connection:
        assert _leftovers(connection) == {kind: [] for kind in LEFTOVERS}

    migrate.upgrade(fresh_engine)
    assert migrate.current_revision(fresh_engine) == head
    assert _schema_differences(fresh_engine) == []


# What a revision installs, as the catalog shows it: a downgrade must leave exactly what the
# revision before it installed (every function body, trigger, policy, grant, view, index,
# constraint and column), not just the right revision id.
CATALOG = {
    "functions": "SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid),"
    " coalesce(p.proacl, acldefault('f', p.proowner))::text"
    " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'",
    "triggers": "SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) FROM pg_trigger"
    " WHERE NOT tgisinternal",
    "policies": "SELECT tablename, policyname, permissive, roles::text, cmd, qual, with_check"
    " FROM pg_policies WHERE schemaname = 'public'",
    "views": "SELECT viewname, definition FROM pg_views WHERE schemaname = 'public'",
    "indexes": "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
    " AND tablename <> 'alembic_version'",
    "constraints": "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
    " FROM pg_constraint WHERE connamespace = 'public'::regnamespace"
    " AND conrelid::regclass::text <> 'alembic_version'",
    # The position counts live columns only (attnum keeps the gaps dropped columns leave). One
    # known exception: 0015's downgrade must drop the plain `search_vector` columns of skills and
    # skill_trees and add them back as generated columns (PostgreSQL cannot make a column
    # generated in place), so they come back last; putting them back in place would mean
    # rewriting both tables with every foreign key to them. Their position is not compared, and
    # the other columns are ranked among themselves.
    "columns": "SELECT table_name, column_name, data_type, column_default, is_nullable,"
    " generation_expression, CASE WHEN NOT moved THEN rank() OVER (PARTITION BY table_name,"
    " moved ORDER BY ordinal_position) END FROM (SELECT *, column_name = 'search_vector'"
    " AND table_name IN ('skills', 'skill_trees') AS moved FROM information_schema.columns"
    " WHERE table_schema = 'public' AND table_name <> 'alembic_version') AS columns",
    "table grants": "SELECT c.oid::regclass::text, c.relkind::text,"
    " coalesce(c.relacl, acldefault(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::\"char\","
    " c.relowner))::text, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c"
    " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'p', 'S')"
    " AND c.relname <> 'alembic_version'",
    "column grants": "SELECT table_name, column_name, grantee, privilege_type"
    " FROM information_schema.column_privileges WHERE table_schema = 'public'"
    " AND grantee NOT IN ('postgres', 'PUBLIC') AND grantee <> current_user",
    # Objects made after initdb have OIDs from FirstNormalObjectId (16384) up.
    "comments": "SELECT pg_describe_object(classoid, objoid, objsubid), description"
    " FROM pg_description WHERE objoid >= 16384",
    "enum values": "SELECT enumtypid::regtype::text, enumlabel, enumsortorder FROM pg_enum",
    "sequences": "SELECT sequencename, data_type::text, increment_by, min_value, max_value"
    " FROM pg_sequences WHERE schemaname = 'public'",
    "extensions": "SELECT extname FROM pg_extension",
}


def _catalog(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as connection:
        return {
            kind: sorted(tuple(row) for row in connection.execute(text(sql)))
            for kind, sql in CATALOG.items()
        }


def test_every_revision_steps_down_to_exactly_what_the_one_before_installed(
    fresh_engine: Engine,
) -> None:
    migrate.upgrade(fresh_engine)
    if migrate.current_revision(fresh_engine) is not None:
        migrate.downgrade(fresh_engine, "base")
    installed: list[tuple[str | None, dict[str, list[tuple[object, ...]]]]] = [
        (None, _catalog(fresh_engine))
    ]
    while installed[-1][0] != migrate.head_revision():
        migrate.upgrade(fresh_engine, "+1")
        installed.append((migrate.current_revision(fresh_engine), _catalog(fresh_engine)))
    for (below, expected), (revision, _) in zip(
        reversed(installed[:-1]), reversed(installed[1:]), strict=True
    ):
        assert migrate.current_revision(fresh_engine) == revision
        migrate.downgrade(fresh_engine, "-1")
        assert migrate.current_revision(fresh_engine) == below
        found = _catalog(fresh_engine)
        differences = {
            kind: {
                "left behind": sorted(set(found[kind]) - set(expected[kind]), key=str),
                "not restored": sorted(set(expected[kind]) - set(found[kind]), key=str),
            }
            for kind in CATALOG
            if found[kind] != expected[kind]
        }
        assert not differences, f"{revision}'s downgrade: {differences}"
    migrate.upgrade(fresh_engine)
    assert migrate.current_revision(fresh_engine) == migrate.head_revision()


# Migration 0022 stamps what an event writes with the event's time (the engine's `p_now`).
EVENT_TIME_REVISION, BEFORE_EVENT_TIME = "0022", "0021"
EVENT_TIME_FUNCTIONS = (
    "progress_unlock",
    "progress_enrol_learner",
    "progress_finish",
    "progress_skill_event",
)


def _function_definitions(engine: Engine) -> dict[str, str]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT proname, pg_get_functiondef(oid) FROM pg_proc WHERE proname = ANY (:names)"
            ),
            {"names": list(EVENT_TIME_FUNCTIONS)},
        ).all()
        return {name: definition for name, definition in rows}


def _event_inserts(definition: str) -> list[str]:
    return [s for s in definition.split(";") if "INSERT INTO progress_events" in s]


def test_the_event_time_migration_stamps_every_event_and_goes_back_exactly(
    fresh_engine: Engine,
) -> None:
    migrate.upgrade(fresh_engine)
    migrate.downgrade(fresh_engine, BEFORE_EVENT_TIME)
    before = _function_definitions(fresh_engine)
    migrate.upgrade(fresh_engine, EVENT_TIME_REVISION)
    after = _function_definitions(fresh_engine)
    assert sorted(before) == sorted(after) == sorted(EVENT_TIME_FUNCTIONS)
    for name in EVENT_TIME_FUNCTIONS:
        assert _event_inserts(before[name]), name
        assert not any("occurred_at" in insert for insert in _event_inserts(before[name]))
        assert all("occurred_at" in insert for insert in _event_inserts(after[name]))
    migrate.downgrade(fresh_engine, BEFORE_EVENT_TIME)
    assert _function_definitions(fresh_engine) == before
    migrate.upgrade(fresh_engine)
    assert migrate.current_revision(fresh_engine) == migrate.head_revision()


# The migration that makes authors' changes hold a tree's learners first (issue 12), and the one
# before it (renumbering the migrations changes these two constants only).
HOLD_REVISION, BEFORE_HOLD = "0025", "0024"
# The functions it replaces, adds or drops.
HOLD_FUNCTIONS_SQL = text(
    "SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid), p.proacl::text"
    " FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND p.proname = ANY (:names)"
    " ORDER BY 1"
)
HOLD_FUNCTIONS = [
    "progress_skill_event",
    "progress_enrol",
    "progress_enrol_learner",
    "refresh_tree_enrolments",
    "hold_tree_learners",
]


def _hold_functions(engine: Engine) -> dict[str, tuple[str, str | None]]:
    with engine.connect() as connection:
        rows = connection.execute(HOLD_FUNCTIONS_SQL, {"names": HOLD_FUNCTIONS}).tuples()
        return {signature: (definition, acl) for signature, definition, acl in rows}


def test_holding_learners_first_steps_up_and_back_exactly(fresh_engine: Engine) -> None:
    migrate.upgrade(fresh_engine)
    migrate.downgrade(fresh_engine, BEFORE_HOLD)
    before = _hold_functions(fresh_engine)
    assert "refresh_tree_enrolments(text)" in before

    migrate.upgrade(fresh_engine, HOLD_REVISION)
    after = _hold_functions(fresh_engine)
    assert set(after) - set(before) == {
        "hold_tree_learners(text)",
        "refresh_tree_enrolments(text,text[])",
    }
    assert set(before) - set(after) == {"refresh_tree_enrolments(text)"}
    for added in ("hold_tree_learners(text)", "refresh_tree_enrolments(text,text[])"):
        definition, acl = after[added]
        assert "SECURITY DEFINER" in definition
        grantees = {entry.split("=")[0] for entry in (acl or "").strip("{}").split(",")}
        assert "skilltree_app" in grantees
        assert "" not in grantees  # not PUBLIC
    event = next(d for s, (d, _) in after.items() if s.startswith("progress_skill_event("))
    assert event.index("progress_lock_profile(") < event.index("FROM skills s")

    migrate.downgrade(fresh_engine, BEFORE_HOLD)
    assert _hold_functions(fresh_engine) == before
    migrate.upgrade(fresh_engine)
