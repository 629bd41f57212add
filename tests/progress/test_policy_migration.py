"""Migration 0029: existing trees keep working, each skill with the default completion policy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, text

from skilltree.db import migrate
from skilltree.db.session import create_db_engine
from tests import databases

REVISION, BEFORE = "0029", "0028"


@pytest.fixture
def own_database() -> Iterator[Engine]:
    """An engine on an empty database of this test's own, migrated to the revision before."""
    name = databases.test_database_name("policies")
    engine = create_db_engine(databases.create_database(name))
    migrate.upgrade(engine, BEFORE)
    yield engine
    engine.dispose()
    databases.drop_database(name)


def _fill(connection: Connection) -> None:
    # A tree with a skill of each kind, and a learner who completed the assessed one by a
    # self-report (as anyone could before 0029), written directly as any writer could.
    connection.execute(
        text(
            "INSERT INTO skill_categories (id, name, slug) VALUES ('c', 'C', 'c');"
            "INSERT INTO skill_trees (id, category_id, name, slug) VALUES ('t', 'c', 'T', 't');"
            "INSERT INTO skills (id, skill_tree_id, key, name, assessments, updated_at) VALUES"
            " ('plain', 't', 'plain', 'Plain', NULL, '2001-01-01Z'),"
            " ('empty', 't', 'empty', 'Empty', '[]', '2001-01-01Z'),"
            " ('quiz', 't', 'quiz', 'Quiz',"
            '  \'[{"type": "quiz", "title": "Q", "passingScore": 80}]\', \'2001-01-01Z\');'
            "INSERT INTO users (id, email, username, password_hash)"
            " VALUES ('u', 'u@example.com', 'u', 'x');"
            "INSERT INTO user_skill_progress (id, user_id, skill_id, skill_tree_id, status,"
            " completed_at, completion_method) VALUES ('r', 'u', 'quiz', 't', 'COMPLETED', now(),"
            " 'MANUAL')"
        )
    )


def test_every_skill_gets_the_default_and_completions_made_before_stay(
    own_database: Engine,
) -> None:
    with own_database.begin() as connection:
        _fill(connection)
        version = connection.scalar(text("SELECT structure_version FROM skill_trees"))

    migrate.upgrade(own_database, REVISION)

    with own_database.connect() as connection:
        policies = dict(
            connection.execute(text("SELECT id, completion_policy FROM skills")).tuples().all()
        )
        assert policies == {
            "plain": {"MANUAL": {}},
            "empty": {"MANUAL": {}},
            "quiz": {"ASSESSMENT": {}},
        }
        assert connection.scalar(text("SELECT DISTINCT updated_at FROM skills")).year == 2001
        assert connection.scalar(text("SELECT structure_version FROM skill_trees")) > version
        kept = connection.execute(
            text("SELECT status, completion_method FROM user_skill_progress")
        ).one()
        assert tuple(kept) == ("COMPLETED", "MANUAL")

    migrate.downgrade(own_database, BEFORE)
    with own_database.connect() as connection:
        columns = connection.scalars(
            text(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'skills'"
                " AND column_name = 'completion_policy'"
            )
        ).all()
        assert columns == []
