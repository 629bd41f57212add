"""Writing trees: POST, PATCH and DELETE /api/v1/trees, for authors (own trees) and admins."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from skilltree.models import (
    Skill,
    SkillDependency,
    SkillTree,
    SkillTreePrerequisite,
    UserSkillProgress,
    UserSkillTreeProgress,
)
from tests.factories import (
    Person,
    add_dependency,
    add_tree_prerequisite,
    make_category,
    make_skill,
    make_tree,
)

TREES = "/api/v1/trees"


def new_tree(**fields: Any) -> dict[str, Any]:
    return {"categorySlug": "web", "slug": "frontend", "name": "Frontend"} | fields


@pytest.fixture(autouse=True)
def web(session: Session) -> None:
    make_category(session, name="Web", slug="web")


def test_an_author_creates_a_draft_tree(client: TestClient, author: Person) -> None:
    response = client.post(
        TREES,
        json=new_tree(
            description="HTML to React",
            shortDescription="The web",
            difficulty="INTERMEDIATE",
            estimatedHours=120,
            tags=["html", "css"],
            version="2.0.0",
            layoutConfig={"nodeSpacing": 150, "levelHeight": 180},
            themeConfig={"primaryColor": "#10B981"},
            isFeatured=True,
            isAiGenerated=True,
        ),
        headers=author.headers,
    )

    assert response.status_code == 201, response.text
    tree = response.json()
    assert tree["slug"] == "frontend"
    assert tree["category"]["slug"] == "web"
    assert (tree["difficulty"], tree["estimatedHours"], tree["tags"]) == (
        "INTERMEDIATE",
        120.0,
        ["html", "css"],
    )
    assert tree["layoutConfig"] == {"nodeSpacing": 150, "levelHeight": 180}
    assert tree["themeConfig"] == {"primaryColor": "#10B981"}
    assert (tree["isPublished"], tree["isFeatured"], tree["isAiGenerated"]) == (False, True, True)
    assert (tree["createdBy"], tree["updatedBy"]) == (author.id, author.id)
    assert (tree["skills"], tree["prerequisites"]) == ([], [])


def test_the_category_may_be_given_by_id(
    client: TestClient, session: Session, admin: Person
) -> None:
    category = make_category(session)
    response = client.post(
        TREES,
        json=new_tree(categorySlug=None, categoryId=category.id, isPublished=True),
        headers=admin.headers,
    )
    assert response.status_code == 201
    assert response.json()["categoryId"] == category.id
    assert response.json()["isPublished"] is True


def test_learners_may_not_create_trees_and_strangers_must_sign_in(
    client: TestClient, learner: Person
) -> None:
    refused = client.post(TREES, json=new_tree(), headers=learner.headers)
    assert (refused.status_code, refused.json()["code"]) == (403, "Forbidden")
    assert client.post(TREES, json=new_tree()).status_code == 401


def test_a_taken_slug_is_a_409_naming_the_field(client: TestClient, author: Person) -> None:
    assert client.post(TREES, json=new_tree(), headers=author.headers).status_code == 201
    response = client.post(TREES, json=new_tree(name="Again"), headers=author.headers)
    assert response.status_code == 409
    assert response.json()["code"] == "AlreadyExists"
    assert response.json()["errors"] == [
        {"loc": ["slug"], "msg": "is already taken", "type": "already_exists"}
    ]


@pytest.mark.parametrize(
    ("fields", "loc"),
    [
        ({"slug": "Not A Slug"}, ["body", "slug"]),
        ({"name": ""}, ["body", "name"]),
        ({"estimatedHours": -1}, ["body", "estimatedHours"]),
        ({"categoryId": "both-given"}, ["body"]),
        ({"skillTreeId": "x"}, ["body", "skillTreeId"]),
    ],
)
def test_malformed_fields_are_422_at_their_path(
    client: TestClient, author: Person, fields: dict[str, Any], loc: list[str]
) -> None:
    response = client.post(TREES, json=new_tree(**fields), headers=author.headers)
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["errors"]] == [loc]


def test_json_configs_are_checked_as_documents(client: TestClient, author: Person) -> None:
    response = client.post(
        TREES,
        json=new_tree(layoutConfig={"nodeSpacing": -5}, themeConfig={"primaryColor": "green"}),
        headers=author.headers,
    )
    assert response.status_code == 400
    assert response.json()["code"] == "InvalidInput"
    assert [e["loc"] for e in response.json()["errors"]] == [
        ["layoutConfig", "nodeSpacing"],
        ["themeConfig", "primaryColor"],
    ]


def test_an_unknown_category_is_a_400(client: TestClient, author: Person) -> None:
    response = client.post(TREES, json=new_tree(categorySlug="nowhere"), headers=author.headers)
    assert response.status_code == 400
    assert response.json()["errors"][0]["loc"] == ["categorySlug"]


def created(client: TestClient, person: Person, **fields: Any) -> dict[str, Any]:
    response = client.post(TREES, json=new_tree(**fields), headers=person.headers)
    assert response.status_code == 201, response.text
    tree: dict[str, Any] = response.json()
    return tree


def test_patch_changes_only_the_fields_given(
    client: TestClient, author: Person, admin: Person
) -> None:
    created(client, author, description="Old", tags=["html"])

    response = client.patch(
        f"{TREES}/frontend",
        json={"name": "Frontend Web", "isPublished": True, "shortDescription": None},
        headers=admin.headers,
    )

    assert response.status_code == 200, response.text
    tree = response.json()
    assert (tree["name"], tree["isPublished"], tree["shortDescription"]) == (
        "Frontend Web",
        True,
        None,
    )
    assert (tree["description"], tree["tags"]) == ("Old", ["html"])
    assert (tree["createdBy"], tree["updatedBy"]) == (author.id, admin.id)


def test_patch_may_rename_the_slug_and_move_the_category(
    client: TestClient, session: Session, author: Person
) -> None:
    created(client, author)
    make_category(session, slug="data")
    response = client.patch(
        f"{TREES}/frontend", json={"slug": "front", "categorySlug": "data"}, headers=author.headers
    )
    assert response.status_code == 200
    assert (response.json()["slug"], response.json()["category"]["slug"]) == ("front", "data")
    assert client.get(f"{TREES}/frontend", headers=author.headers).status_code == 404


def test_patch_refuses_null_where_a_value_is_required(client: TestClient, author: Person) -> None:
    created(client, author)
    response = client.patch(f"{TREES}/frontend", json={"name": None}, headers=author.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "name"]


def test_patch_to_a_taken_slug_is_a_409(client: TestClient, author: Person) -> None:
    created(client, author)
    created(client, author, slug="backend", name="Backend")
    response = client.patch(f"{TREES}/backend", json={"slug": "frontend"}, headers=author.headers)
    assert response.status_code == 409
    assert response.json()["errors"][0]["loc"] == ["slug"]


def test_patch_checks_json_configs(client: TestClient, author: Person) -> None:
    created(client, author)
    response = client.patch(
        f"{TREES}/frontend",
        json={"layoutConfig": {"direction": "sideways"}},
        headers=author.headers,
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["loc"] == ["layoutConfig", "direction"]


def test_another_authors_tree_is_forbidden_and_their_draft_is_missing(
    client: TestClient, author: Person, other_author: Person
) -> None:
    created(client, author, slug="published", isPublished=True)
    created(client, author, slug="draft")
    for method in ("PATCH", "DELETE"):
        body = {"name": "Mine now"} if method == "PATCH" else None
        published = client.request(
            method, f"{TREES}/published", json=body, headers=other_author.headers
        )
        draft = client.request(method, f"{TREES}/draft", json=body, headers=other_author.headers)
        assert (published.status_code, draft.status_code) == (403, 404)


def test_learners_and_strangers_may_not_change_trees(
    client: TestClient, author: Person, learner: Person
) -> None:
    created(client, author, isPublished=True)
    assert client.patch(f"{TREES}/frontend", json={}, headers=learner.headers).status_code == 403
    assert client.delete(f"{TREES}/frontend", headers=learner.headers).status_code == 403
    assert client.patch(f"{TREES}/frontend", json={}).status_code == 401
    assert client.delete(f"{TREES}/frontend").status_code == 401


def test_an_unknown_tree_is_a_404(client: TestClient, admin: Person) -> None:
    assert client.patch(f"{TREES}/nothing", json={}, headers=admin.headers).status_code == 404
    assert client.delete(f"{TREES}/nothing", headers=admin.headers).status_code == 404


def test_delete_takes_skills_edges_progress_and_prerequisite_links(
    client: TestClient, session: Session, author: Person, learner: Person
) -> None:
    tree_id = created(client, author)["id"]
    tree = session.get_one(SkillTree, tree_id)
    html, css = make_skill(session, tree), make_skill(session, tree)
    add_dependency(session, css, html)
    other = make_tree(session, make_category(session))
    add_tree_prerequisite(session, other, tree)
    session.add(UserSkillTreeProgress(user_id=learner.id, skill_tree_id=tree_id))
    session.add(UserSkillProgress(user_id=learner.id, skill_id=html.id, skill_tree_id=tree_id))
    session.flush()

    response = client.delete(f"{TREES}/frontend", headers=author.headers)

    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"{TREES}/frontend", headers=author.headers).status_code == 404
    left = [
        session.scalar(select(func.count()).where(condition))
        for condition in (
            SkillTree.id == tree_id,
            Skill.skill_tree_id == tree_id,
            SkillDependency.skill_tree_id == tree_id,
            UserSkillProgress.skill_tree_id == tree_id,
            UserSkillTreeProgress.skill_tree_id == tree_id,
            SkillTreePrerequisite.prerequisite_id == tree_id,
        )
    ]
    assert left == [0] * 6
    assert session.get(SkillTree, other.id) is not None
