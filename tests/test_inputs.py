"""Hostile input is refused as problem+json naming its place, never a 500 (issue 12, part 2)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from skilltree.models import Skill, SkillTree
from tests.api import api_client
from tests.factories import Person, make_category, make_skill, make_tree

PROBLEM = "application/problem+json"


@pytest.fixture
def client(engine: Engine, session: Session) -> Iterator[TestClient]:
    with api_client(engine, session, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def tree(session: Session, author: Person) -> SkillTree:
    """A published tree of `author`."""
    return make_tree(session, make_category(session), created_by=author.id)


@pytest.fixture
def skill(session: Session, tree: SkillTree) -> Skill:
    """An active skill of `tree`."""
    return make_skill(session, tree)


def send_json(client: TestClient, method: str, url: str, body: Any, **headers: str) -> Any:
    """`body` as JSON text (a lone surrogate as its `\\ud800` escape, as a client sends it)."""
    return client.request(
        method,
        url,
        content=json.dumps(body),
        headers={"content-type": "application/json"} | headers,
    )


def assert_refused_at(response: Any, loc: list[Any], kind: str = "string_nul") -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["code"] == "ValidationFailed"
    assert {"loc": loc, "msg": problem["errors"][0]["msg"], "type": kind} in problem["errors"]


@pytest.mark.parametrize(
    ("url", "loc"),
    [
        ("/api/v1/trees/a%00b", ["path", "slug"]),
        ("/api/v1/trees/a%00b/learning-plan", ["path", "slug"]),
        ("/api/v1/skills/a%00b", ["path", "skill_id"]),
        ("/api/v1/skills/a%00b/critical-path", ["path", "skill_id"]),
        ("/api/v1/trees?category=a%00b", ["query", "category"]),
        ("/api/v1/trees?tag=a%00b", ["query", "tag"]),
        ("/api/v1/search?q=react&category=a%00b", ["query", "category"]),
        ("/api/v1/search?q=react&tag=a%00b", ["query", "tag"]),
    ],
)
def test_a_nul_in_a_parameter_is_refused_naming_it(
    client: TestClient, learner: Person, url: str, loc: list[str]
) -> None:
    for headers in ({}, learner.headers):
        assert_refused_at(client.get(url, headers=headers), loc)


SIGN_UP = {"email": "a@example.com", "username": "abc", "password": "long enough"}


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        ("/api/v1/auth/register", SIGN_UP | {"firstName": "A\x00"}, ["body", "firstName"]),
        ("/api/v1/auth/register", SIGN_UP | {"lastName": "\x00"}, ["body", "lastName"]),
        ("/api/v1/auth/login", {"email": "a\x00@example.com", "password": "x"}, ["body", "email"]),
        ("/api/v1/auth/login", {"username": "a\x00", "password": "x"}, ["body", "username"]),
    ],
)
def test_a_nul_in_a_sign_up_or_sign_in_field_is_refused_naming_it(
    client: TestClient, path: str, body: dict[str, str], loc: list[str]
) -> None:
    assert_refused_at(send_json(client, "POST", path, body), loc)


def test_a_lone_surrogate_in_evidence_is_refused_with_or_without_a_key(
    client: TestClient, learner: Person, skill: Skill
) -> None:
    body = {"evidence": {"type": "text", "content": "proof \ud800"}}
    url = f"/api/v1/skills/{skill.id}/complete"
    for key in ({}, {"Idempotency-Key": "k1"}):
        response = send_json(client, "POST", url, body, **learner.headers, **key)
        assert_refused_at(response, ["body", "evidence", "content"], "string_surrogate")


def test_a_lone_surrogate_in_a_member_name_is_refused_at_it(
    client: TestClient, learner: Person, skill: Skill
) -> None:
    body = {"evidence": {"type": "text", "content": "ok", "metadata": {"\udc00": 1}}}
    response = send_json(
        client, "POST", f"/api/v1/skills/{skill.id}/complete", body, **learner.headers
    )
    assert_refused_at(response, ["body", "evidence", "metadata", "\\udc00"], "string_surrogate")


def test_a_lone_surrogate_in_an_imported_tree_is_refused_naming_it(
    client: TestClient, author: Person
) -> None:
    document = {
        "format": "skilltree.tree",
        "version": 1,
        "tree": {"slug": "t", "name": "Tree \ud800", "category": "c"},
        "skills": [],
    }
    response = send_json(client, "POST", "/api/v1/trees/import", document, **author.headers)
    assert_refused_at(response, ["body", "tree", "name"], "string_surrogate")


def test_a_day_before_1970_is_refused_naming_it(
    client: TestClient, author: Person, tree: SkillTree
) -> None:
    url = f"/api/v1/analytics/trees/{tree.slug}/completions?to=0001-01-01"
    response = client.get(url, headers=author.headers)
    assert response.status_code == 422, response.text
    assert [e["loc"] for e in response.json()["errors"]] == [["query", "to"]]


@pytest.mark.parametrize(
    ("body", "msg"),
    [
        (b"[" * 400_000, "nested too deeply"),
        (b'{"email": "\xff", "password": "x"}', "not UTF-8"),
    ],
)
def test_a_body_that_cannot_be_parsed_is_the_documented_problem(
    client: TestClient, body: bytes, msg: str
) -> None:
    response = client.post(
        "/api/v1/auth/login", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["code"] == "ValidationFailed"
    [error] = problem["errors"]
    assert error["loc"] == ["body"]
    assert error["type"] == "json_invalid"
    assert msg in error["msg"]


def test_a_deep_document_that_parses_is_refused_not_a_500(
    client: TestClient, learner: Person, skill: Skill
) -> None:
    deep: Any = 1
    for _ in range(900):
        deep = [deep]
    body = {"evidence": {"type": "text", "content": "ok", "metadata": {"deep": deep}}}
    response = send_json(
        client, "POST", f"/api/v1/skills/{skill.id}/complete", body, **learner.headers
    )
    assert 400 <= response.status_code < 500, response.text


@pytest.mark.parametrize(
    "authorization", ["Basic dXNlcjpwYXNzd29yZA==", "garbage", "Bearer", "Bearer  ", ""]
)
@pytest.mark.parametrize("url", ["/api/v1/me", "/api/v1/trees"])
def test_an_authorization_that_is_not_a_bearer_token_is_401(
    client: TestClient, authorization: str, url: str
) -> None:
    response = client.get(url, headers={"Authorization": authorization})
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["code"] == "NotAuthenticated"
