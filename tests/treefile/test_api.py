"""POST /api/v1/trees/import and GET /api/v1/trees/{slug}/export."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from skilltree.accounts import service as accounts
from skilltree.models import Skill, SkillCategory, SkillTree, UserRole
from skilltree.treefile import repository, schemas
from tests.api import api_client, bearer, sign_up
from tests.treefile.sample import canonical_file, encode, skill, tree_file

IMPORT = "/api/v1/trees/import"
PROBLEM = "application/problem+json"


@pytest.fixture
def api(engine: Engine, session: Session, category: SkillCategory) -> Iterator[TestClient]:
    """A client on the test's session; unexpected errors come back as 500s."""
    with api_client(engine, session, raise_server_exceptions=False) as client:
        yield client


def user(client: TestClient, session: Session, name: str, role: UserRole) -> dict[str, str]:
    """Sign up `name` with `role`; return the Authorization header of their session."""
    token, _ = sign_up(client, email=f"{name}@example.com", username=name)
    accounts.set_role(session, f"{name}@example.com", role)
    session.commit()
    return bearer(token)


def post(client: TestClient, body: bytes, headers: dict[str, str], query: str = "") -> Any:
    """POST a tree file."""
    return client.post(
        IMPORT + query, content=body, headers=headers | {"content-type": "application/json"}
    )


def count(session: Session, model: type[SkillTree] | type[Skill]) -> int:
    """Rows of `model` the test's transaction holds."""
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_import_creates_201_then_updates_200(api: TestClient, session: Session) -> None:
    author = user(api, session, "author", UserRole.AUTHOR)
    created = post(api, encode(canonical_file()), author, "?publish=true")
    assert created.status_code == 201, created.text
    assert created.json() == {
        "slug": "frontend",
        "treeCreated": True,
        "isPublished": True,
        "created": 6,
        "updated": 0,
        "unchanged": 0,
        "removed": 0,
        "dependencies": 5,
    }
    document = canonical_file()
    document["skills"].pop()
    updated = post(api, encode(document), author)
    assert updated.status_code == 200
    body = updated.json()
    assert (body["treeCreated"], body["isPublished"], body["removed"], body["unchanged"]) == (
        False,
        True,
        1,
        5,
    )


def test_learners_are_403_and_strangers_401(api: TestClient, session: Session) -> None:
    learner = user(api, session, "learner", UserRole.LEARNER)
    refused = post(api, encode(canonical_file()), learner)
    assert refused.status_code == 403
    assert refused.json()["code"] == "Forbidden"
    anonymous = post(api, encode(canonical_file()), {})
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == PROBLEM
    assert count(session, SkillTree) == 0


def test_another_authors_draft_is_404_as_for_get_and_patch(
    api: TestClient, session: Session
) -> None:
    # A 403 would tell author B that a draft with this slug exists: B sees it nowhere else.
    owner = user(api, session, "owner", UserRole.AUTHOR)
    other = user(api, session, "other", UserRole.AUTHOR)
    admin = user(api, session, "admin", UserRole.ADMIN)
    assert post(api, encode(canonical_file()), owner).status_code == 201
    refused = post(api, encode(canonical_file()), other)
    read = api.get("/api/v1/trees/frontend", headers=other)
    patched = api.patch("/api/v1/trees/frontend", json={"name": "Mine"}, headers=other)
    assert refused.status_code == read.status_code == patched.status_code == 404
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["code"] == "NotFound"
    assert refused.json()["detail"] == read.json()["detail"] == patched.json()["detail"]
    assert post(api, encode(canonical_file()), admin).status_code == 200
    assert session.scalars(select(SkillTree.name)).all() == [canonical_file()["tree"]["name"]]


def test_another_authors_published_tree_is_403(api: TestClient, session: Session) -> None:
    owner = user(api, session, "owner", UserRole.AUTHOR)
    other = user(api, session, "other", UserRole.AUTHOR)
    assert post(api, encode(canonical_file()), owner, "?publish=true").status_code == 201
    refused = post(api, encode(canonical_file()), other)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "The tree 'frontend' belongs to another author."


