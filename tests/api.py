"""API test clients whose requests run on the test's rolled-back session, and sign-up helpers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from skilltree.app import create_app
from skilltree.db.rls import act_as_owner
from skilltree.dependencies import get_session


@contextmanager
def api_client(engine: Engine, session: Session, **options: Any) -> Iterator[TestClient]:
    """A TestClient (`options` go to it) whose requests use `session` as their unit of work.

    Each request starts from what the database holds (the session's objects are expired) and
    commits or rolls back as in production, inside a savepoint of the test's transaction, which
    still rolls everything back at the end. After each request the session is the owner's again:
    a request's `SET LOCAL ROLE` would otherwise outlive it, up to the test's transaction end.
    """
    app = create_app(engine)

    def test_session() -> Iterator[Session]:
        session.expire_all()
        # Each request in its own savepoint: a failed request undoes only its own writes,
        # never the rows the test set up before it.
        request = session.begin_nested()
        try:
            yield session
            request.commit()
        except BaseException:
            request.rollback()
            raise
        finally:
            act_as_owner(session)

    app.dependency_overrides[get_session] = test_session
    with TestClient(app, **options) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    """The Authorization header that presents `token`."""
    return {"Authorization": f"Bearer {token}"}


def sign_up(client: TestClient, **fields: Any) -> tuple[str, dict[str, Any]]:
    """Register a user (defaults overridable by `fields`) and return its token and user JSON."""
    body = {"email": "ada@example.com", "username": "ada", "password": "correct horse"} | fields
    response = client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer["token"], answer["user"]
