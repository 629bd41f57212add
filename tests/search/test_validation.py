"""Bad query text is refused with a 422 problem naming `q`, never a 500; any other text is
searched as plain text (bound as a parameter, never spliced into SQL)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.search.conftest import Corpus

ENDPOINTS = ("/api/v1/search", "/api/v1/search/suggest")


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    ("q", "message"),
    [
        ("", "must contain something to search for"),
        ("   ", "must contain something to search for"),
        ("x" * 201, "at most 200 characters"),
        ("react\x00", "must not contain NUL characters"),  # refused for every route first
        ("react\nhooks", "must not contain control characters"),
        ("\x1b[31mred", "must not contain control characters"),
    ],
)
def test_bad_query_text_is_a_problem_naming_q(
    client: TestClient, path: str, q: str, message: str
) -> None:
    response = client.get(path, params={"q": q})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "ValidationFailed"
    [error] = body["errors"]
    assert error["loc"] == ["query", "q"]
    assert message in error["msg"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_missing_query_is_a_problem_naming_q(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "q"]


def test_bad_filters_are_problems_naming_them(client: TestClient) -> None:
    for params, field in (
        ({"type": "user"}, "type"),
        ({"difficulty": "EASY"}, "difficulty"),
        ({"pageSize": "500"}, "pageSize"),
        ({"page": "0"}, "page"),
    ):
        response = client.get("/api/v1/search", params={"q": "react", **params})
        assert response.status_code == 422, params
        assert response.json()["errors"][0]["loc"] == ["query", field]


def test_two_hundred_characters_are_fine(client: TestClient, corpus: Corpus) -> None:
    response = client.get("/api/v1/search", params={"q": "react " * 33 + "ab"})
    assert response.status_code == 200


search_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=200
).filter(str.strip)


# Read-only requests: sharing the test's client and corpus between examples is safe.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
@given(q=search_text)
def test_any_acceptable_text_is_answered(client: TestClient, corpus: Corpus, q: str) -> None:
    for path in ENDPOINTS:
        response = client.get(path, params={"q": q})
        assert response.status_code == 200, (q, response.text)
        assert response.json()["query"] == q.strip()
