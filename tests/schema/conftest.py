"""A database migrated to head for the schema tests that only read it (or roll back)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from skilltree.config import get_settings
from skilltree.db import migrate
from skilltree.db.session import create_db_engine
from tests import databases


@pytest.fixture(scope="session")
def migrated() -> Iterator[Engine]:
    """A database of its own migrated to head, in the default text-search configuration (the one
    the live schema describes: the search triggers name it)."""
    name = databases.test_database_name("live_schema")
    engine = create_db_engine(databases.create_database(name))
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("TEXT_SEARCH_CONFIG", raising=False)
        get_settings.cache_clear()
        migrate.upgrade(engine)
    get_settings.cache_clear()
    yield engine
    engine.dispose()
    databases.drop_database(name)
