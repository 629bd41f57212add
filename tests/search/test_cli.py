"""The text-search configuration is a setting: migrations start in it, `skilltree search status`
compares, `skilltree search reindex` switches and rebuilds."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import make_url
from typer.testing import CliRunner

from skilltree.cli import app
from skilltree.config import get_settings
from tests import databases

runner = CliRunner()


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """A fresh database migrated with TEXT_SEARCH_CONFIG=simple, the CLI pointed at it."""
    name = databases.test_database_name("search_cli")
    url = databases.create_database(name)
    with pytest.MonkeyPatch.context() as patch:
        databases.forget_engine()
        patch.setenv("DATABASE_URL", url)
        patch.setenv("TEXT_SEARCH_CONFIG", "simple")
        for command in (["db", "upgrade"], ["db", "seed", "--demo"]):
            result = runner.invoke(app, command)
            assert result.exit_code == 0, result.output
        yield url
        databases.forget_engine()
    databases.drop_database(name)


def _documents_of(url: str, sql: str) -> object:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as conn:
        row = conn.execute(sql).fetchone()
    return row[0] if row else None


def test_migrations_start_in_the_configured_configuration(database: str) -> None:
    result = runner.invoke(app, ["search", "status"])
    assert result.exit_code == 0, result.output
    assert "documents built in: simple" in result.output
    # "simple" keeps words whole: no stems in the documents.
    stemmed = "SELECT count(*) FROM skills WHERE search_vector @@ to_tsquery('simple', 'compon')"
    assert _documents_of(database, stemmed) == 0


def test_reindex_switches_and_rebuilds(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEXT_SEARCH_CONFIG", "english")
    get_settings.cache_clear()
    result = runner.invoke(app, ["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert "search documents rebuilt in 'english'" in result.output
    english = "SELECT count(*) FROM skills WHERE search_vector @@ to_tsquery('english', 'compon')"
    count = _documents_of(database, english)
    assert isinstance(count, int)
    assert count > 0
    assert _documents_of(database, "SELECT config::text FROM search_configuration") == "english"


def test_reindex_refuses_an_unknown_configuration(database: str) -> None:
    result = runner.invoke(app, ["search", "reindex", "--config", "klingon"])
    assert result.exit_code == 1
    assert "no text-search configuration named 'klingon'" in result.output
