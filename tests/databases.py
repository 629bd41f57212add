"""Throwaway test databases on the server under test: DATABASE_URL's, or the embedded one."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import make_url

from skilltree.config import get_settings
from skilltree.db.pgbouncer import PgBouncer, pgbouncer_binary
from skilltree.db.session import get_engine, sqlalchemy_url
from tests.services import service_missing


def _server_url() -> str:
    configured = os.environ.get("DATABASE_URL")
    if configured:
        return sqlalchemy_url(configured)
    from skilltree.db.embedded import embedded_url

    data_dir = Path(os.environ.get("SKILLTREE_DATA_DIR", ".skilltree"))
    return embedded_url(data_dir, "postgres")


# The embedded server the tests share archives no WAL (every test database's would be kept):
# the point-in-time recovery tests run servers of their own (tests/operations/test_archive.py).
os.environ.setdefault("EMBEDDED_ARCHIVING", "false")
SERVER_URL = _server_url()
_PREFIX = make_url(SERVER_URL).database if os.environ.get("DATABASE_URL") else "skilltree"


def _libpq_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def test_database_name(purpose: str) -> str:
    """A database name for `purpose`, unique per test process (so parallel runs never collide)."""
    return f"{_PREFIX}_test_{purpose}_{os.getpid()}"


def create_database(name: str) -> str:
    """Create an empty database `name` (dropping any leftover) and return its SQLAlchemy URL."""
    drop_database(name)
    with psycopg.connect(_libpq_dsn(SERVER_URL), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)


def drop_database(name: str) -> None:
    """Drop database `name` if it exists, disconnecting anyone still on it."""
    with psycopg.connect(_libpq_dsn(SERVER_URL), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def pgbouncer(pool_size: int) -> PgBouncer:
    """A PgBouncer of the tests' own in transaction mode in front of the server under test, with
    `pool_size` server connections per database (not started: `with pgbouncer(n) as bouncer`);
    without pgbouncer the test is skipped (failed under SKILLTREE_REQUIRE_SERVICES=1)."""
    if pgbouncer_binary() is None:
        service_missing("PgBouncer", "pgbouncer not installed (Debian: apt-get install pgbouncer)")
    return PgBouncer(SERVER_URL, pool_size=pool_size)


def forget_engine() -> None:
    """Drop the process-wide engine and settings, so the next command reads the environment
    (DATABASE_URL, ...) again."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    get_settings.cache_clear()
