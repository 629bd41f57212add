"""Shared fixtures: one migrated database per worker, each test inside a rolled-back transaction;
the hooks that sum up, or refuse, suites skipped for want of a service (tests/services.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from skilltree.config import Pooler, get_settings
from skilltree.db import migrate
from skilltree.db.session import create_db_engine
from skilltree.listeners import register_listeners
from skilltree.models import UserRole
from tests.api import api_client
from tests.databases import create_database, drop_database, pgbouncer, test_database_name
from tests.factories import Person, make_person
from tests.services import (  # noqa: F401  (hooks)
    pytest_runtest_logreport,
    pytest_sessionfinish,
    pytest_terminal_summary,
)

# Machines with two busy cores are slow to generate examples: time is not what these tests check.
settings.register_profile("skilltree", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("skilltree")


def pytest_configure(config: pytest.Config) -> None:
    """The tests are an entry point: they register the process-wide session events at start."""
    register_listeners()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--pgbouncer",
        action="store_true",
        help="reach the test database through a PgBouncer of the session's own, in transaction "
        "mode, with DATABASE_POOLER=pgbouncer (make pytest-pgbouncer)",
    )
    parser.addoption(
        "--citus",
        action="store_true",
        help="run the tests marked `citus` on a Citus cluster of the session's own "
        "(scripts/citus; also SKILLTREE_CITUS=1); without it they are deselected",
    )


def citus_requested(config: pytest.Config) -> bool:
    """Whether the tests marked `citus` run: `--citus` or SKILLTREE_CITUS=1 (never in CI)."""
    return bool(config.getoption("citus")) or os.environ.get("SKILLTREE_CITUS", "") not in ("", "0")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Unless asked for, the tests marked `citus` are deselected, not skipped: CI never starts
    Citus, and a skip would fail it (tests/services.py)."""
    if citus_requested(config):
        return
    kept = [item for item in items if item.get_closest_marker("citus") is None]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept


POOLED_SERVER_CONNECTIONS = 40
"""Server connections of the `--pgbouncer` session's PgBouncer: more than the tests' parallel
connections (each test holds one for its whole transaction), fewer than its clients."""


@pytest.fixture(scope="session")
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """An engine on a database migrated to head, shared by the whole test session; with
    `--pgbouncer`, through a PgBouncer in transaction mode."""
    name = test_database_name("main")
    url = create_database(name)
    with ExitStack() as stack:
        pooler: Pooler = "none"
        if request.config.getoption("pgbouncer"):
            url = stack.enter_context(pgbouncer(POOLED_SERVER_CONNECTIONS)).url(name)
            pooler = "pgbouncer"
            # Whatever the tests configure from the environment goes through it alike.
            stack.enter_context(pytest.MonkeyPatch.context()).setenv("DATABASE_POOLER", pooler)
            stack.callback(get_settings.cache_clear)
            get_settings.cache_clear()
        engine = create_db_engine(url, pooler)
        migrate.upgrade(engine)
        yield engine
        engine.dispose()
    drop_database(name)


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as conn:
        transaction = conn.begin()
        yield conn
        transaction.rollback()


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    """A session joined to the test's transaction: its commits become savepoints."""
    with Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    ) as session:
        yield session


@pytest.fixture
def client(engine: Engine, session: Session) -> Iterator[TestClient]:
    """An API client whose requests run on the test's session (rolled back with it)."""
    with api_client(engine, session) as client:
        yield client


@pytest.fixture
def author(session: Session) -> Person:
    """An author."""
    return make_person(session, UserRole.AUTHOR)


@pytest.fixture
def other_author(session: Session) -> Person:
    """Another author, who owns nothing."""
    return make_person(session, UserRole.AUTHOR)


@pytest.fixture
def admin(session: Session) -> Person:
    """An admin."""
    return make_person(session, UserRole.ADMIN)


@pytest.fixture
def learner(session: Session) -> Person:
    """A learner."""
    return make_person(session, UserRole.LEARNER)
