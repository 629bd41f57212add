"""HTTP conventions shared by every endpoint: problem+json errors, size limit, docs (health and
readiness: tests/operations/test_endpoints.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.api import api_client

PROBLEM = "application/problem+json"


@pytest.fixture
def client(engine: Engine, session: Session) -> Iterator[TestClient]:
    with api_client(engine, session, raise_server_exceptions=False) as client:
        yield client


def assert_problem(response_json: dict[str, object], status: int) -> None:
    assert response_json["status"] == status
    assert response_json["type"] == "about:blank"
    assert isinstance(response_json["title"], str)
    assert isinstance(response_json["detail"], str)


def test_unknown_route_is_a_problem(client: TestClient) -> None:
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert_problem(response.json(), 404)
    assert response.json()["code"] == "NotFound"


def test_wrong_method_is_a_problem(client: TestClient) -> None:
    response = client.delete("/api/v1/auth/login")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "MethodNotAllowed"


def test_options_on_the_import_path_names_the_import_method(client: TestClient) -> None:
    # /trees/{slug} took /trees/import too (a tree may be called `import`) and named its GET.
    response = client.options("/api/v1/trees/import")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/api/v1/trees", "GET, POST"),
        ("/api/v1/trees/frontend", "DELETE, GET, PATCH"),
        ("/api/v1/skills/some-id", "DELETE, GET, PATCH"),
        ("/api/v1/auth/login", "POST"),
    ],
)
def test_a_refused_method_names_every_method_of_the_path(
    client: TestClient, path: str, allowed: str
) -> None:
    # Starlette names the methods of the first route of the path only (GET of GET and POST).
    for method in ("OPTIONS", "PUT"):
        response = client.request(method, path)
        assert response.status_code == 405
        assert response.headers["allow"] == allowed
        assert response.json()["code"] == "MethodNotAllowed"


def test_malformed_json_is_422_with_its_location(client: TestClient) -> None:
    response = client.post(
        "/api/v1/auth/login", content=b'{"email": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    body = response.json()
    assert_problem(body, 422)
    assert body["errors"][0]["type"] == "json_invalid"
    assert body["errors"][0]["loc"][0] == "body"


def test_wrong_types_are_422_naming_the_field(client: TestClient) -> None:
    response = client.post(
        "/api/v1/auth/register", json={"email": 5, "username": [], "password": "long enough"}
    )
    assert response.status_code == 422
    locations = {tuple(e["loc"]) for e in response.json()["errors"]}
    assert ("body", "email") in locations
    assert ("body", "username") in locations


def test_oversize_body_with_length_is_413(client: TestClient) -> None:
    response = client.post(
        "/api/v1/auth/login",
        content=b"x" * (1024 * 1024 + 1),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert_problem(response.json(), 413)


def test_oversize_streamed_body_is_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b"x" * 65536

    response = client.post(
        "/api/v1/auth/login", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


def test_docs_are_served_without_a_cdn(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower()
    assert "/docs-assets/swagger-ui-bundle.js" in page.text
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/docs-assets/swagger-ui.css").status_code == 200
    schema = client.get("/openapi.json").json()
    assert "/api/v1/auth/login" in schema["paths"]
