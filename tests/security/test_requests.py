"""Requests run as `skilltree_app` for their learner: one learner never reaches another's rows."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.orm import Session

from skilltree.app import create_app
from skilltree.db.rls import APP_ROLE
from skilltree.dependencies import CurrentUser, DbSession
from skilltree.models import UserSession, UserSkillProgress
from tests.api import api_client, bearer, sign_up
from tests.factories import add_dependency, make_category, make_skill, make_tree

IDENTITY = "SELECT current_user, current_setting('app.current_user_id', true)"


def add_probes(app: FastAPI) -> None:
    """Test-only routes that show who a request's queries run as, and what they can see."""

    @app.get("/probe/identity")
    def identity(session: DbSession) -> dict[str, Any]:
        role, learner = session.execute(text(IDENTITY)).one()
        return {"role": role, "learner": learner}

    @app.get("/probe/me")
    def me(user: CurrentUser) -> dict[str, Any]:
        return {"id": user.id}

    @app.get("/probe/progress-owners")
    def progress_owners(session: DbSession, user: CurrentUser) -> list[str]:
        # The query "forgets" WHERE user_id: row-level security adds it.
        return sorted(
            set(session.execute(text("SELECT user_id FROM user_skill_progress")).scalars())
        )


@pytest.fixture
def probed(engine: Engine, session: Session) -> Iterator[TestClient]:
    """The test client, with the probe routes."""
    with api_client(engine, session) as client:
        app: FastAPI = client.app  # type: ignore[assignment]
        add_probes(app)
        yield client


def test_a_signed_in_request_runs_as_the_role_for_its_learner(probed: TestClient) -> None:
    token, user = sign_up(probed)
    answer = probed.get("/probe/identity", headers=bearer(token)).json()
    assert answer == {"role": APP_ROLE, "learner": user["id"]}


def test_an_anonymous_request_runs_as_the_role_for_no_learner(probed: TestClient) -> None:
    assert probed.get("/probe/identity").json() == {"role": APP_ROLE, "learner": ""}


def test_a_token_that_is_not_valid_is_refused_even_where_none_is_needed(
    probed: TestClient,
) -> None:
    response = probed.get("/probe/identity", headers=bearer("forged"))
    assert response.status_code == 401
    assert response.json()["code"] == "NotAuthenticated"


def test_after_a_request_the_tests_session_is_the_owners_again(
    probed: TestClient, session: Session
) -> None:
    token, _ = sign_up(probed)
    probed.get("/probe/identity", headers=bearer(token))
    role, learner = session.execute(text(IDENTITY)).one()
    assert role != APP_ROLE
    assert learner == ""


def test_sign_up_and_sign_in_write_the_new_session_as_its_learner(
    probed: TestClient, session: Session
) -> None:
    _, user = sign_up(probed, email="ada@example.com", password="correct horse")
    login = probed.post(
        "/api/v1/auth/login", json={"email": "ada@example.com", "password": "correct horse"}
    )
    assert login.status_code == 200
    owners = session.scalars(select(UserSession.user_id)).all()
    assert owners.count(user["id"]) == 2
    assert probed.get("/probe/me", headers=bearer(login.json()["token"])).json() == {
        "id": user["id"]
    }


def test_a_learner_never_reads_or_changes_another_learners_progress(
    probed: TestClient, session: Session
) -> None:
    tree = make_tree(session, make_category(session), slug="frontend")
    html = make_skill(session, tree, name="HTML")
    add_dependency(session, make_skill(session, tree, name="CSS"), html)
    session.commit()
    a, _ = sign_up(probed, email="a@example.com", username="learner-a")
    b, b_user = sign_up(probed, email="b@example.com", username="learner-b")
    assert probed.post("/api/v1/trees/frontend/enroll", headers=bearer(b)).status_code == 200
    done = probed.post(f"/api/v1/skills/{html.id}/complete", json={}, headers=bearer(b))
    assert done.status_code == 200, done.text
    b_row = session.scalars(select(UserSkillProgress).filter_by(user_id=b_user["id"])).all()

    mine = probed.get("/api/v1/me/progress", headers=bearer(a)).json()
    assert mine["trees"] == []
    assert probed.get("/probe/progress-owners", headers=bearer(a)).json() == []
    # A's own moves on the same skill are A's: B's rows stay as they were.
    probed.post(f"/api/v1/skills/{html.id}/start", headers=bearer(a))
    probed.post("/api/v1/trees/frontend/enroll", headers=bearer(a))
    probed.post(f"/api/v1/skills/{html.id}/complete", json={}, headers=bearer(a))
    owners = probed.get("/probe/progress-owners", headers=bearer(a)).json()
    assert b_user["id"] not in owners
    assert probed.get("/probe/progress-owners", headers=bearer(b)).json() == [b_user["id"]]
    session.expire_all()
    after = session.scalars(select(UserSkillProgress).filter_by(user_id=b_user["id"])).all()
    assert [(r.id, r.status, r.completed_at) for r in after] == [
        (r.id, r.status, r.completed_at) for r in b_row
    ]


def test_a_pooled_connection_comes_back_as_the_owners(engine: Engine) -> None:
    # The production unit of work (no test override): SET LOCAL ends with the transaction.
    one_connection = create_engine(engine.url, pool_size=1, max_overflow=0)
    try:
        app = create_app(one_connection)
        add_probes(app)
        with TestClient(app) as client:
            assert client.get("/probe/identity").json()["role"] == APP_ROLE
        with one_connection.connect() as connection:
            role, learner = connection.execute(text(IDENTITY)).one()
        assert role != APP_ROLE
        assert not learner
    finally:
        one_connection.dispose()


API_LOGIN = f"skilltree_test_api_{os.getpid()}"
"""A login user that is only a member of the API's role (rolled back with the test)."""


def test_the_api_needs_no_privilege_of_its_own(engine: Engine, session: Session) -> None:
    # Authentication too runs as `skilltree_app` (migration 0024): a request as a user that may
    # do nothing but switch to the role signs up, signs in, learns and signs out.
    tree = make_tree(session, make_category(session), slug="frontend")
    html = make_skill(session, tree, name="HTML").id
    session.execute(text(f"CREATE ROLE {API_LOGIN} NOLOGIN NOINHERIT"))
    session.execute(text(f"GRANT {APP_ROLE} TO {API_LOGIN}"))
    session.commit()
    # Each request's switch back ("role none", tests/api.py) returns to this user, not the owner.
    session.execute(text(f"SET LOCAL SESSION AUTHORIZATION {API_LOGIN}"))
    try:
        with api_client(engine, session) as client:
            sign_up(client, email="ada@example.com", username="ada", password="correct horse")
            login = client.post(
                "/api/v1/auth/login", json={"username": "ada", "password": "correct horse"}
            )
            assert login.status_code == 200, login.text
            token = login.json()["token"]
            me = client.get("/api/v1/me", headers=bearer(token))
            assert me.status_code == 200, me.text
            assert me.json()["email"] == "ada@example.com"
            enrolled = client.post("/api/v1/trees/frontend/enroll", headers=bearer(token))
            assert enrolled.status_code == 200, enrolled.text
            done = client.post(f"/api/v1/skills/{html}/complete", json={}, headers=bearer(token))
            assert done.status_code == 200, done.text
            assert client.get("/api/v1/me", headers=bearer(token)).json()["profile"]["totalXp"] > 0
            assert client.post("/api/v1/auth/logout", headers=bearer(token)).status_code == 204
            assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    finally:
        session.execute(text("RESET SESSION AUTHORIZATION"))
