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


def test_every_revision_steps_down_and_up(fresh_engine: Engine) -> None:
    migrate.upgrade(fresh_engine)
    revisions: list[str | None] = [migrate.current_revision(fresh_engine)]
    while revisions[-1] is not None:
        migrate.downgrade(fresh_engine, "-1")
        revisions.append(migrate.current_revision(fresh_engine))
    for revision in reversed(revisions[:-1]):
        migrate.upgrade(fresh_engine, "+1")
        assert migrate.current_revision(fresh_engine) == revision
    assert revisions[0] == migrate.head_revision()
    assert len(revisions) == len(set(revisions)) >= 2


# The migration that makes authors' changes hold a tree's learners first (issue 12), and the one
# before it (renumbering the migrations changes these two constants only).
HOLD_REVISION, BEFORE_HOLD = "0022", "0021"
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