def test_invalid_file_is_400_with_every_problem(api: TestClient, session: Session) -> None:
    author = user(api, session, "author", UserRole.AUTHOR)
    document = tree_file([skill("a", "b")], category="cooking")
    response = post(api, encode(document), author)
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == "InvalidInput"
    assert body["errors"] == [
        {"loc": ["skills", 0, "dependencies", 0], "msg": 'unknown key "b"', "type": "unknown_key"},
        {
            "loc": ["tree", "category"],
            "msg": 'unknown category "cooking"',
            "type": "unknown_category",
        },
    ]
    assert count(session, SkillTree) == 0


def test_malformed_json_is_422(api: TestClient, session: Session) -> None:
    author = user(api, session, "author", UserRole.AUTHOR)
    response = post(api, b'{"format": "skilltree.tree", ', author)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["type"] == "json_invalid"
    assert error["loc"] == ["body", 29]
    assert "line 1 column 30" in error["msg"]


def test_files_larger_than_the_api_limit_are_accepted_up_to_their_own(
    api: TestClient, session: Session
) -> None:
    author = user(api, session, "author", UserRole.AUTHOR)
    padding = "x" * 10_000
    document = tree_file([skill(f"s{i}", description=padding) for i in range(150)])
    body = encode(document)
    assert len(body) > 1024 * 1024
    assert post(api, body, author).status_code == 201
    other = api.post(
        "/api/v1/auth/login", content=body, headers={"content-type": "application/json"}
    )
    assert other.status_code == 413


def test_files_over_the_import_limit_are_413(
    engine: Engine, session: Session, category: SkillCategory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(schemas, "MAX_TREE_FILE_BYTES", 2 * 1024 * 1024)
    with api_client(engine, session) as client:
        author = user(client, session, "author", UserRole.AUTHOR)
        body = b" " * (2 * 1024 * 1024) + encode(canonical_file())
        declared = post(client, body, author)
        assert declared.status_code == 413
        assert declared.json()["code"] == "BodyTooLarge"

        def chunks() -> Iterator[bytes]:
            yield body[: len(body) // 2]
            yield body[len(body) // 2 :]

        streamed = client.post(
            IMPORT, content=chunks(), headers=author | {"content-type": "application/json"}
        )
        assert streamed.status_code == 413
    assert count(session, SkillTree) == 0


def test_a_failure_while_writing_leaves_nothing(
    api: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    author = user(api, session, "author", UserRole.AUTHOR)

    def broken(*args: object) -> None:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(repository, "insert_edges", broken)
    response = post(api, encode(canonical_file()), author)
    assert response.status_code == 500
    assert count(session, SkillTree) == 0
    assert count(session, Skill) == 0


def test_export_of_a_draft_is_404_but_for_its_author_and_admins(
    api: TestClient, session: Session
) -> None:
    owner = user(api, session, "owner", UserRole.AUTHOR)
    other = user(api, session, "other", UserRole.AUTHOR)
    admin = user(api, session, "admin", UserRole.ADMIN)
    assert post(api, encode(canonical_file()), owner).status_code == 201
    url = "/api/v1/trees/frontend/export"
    assert api.get(url).status_code == 404
    assert api.get(url, headers=other).status_code == 404
    assert api.get(url, headers=owner).json() == canonical_file()
    assert api.get(url, headers=admin).status_code == 200
    assert api.get("/api/v1/trees/nothing/export", headers=admin).status_code == 404


def test_export_of_a_published_tree_is_for_anyone(api: TestClient, session: Session) -> None:
    owner = user(api, session, "owner", UserRole.AUTHOR)
    assert post(api, encode(canonical_file()), owner, "?publish=true").status_code == 201
    response = api.get("/api/v1/trees/frontend/export")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == canonical_file()


def test_openapi_describes_the_tree_file(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()
    body = spec["paths"][IMPORT]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/TreeFile"}
    assert "TreeFile" in spec["components"]["schemas"]
