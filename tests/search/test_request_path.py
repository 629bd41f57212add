"""The search endpoints on the real request path: the app's own unit of work, not the test
session the other tests' client swaps in (tests/api.py). An anonymous request's transaction begins
with the learner switch and the search settings, sent with its first query (db/rls.py), so its
queries run as `skilltree_app` with those settings; a failed commit is still a 500, whether
`get_session` commits or the endpoint does (`finish_early`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from skilltree.app import create_app
from skilltree.db.rls import APP_ROLE, begin_as_learner, fetch_all
from skilltree.dependencies import DbSession
from skilltree.search.repository import PLAN_CACHE_MODE
from skilltree.search.service import SIMILARITY_THRESHOLD

SEEN = (
    "SELECT current_user, current_setting('app.current_user_id', true),"
    " current_setting('plan_cache_mode'), current_setting('pg_trgm.word_similarity_threshold')"
)
AS_SEARCH = (APP_ROLE, "", PLAN_CACHE_MODE, str(SIMILARITY_THRESHOLD))
"""What an anonymous search transaction runs as: the role, no learner, the search settings."""


@pytest.fixture
def real_app(engine: Engine) -> FastAPI:
    """The app on the test database with its own dependencies (what it reads is committed: the
    test's rolled-back rows are not visible to it)."""
    return create_app(engine)


@dataclass
class Watch:
    """What went on `engine` during a test: the statements SQLAlchemy sent itself, and at each
    commit what the transaction ran as (asked on its connection just before the COMMIT)."""

    statements: list[str] = field(default_factory=list)
    committed_as: list[tuple[Any, ...]] = field(default_factory=list)


@pytest.fixture
def watch(engine: Engine) -> Iterator[Watch]:
    """Watch `engine` for the test."""
    seen = Watch()

    def statement(conn: Any, cursor: Any, text: str, *args: Any) -> None:
        seen.statements.append(text)

    def commit(conn: Connection) -> None:
        driver = conn.connection.driver_connection
        assert driver is not None
        seen.committed_as.append(tuple(driver.execute(SEEN).fetchone()))

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)


@pytest.mark.parametrize(
    ("path", "q"), [("/api/v1/search/suggest", "react"), ("/api/v1/search", "react")]
)
def test_an_anonymous_search_runs_as_the_role_with_the_search_settings(
    real_app: FastAPI, watch: Watch, path: str, q: str
) -> None:
    with TestClient(real_app) as client:
        response = client.get(path, params={"q": q})
    assert response.status_code == 200, response.text
    assert response.json()["query"] == q
    # The switch, the settings and the queries all went through psycopg (db.rls.fetch_all), in
    # one transaction that ran as the role, for no learner, with the search's settings.
    assert watch.statements == []
    assert watch.committed_as == [AS_SEARCH]


def test_a_request_that_sends_nothing_needs_no_transaction(real_app: FastAPI, watch: Watch) -> None:
    with TestClient(real_app) as client:
        response = client.get("/api/v1/search/suggest", params={"q": "r"})
    assert response.status_code == 200
    assert response.json() == {"query": "r", "suggestions": []}
    assert watch == Watch()


def test_the_first_statement_runs_after_the_switch_and_settings(engine: Engine) -> None:
    with Session(engine) as session:
        begin_as_learner(session, "learner-1")
        rows = fetch_all(
            session,
            "SELECT current_user, current_setting('app.current_user_id', true),"
            " current_setting('plan_cache_mode')",
            {},
            settings={"plan_cache_mode": PLAN_CACHE_MODE},
        )
        assert rows == [(APP_ROLE, "learner-1", PLAN_CACHE_MODE)]
        # Later statements of the transaction see the same.
        assert fetch_all(session, "SELECT current_user", {}) == [(APP_ROLE,)]
        session.rollback()


def test_a_failed_switch_fails_the_first_statement(engine: Engine) -> None:
    with Session(engine) as session:
        begin_as_learner(session, None)
        with pytest.raises(DBAPIError) as failed:
            fetch_all(session, "SELECT 1", {}, settings={"plan_cache_mode": "no such mode"})
        assert isinstance(failed.value.orig, psycopg.errors.InvalidParameterValue)
        session.rollback()


def test_begin_as_learner_refuses_a_session_already_in_a_transaction(session: Session) -> None:
    session.execute(text("SELECT 1"))
    with pytest.raises(RuntimeError):
        begin_as_learner(session, None)


def test_a_failed_commit_is_a_500_not_a_success(real_app: FastAPI) -> None:
    # The commit `get_session` makes after the endpoint.
    def refuse(session: Session) -> None:
        raise RuntimeError("the commit failed")

    @real_app.get("/probe/commit-fails")
    def probe(session: DbSession) -> dict[str, str]:
        role = session.execute(text("SELECT current_user")).scalar_one()
        event.listen(session, "before_commit", refuse)
        return {"role": role}

    with TestClient(real_app, raise_server_exceptions=False) as client:
        response = client.get("/probe/commit-fails")
    assert response.status_code == 500
    assert response.json()["code"] == "InternalError"


@pytest.mark.parametrize("path", ["/api/v1/search/suggest", "/api/v1/search"])
def test_a_search_whose_commit_fails_is_a_500_not_a_success(
    real_app: FastAPI, engine: Engine, path: str
) -> None:
    # The search endpoints commit in their own trip through the thread pool (finish_early).
    def refuse(conn: Connection) -> None:
        raise RuntimeError("the commit failed")

    event.listen(engine, "commit", refuse)
    try:
        with TestClient(real_app, raise_server_exceptions=False) as client:
            response = client.get(path, params={"q": "react"})
    finally:
        event.remove(engine, "commit", refuse)
    assert response.status_code == 500
    assert response.json()["code"] == "InternalError"
