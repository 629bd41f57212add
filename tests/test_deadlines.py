"""Every request's database work runs under deadlines: past them it is a 503, nothing written.

These requests use real sessions on committed rows (no test transaction around them): the point is
what the server does to a request's own transaction and connection.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from skilltree.app import create_app
from skilltree.dependencies import DbSession
from skilltree.models import UserProfile, UserSkillTreeProgress
from tests.api import bearer
from tests.committed import committed_rows
from tests.factories import make_category, make_skill, make_token, make_tree, make_user


@dataclass(frozen=True)
class World:
    user_id: str
    token: str
    tree_id: str
    slug: str


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    """Committed rows: a learner with a profile and a token, a published tree with one skill."""
    with committed_rows(engine) as session:
        user = make_user(session)
        session.add(UserProfile(user_id=user.id))
        token = make_token(session, user)
        tree = make_tree(session, make_category(session))
        make_skill(session, tree)
        session.commit()
        yield World(user.id, token, tree.id, tree.slug)


def app_with_limits(engine: Engine, **limits: str) -> FastAPI:
    app = create_app(engine)
    app.state.request_limits = app.state.request_limits | limits
    return app


def test_every_request_runs_under_the_configured_deadlines(engine: Engine, world: World) -> None:
    app = create_app(engine)

    @app.get("/test/limits")
    def limits(session: DbSession) -> list[str]:
        return list(
            session.execute(
                text(
                    "SELECT current_setting('statement_timeout'),"
                    " current_setting('idle_in_transaction_session_timeout')"
                )
            ).one()
        )

    with TestClient(app) as client:
        anonymous = client.get("/test/limits").json()
        signed_in = client.get("/test/limits", headers=bearer(world.token)).json()
    assert anonymous == signed_in == ["30s", "1min"]  # the defaults: 30,000 and 60,000 ms


def test_a_statement_past_the_deadline_is_a_503_and_writes_nothing(
    engine: Engine, world: World
) -> None:
    app = app_with_limits(engine, statement_timeout="200ms")
    # Another transaction holds the learner's profile, which every event locks first: the
    # enrolment waits for it until its deadline cancels it.
    with psycopg.connect(_libpq(engine), autocommit=False) as holder:
        holder.execute("SELECT FROM user_profiles WHERE user_id = %s FOR UPDATE", (world.user_id,))
        with TestClient(app, raise_server_exceptions=False) as client:
            answer = client.post(f"/api/v1/trees/{world.slug}/enroll", headers=bearer(world.token))
        holder.rollback()
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == "1"
    assert answer.json()["code"] == "DeadlineExceeded"
    with Session(engine) as session:
        enrolled = session.scalars(
            select(UserSkillTreeProgress).where(UserSkillTreeProgress.user_id == world.user_id)
        ).all()
        assert enrolled == []


def test_a_read_past_the_deadline_is_a_503_too(engine: Engine, world: World) -> None:
    # The token check reads through psycopg itself (db.rls.fetch_all), not through SQLAlchemy:
    # its cancellation is the same 503, not an unexpected error.
    app = app_with_limits(engine, statement_timeout="200ms")
    with psycopg.connect(_libpq(engine), autocommit=False) as holder:
        holder.execute("LOCK TABLE user_sessions IN ACCESS EXCLUSIVE MODE")
        with TestClient(app, raise_server_exceptions=False) as client:
            answer = client.get("/api/v1/me", headers=bearer(world.token))
        holder.rollback()
    assert answer.status_code == 503
    assert answer.json()["code"] == "DeadlineExceeded"


def test_a_transaction_left_idle_past_its_deadline_loses_its_connection_and_answers_503(
    engine: Engine, world: World
) -> None:
    app = app_with_limits(engine, idle_in_transaction_session_timeout="100ms")
    first_ran = threading.Event()
    backend_gone = threading.Event()
    pids: list[int] = []

    @app.get("/test/idle")
    def idle(session: DbSession) -> None:
        pids.append(session.execute(text("SELECT pg_backend_pid()")).scalar_one())
        first_ran.set()
        assert backend_gone.wait(30)  # the request "thinks" until the server has ended it
        session.execute(text("SELECT 1"))

    with TestClient(app, raise_server_exceptions=False) as client:
        result: dict[str, object] = {}
        thread = threading.Thread(target=lambda: result.update(answer=client.get("/test/idle")))
        thread.start()
        assert first_ran.wait(30)
        with psycopg.connect(_libpq(engine), autocommit=True) as watcher:
            while watcher.execute(
                "SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pids[0],)
            ).fetchone():
                watcher.execute("SELECT pg_sleep(0.01)")  # poll the condition, not a duration
        backend_gone.set()
        thread.join(30)
    answer = result["answer"]
    assert answer.status_code == 503  # type: ignore[attr-defined]
    assert answer.json()["code"] == "DatabaseUnavailable"  # type: ignore[attr-defined]


def _libpq(engine: Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
