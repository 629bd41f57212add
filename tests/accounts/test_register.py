"""POST /auth/register: a user, their profile and a first session, in one transaction."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from skilltree.accounts.passwords import verify_password
from skilltree.models import User, UserProfile, UserSession
from tests.api import sign_up

REGISTER = "/api/v1/auth/register"
VALID = {"email": "ada@example.com", "username": "ada", "password": "correct horse"}


def test_register_creates_the_user_and_profile_and_signs_in(
    client: TestClient, session: Session
) -> None:
    body = VALID | {"firstName": "Ada", "lastName": "Lovelace"}
    response = client.post(REGISTER, json=body)

    assert response.status_code == 201
    answer = response.json()
    user = answer["user"]
    assert user["email"] == "ada@example.com"
    assert user["firstName"] == "Ada"
    assert user["isActive"] is True
    assert user["emailVerified"] is False
    assert user["profile"]["totalXp"] == 0
    assert user["profile"]["currentLevel"] == 1
    assert user["profile"]["timezone"] == "UTC"
    assert "passwordHash" not in user
    assert "password_hash" not in user
    profile = session.get(UserProfile, user["id"])
    assert profile is not None
    stored = session.get_one(User, user["id"])
    assert verify_password(stored.password_hash, "correct horse")
    assert stored.password_hash.startswith("$argon2id$")
    assert session.scalars(select(UserSession.user_id)).all() == [user["id"]]
    assert answer["token"]


def test_the_email_is_stored_lower_cased(client: TestClient, session: Session) -> None:
    _, user = sign_up(client, email="Test@SkillTree.dev")
    assert user["email"] == "test@skilltree.dev"
    assert session.get_one(User, user["id"]).email == "test@skilltree.dev"


@pytest.mark.parametrize("email", ["ada@example.com", "ADA@Example.COM"])
def test_a_taken_email_is_a_conflict_whatever_its_case(
    client: TestClient, session: Session, email: str
) -> None:
    sign_up(client)
    response = client.post(REGISTER, json=VALID | {"email": email, "username": "other"})

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "AlreadyExists"
    assert problem["errors"] == [
        {"loc": ["email"], "msg": "is already taken", "type": "already_exists"}
    ]
    assert session.scalar(select(func.count()).select_from(User)) == 1
    assert session.scalar(select(func.count()).select_from(UserProfile)) == 1


@pytest.mark.parametrize("username", ["ada", "ADA", "Ada"])
def test_a_taken_username_is_a_conflict_whatever_its_case(
    client: TestClient, session: Session, username: str
) -> None:
    sign_up(client)
    response = client.post(
        REGISTER, json=VALID | {"email": "other@example.com", "username": username}
    )

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "AlreadyExists"
    assert problem["errors"] == [
        {"loc": ["username"], "msg": "is already taken", "type": "already_exists"}
    ]
    assert session.scalar(select(func.count()).select_from(User)) == 1


def test_the_username_keeps_the_case_it_was_given(client: TestClient) -> None:
    _, user = sign_up(client, username="Maya_Chen")
    assert user["username"] == "Maya_Chen"
    response = client.post(
        REGISTER, json=VALID | {"email": "maya@example.com", "username": "maya_chen"}
    )
    assert response.status_code == 409


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"email": "not-an-email"}, ["body", "email"]),
        ({"password": "short"}, ["body", "password"]),
        ({"password": "x" * 129}, ["body", "password"]),
        ({"username": "ab"}, ["body", "username"]),
        ({"username": "has space"}, ["body", "username"]),
        ({"nickname": "ada"}, ["body", "nickname"]),
    ],
)
def test_a_malformed_registration_names_the_field(
    client: TestClient, change: dict[str, Any], loc: list[str]
) -> None:
    response = client.post(REGISTER, json=VALID | change)

    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "ValidationFailed"
    assert [e["loc"] for e in problem["errors"]] == [loc]


def test_a_registration_without_password_is_refused(client: TestClient) -> None:
    response = client.post(REGISTER, json={"email": "a@example.com", "username": "ada"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "password"]
