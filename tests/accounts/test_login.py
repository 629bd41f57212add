"""POST /auth/login: one answer for every failure, a new session on success."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from skilltree.models import User, UserSession
from tests.api import bearer, sign_up

LOGIN = "/api/v1/auth/login"


@pytest.fixture
def ada(client: TestClient) -> dict[str, Any]:
    """A registered user, ada / correct horse."""
    return sign_up(client, email="Ada@Example.com")[1]


@pytest.mark.parametrize(
    "login",
    [
        {"email": "ada@example.com"},
        {"email": "ADA@example.COM"},
        {"username": "ada"},
        {"username": "Ada"},  # usernames are one name whatever their case (migration 0027)
    ],
)
def test_login_by_email_or_username(
    client: TestClient, session: Session, ada: dict[str, Any], login: dict[str, str]
) -> None:
    response = client.post(LOGIN, json=login | {"password": "correct horse"})

    assert response.status_code == 200
    answer = response.json()
    assert answer["user"]["id"] == ada["id"]
    # The API's role may not read emails: the one the password proved comes with the check.
    assert answer["user"]["email"] == "ada@example.com"
    assert answer["user"]["profile"]["currentLevel"] == 1
    assert answer["user"]["lastLoginAt"] is not None
    assert session.get_one(User, ada["id"]).last_login_at is not None
    assert client.get("/api/v1/me", headers=bearer(answer["token"])).status_code == 200


def test_each_login_is_a_new_session(client: TestClient, session: Session, ada: Any) -> None:
    first = client.post(LOGIN, json={"username": "ada", "password": "correct horse"})
    second = client.post(LOGIN, json={"username": "ada", "password": "correct horse"})

    assert first.json()["token"] != second.json()["token"]
    assert session.scalar(select(func.count()).select_from(UserSession)) == 3


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(
    client: TestClient, ada: Any
) -> None:
    wrong_password = client.post(LOGIN, json={"email": "ada@example.com", "password": "incorrect"})
    unknown_user = client.post(LOGIN, json={"email": "bob@example.com", "password": "incorrect"})

    assert wrong_password.status_code == unknown_user.status_code == 401
    assert wrong_password.json() == unknown_user.json()
    assert wrong_password.json()["code"] == "InvalidCredentials"
    assert wrong_password.headers["www-authenticate"] == "Bearer"


def test_an_inactive_user_cannot_sign_in(client: TestClient, session: Session, ada: Any) -> None:
    session.execute(update(User).values(is_active=False))
    response = client.post(LOGIN, json={"username": "ada", "password": "correct horse"})

    assert response.status_code == 401
    assert response.json()["code"] == "InvalidCredentials"


@pytest.mark.parametrize(
    "body",
    [
        {"password": "correct horse"},
        {"email": "ada@example.com", "username": "ada", "password": "correct horse"},
    ],
)
def test_login_takes_exactly_one_of_email_and_username(
    client: TestClient, body: dict[str, str]
) -> None:
    response = client.post(LOGIN, json=body)

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body"]
