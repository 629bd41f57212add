"""Migration 0027: usernames unique whatever their case; existing clashes are listed, not hidden."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from skilltree.db import migrate
from skilltree.db.session import create_db_engine
from tests import databases

REVISION, BEFORE = "0027", "0026"
INDEX = "users_username_lower_key"


@pytest.fixture
def own_database() -> Iterator[Engine]:
    """An engine on an empty database of this test's own, migrated to the revision before."""
    name = databases.test_database_name("usernames")
    engine = create_db_engine(databases.create_database(name))
    migrate.upgrade(engine, BEFORE)
    yield engine
    engine.dispose()
    databases.drop_database(name)


def add_user(engine: Engine, user_id: str, username: str) -> None:
    """A user row written directly, as any writer but the API could."""
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, email, username, password_hash) "
                "VALUES (:id, :id || '@example.com', :username, 'x')"
            ),
            {"id": user_id, "username": username},
        )


def has_index(engine: Engine) -> bool:
    with engine.connect() as connection:
        found = connection.execute(text("SELECT to_regclass(:index)"), {"index": INDEX})
        return found.scalar_one() is not None


def test_up_makes_case_variants_clash_and_down_allows_them_again(own_database: Engine) -> None:
    add_user(own_database, "u1", "Maya_Chen")
    migrate.upgrade(own_database, REVISION)
    assert has_index(own_database)
    with pytest.raises(IntegrityError) as refused:
        add_user(own_database, "u2", "maya_chen")
    assert refused.value.orig.diag.constraint_name == INDEX  # type: ignore[union-attr]

    migrate.downgrade(own_database, BEFORE)
    assert not has_index(own_database)
    add_user(own_database, "u2", "maya_chen")


def test_existing_clashes_stop_the_migration_with_a_list_of_them(own_database: Engine) -> None:
    add_user(own_database, "u1", "Maya_Chen")
    add_user(own_database, "u2", "maya_chen")
    add_user(own_database, "u3", "MAYA_CHEN")
    add_user(own_database, "u4", "leo")
    add_user(own_database, "u5", "Leo")
    add_user(own_database, "u6", "priya")

    with pytest.raises(IntegrityError) as refused:
        migrate.upgrade(own_database, REVISION)

    diagnostic = refused.value.orig.diag  # type: ignore[union-attr]
    assert diagnostic.message_primary == (
        "2 usernames are each taken by more than one account when case is ignored: "
        "leo (u4 leo, u5 Leo); maya_chen (u1 Maya_Chen, u2 maya_chen, u3 MAYA_CHEN)"
    )
    assert "rename all but one account of each" in (diagnostic.message_hint or "")
    assert migrate.current_revision(own_database) == BEFORE
    assert not has_index(own_database)

    with own_database.begin() as connection:
        connection.execute(
            text("UPDATE users SET username = username || id WHERE id IN ('u2', 'u3', 'u5')")
        )
    migrate.upgrade(own_database, REVISION)
    assert has_index(own_database)
