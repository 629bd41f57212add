"""Bearer sessions: stored as hashes, refused once ended or expired, touched when used."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from skilltree.models import UserSession
from tests.accounts.conftest import CLIENT_IP
from tests.api import bearer, sign_up

ME = "/api/v1/me"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def the_session(session: Session) -> UserSession:
    """The only user session, as the database holds it now."""
    session.expire_all()
    return session.scalars(select(UserSession)).one()


def test_me_answers_the_user_with_profile(client: TestClient) -> None:
    token, user = sign_up(client, firstName="Ada")
    response = client.get(ME, headers=bearer(token))

    assert response.status_code == 200
    me = response.json()
    assert me["id"] == user["id"]
    assert me["email"] == user["email"]  # given by the token's look-up (account_session)
    assert me["firstName"] == "Ada"
    assert me["profile"]["learningGoals"] == []
    assert me["profile"]["preferences"] == {}
    assert "passwordHash" not in me


@pytest.mark.parametrize(
    "headers",
    [{}, bearer("not-a-token"), {"Authorization": "Basic YWRhOnB3"}],
)
def test_me_without_a_valid_token_is_refused(client: TestClient, headers: dict[str, str]) -> None:
    response = client.get(ME, headers=headers)

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "NotAuthenticated"


def test_only_the_token_hash_is_stored(client: TestClient, session: Session) -> None:
    token, _ = sign_up(client)
    login = the_session(session)

    assert login.token_hash == hashlib.sha256(token.encode()).digest()
    rows_with_token = session.scalar(
        text("SELECT count(*) FROM user_sessions s WHERE strpos(s::text, :token) > 0"),
        {"token": token},
    )
    assert rows_with_token == 0


def test_the_session_records_address_device_and_expiry(
    client: TestClient, session: Session
) -> None:
    client.headers["User-Agent"] = FIREFOX
    sign_up(client)
    row = session.execute(
        text("SELECT pg_typeof(ip_address)::text, host(ip_address) FROM user_sessions")
    ).one()
    login = the_session(session)

    assert tuple(row) == ("inet", CLIENT_IP)
    assert login.device_info == {
        "userAgent": FIREFOX,
        "browser": "Firefox",
        "os": "Linux",
    }
    assert login.is_active
    assert login.ended_at is None
    expected_expiry = datetime.now(UTC) + timedelta(days=30)
    assert abs(login.expires_at - expected_expiry) < timedelta(minutes=1)


def test_logout_ends_the_session(client: TestClient, session: Session) -> None:
    token, _ = sign_up(client)
    response = client.post("/api/v1/auth/logout", headers=bearer(token))

    assert response.status_code == 204
    assert response.content == b""
    login = the_session(session)
    assert not login.is_active
    assert login.ended_at is not None
    assert client.get(ME, headers=bearer(token)).status_code == 401
    assert client.post("/api/v1/auth/logout", headers=bearer(token)).status_code == 401


def test_an_expired_token_is_refused(client: TestClient, session: Session) -> None:
    token, _ = sign_up(client)
    session.execute(update(UserSession).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))

    response = client.get(ME, headers=bearer(token))

    assert response.status_code == 401
    assert response.json()["code"] == "NotAuthenticated"


def test_use_touches_the_session_at_most_once_a_minute(
    client: TestClient, session: Session
) -> None:
    token, _ = sign_up(client)
    long_ago = datetime.now(UTC) - timedelta(minutes=5)
    session.execute(update(UserSession).values(last_activity_at=long_ago))

    client.get(ME, headers=bearer(token))
    touched = the_session(session).last_activity_at
    client.get(ME, headers=bearer(token))

    assert touched > long_ago + timedelta(minutes=4)
    assert the_session(session).last_activity_at == touched


def test_a_token_carries_its_user_and_opens_only_their_session(
    client: TestClient, session: Session
) -> None:
    # The user's id, then the secret: the sign-in look-up finds the learner first (issue 18,
    # blocker 10; docs/scaling.md). The id alone opens nothing.
    token, user = sign_up(client)
    other, _ = sign_up(client, email="bea@example.com", username="bea")
    user_part, dot, secret = token.partition(".")
    assert (user_part, dot) == (user["id"], ".")
    assert len(secret) >= 43  # 256 random bits
    assert client.get(ME, headers=bearer(token)).json()["id"] == user["id"]

    other_id = other.partition(".")[0]
    for forged in (f"{other_id}.{secret}", f"{user['id']}.{other.partition('.')[2]}", user_part):
        response = client.get(ME, headers=bearer(forged))
        assert response.status_code == 401, forged


def test_a_token_issued_before_tokens_carried_their_user_still_opens_its_session(
    client: TestClient, session: Session
) -> None:
    # Sessions started before migration 0044 hold tokens without the user: on one PostgreSQL
    # they keep working until they end or expire.
    _, user = sign_up(client)
    old_token = "OLDtoken_without-any-dot_0123456789abcdefghijklmnop"
    session.execute(
        update(UserSession)
        .where(UserSession.user_id == user["id"])
        .values(token_hash=hashlib.sha256(old_token.encode()).digest())
    )
    session.flush()
    assert client.get(ME, headers=bearer(old_token)).json()["id"] == user["id"]
    assert client.get(ME, headers=bearer(f"{user['id']}.{old_token}")).status_code == 401
