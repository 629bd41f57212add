"""GET /health (the process, no database), GET /ready (the database answers, at the schema's
head) and who may read GET /metrics."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine

from skilltree.app import create_app
from skilltree.db import migrate
from skilltree.db.session import create_db_engine
from tests import databases
from tests.operations.conftest import AUTHORIZED

PROBLEM = "application/problem+json"
UNREACHABLE = "postgresql+psycopg://nobody@127.0.0.1:1/nothing"


@pytest.fixture
def unreachable() -> Iterator[TestClient]:
    """A client of an app whose database does not answer."""
    dead = create_engine(UNREACHABLE)
    with TestClient(create_app(dead)) as client:
        yield client
    dead.dispose()


def test_health_says_the_process_is_up_without_asking_the_database(
    unreachable: TestClient,
) -> None:
    response = unreachable.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_when_the_database_answers_at_head(client: TestClient) -> None:
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "database": "ok",
        "revision": migrate.head_revision(),
    }


def test_not_ready_when_the_database_does_not_answer(unreachable: TestClient) -> None:
    response = unreachable.get("/ready")
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["retry-after"] == "5"
    body = response.json()
    assert (body["status"], body["code"]) == (503, "DatabaseUnavailable")


@pytest.fixture(scope="module")
def scratch() -> Iterator[Engine]:
    """A database of this module's own, migrated to head."""
    name = databases.test_database_name("ready")
    engine = create_db_engine(databases.create_database(name))
    migrate.upgrade(engine)
    yield engine
    engine.dispose()
    databases.drop_database(name)


def test_not_ready_one_revision_behind_then_ready_again_at_head(scratch: Engine) -> None:
    head = migrate.head_revision()
    migrate.downgrade(scratch, "-1")
    behind = migrate.current_revision(scratch)
    assert behind is not None
    assert behind != head
    try:
        with TestClient(create_app(scratch)) as client:
            response = client.get("/ready")
            assert response.status_code == 503
            assert response.headers["content-type"] == PROBLEM
            body = response.json()
            assert body["code"] == "SchemaNotAtHead"
            assert (body["revision"], body["head"]) == (behind, head)
            assert "skilltree db upgrade" in body["detail"]
            assert client.get("/health").status_code == 200  # up, just not ready
    finally:
        migrate.upgrade(scratch)
    with TestClient(create_app(scratch)) as client:
        assert client.get("/ready").json()["revision"] == head


def test_ready_and_health_are_documented_without_a_token(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert "security" not in document["paths"]["/health"]["get"]
    assert "security" not in document["paths"]["/ready"]["get"]
    assert "503" in document["paths"]["/ready"]["get"]["responses"]
    assert "/metrics" not in document["paths"]


def test_metrics_are_off_without_a_token_setting(client: TestClient) -> None:
    response = client.get("/metrics", headers=AUTHORIZED)
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-the-token-at-all-0000"}, {"Authorization": "Basic x"}],
    ids=["none", "wrong", "not-bearer"],
)
def test_metrics_need_the_token(
    client: TestClient, metrics_token: str, headers: dict[str, str]
) -> None:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"] == "Bearer"


def test_metrics_for_the_bearer_of_the_token(client: TestClient, metrics_token: str) -> None:
    response = client.get("/metrics", headers=AUTHORIZED)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "skilltree_http_requests_total" in response.text
    assert "skilltree_database_up 1.0" in response.text
