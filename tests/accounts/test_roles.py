"""Roles: new users are learners; authoring needs AUTHOR or ADMIN."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from skilltree.accounts import service
from skilltree.dependencies import AuthorUser, OptionalUser
from skilltree.errors import NotFound
from skilltree.models import User, UserRole
from tests.api import api_client, bearer, sign_up


def test_a_new_user_is_a_learner(client: TestClient, session: Session) -> None:
    _, user = sign_up(client)
    assert session.get(User, user["id"]).role is UserRole.LEARNER  # type: ignore[union-attr]


def test_the_user_sees_their_role(client: TestClient, session: Session) -> None:
    token, user = sign_up(client)
    assert user["role"] == "LEARNER"
    service.set_role(session, user["email"], UserRole.AUTHOR)
    assert client.get("/api/v1/me", headers=bearer(token)).json()["role"] == "AUTHOR"


def test_set_role_finds_the_user_by_email_in_any_case(client: TestClient, session: Session) -> None:
    sign_up(client, email="ada@example.com")
    assert service.set_role(session, "ADA@Example.com", UserRole.ADMIN).role is UserRole.ADMIN
    with pytest.raises(NotFound):
        service.set_role(session, "nobody@example.com", UserRole.ADMIN)


@pytest.mark.parametrize(
    ("role", "status"), [(UserRole.LEARNER, 403), (UserRole.AUTHOR, 200), (UserRole.ADMIN, 200)]
)
def test_only_authors_and_admins_pass_the_author_check(
    engine: Engine, session: Session, role: UserRole, status: int
) -> None:
    with api_client(engine, session) as client:
        token, user = sign_up(client)
        app: FastAPI = client.app  # type: ignore[assignment]

        @app.get("/probe/author")
        def probe(author: AuthorUser) -> dict[str, str]:
            return {"id": author.id}

        @app.get("/probe/optional")
        def optional(user: OptionalUser) -> dict[str, str | None]:
            return {"id": user.id if user else None}

        service.set_role(session, user["email"], role)
        session.commit()
        response = client.get("/probe/author", headers=bearer(token))
        assert response.status_code == status
        if status == 403:
            assert response.json()["code"] == "Forbidden"
        assert client.get("/probe/author").status_code == 401
        assert client.get("/probe/optional").json() == {"id": None}
        assert client.get("/probe/optional", headers=bearer(token)).json() == {"id": user["id"]}
        assert client.get("/probe/optional", headers=bearer("forged")).status_code == 401
