"""Writing skills: POST /trees/{slug}/skills, GET/PATCH/DELETE /skills/{id}."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from skilltree.models import Skill, SkillTree
from tests.factories import Person, add_dependency, make_category, make_skill, make_tree

SKILLS = "/api/v1/skills"


@pytest.fixture
def tree(session: Session, author: Person) -> SkillTree:
    """A published tree of `author`, without skills."""
    return make_tree(session, make_category(session), slug="frontend", created_by=author.id)


def add_skill(client: TestClient, person: Person, **fields: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v1/trees/frontend/skills", json={"name": "HTML"} | fields, headers=person.headers
    )
    assert response.status_code == 201, response.text
    skill: dict[str, Any] = response.json()
    return skill


def test_an_author_adds_a_skill_with_every_field(
    client: TestClient, tree: SkillTree, author: Person
) -> None:
    html = add_skill(client, author, name="HTML Fundamentals", positionX=0, positionY=0)

    css = add_skill(
        client,
        author,
        key="css",
        name="CSS Styling",
        shortName="CSS",
        description="Style and layout web pages",
        learningObjectives=["Use Flexbox and Grid"],
        skillType="PRACTICAL",
        difficulty="INTERMEDIATE",
        estimatedMinutes=480,
        xpValue=75,
        positionX=200,
        positionY=10,
        nodeSize=2,
        content={"type": "structured", "modules": []},
        resources=[{"type": "link", "title": "MDN", "url": "https://developer.mozilla.org/"}],
        assessments=[{"type": "quiz", "title": "Quiz", "passingScore": 80}],
        completionPolicy={"ASSESSMENT": {"passingScore": 90}, "TIME_BASED": {"minutes": 600}},
        isOptional=True,
        isMilestone=True,
        parentSkillId=html["id"],
        dependencies=[html["id"]],
    )

    assert html["key"] == "html-fundamentals"
    assert {k: v for k, v in css.items() if k not in {"id", "createdAt", "updatedAt"}} == {
        "skillTreeId": tree.id,
        "parentSkillId": html["id"],
        "key": "css",
        "name": "CSS Styling",
        "shortName": "CSS",
        "description": "Style and layout web pages",
        "learningObjectives": ["Use Flexbox and Grid"],
        "skillType": "PRACTICAL",
        "difficulty": "INTERMEDIATE",
        "estimatedMinutes": 480,
        "xpValue": 75,
        "dependencies": [html["id"]],
        "dependents": [],
        "positionX": 200.0,
        "positionY": 10.0,
        "nodeSize": 2,
        "content": {"type": "structured", "modules": []},
        "resources": [{"type": "link", "title": "MDN", "url": "https://developer.mozilla.org/"}],
        "assessments": [{"type": "quiz", "title": "Quiz", "passingScore": 80}],
        "completionPolicy": {"ASSESSMENT": {"passingScore": 90}, "TIME_BASED": {"minutes": 600}},
        "isActive": True,
        "isOptional": True,
        "isMilestone": True,
        "createdBy": author.id,
        "updatedBy": author.id,
    }
    assert client.get(f"{SKILLS}/{html['id']}").json()["dependents"] == [css["id"]]


def test_default_keys_come_from_the_name_and_never_collide(
    client: TestClient, tree: SkillTree, author: Person
) -> None:
    keys = [add_skill(client, author, name="HTML & CSS!")["key"] for _ in range(3)]
    assert keys == ["html-css", "html-css-2", "html-css-3"]


def test_a_taken_key_is_a_409(client: TestClient, tree: SkillTree, author: Person) -> None:
    add_skill(client, author, key="html")
    response = client.post(
        "/api/v1/trees/frontend/skills", json={"name": "X", "key": "html"}, headers=author.headers
    )
    assert response.status_code == 409
    assert response.json()["errors"][0]["loc"] == ["key"]


@pytest.mark.parametrize(
    ("fields", "loc"),
    [
        ({"key": "no spaces"}, ["body", "key"]),
        ({"nodeSize": 4}, ["body", "nodeSize"]),
        ({"xpValue": -1}, ["body", "xpValue"]),
        ({"name": "nul\x00"}, ["body", "name"]),
        ({"dependencies": "not a list"}, ["body", "dependencies"]),
    ],
)
def test_malformed_skills_are_422(
    client: TestClient, tree: SkillTree, author: Person, fields: dict[str, Any], loc: list[str]
) -> None:
    response = client.post(
        "/api/v1/trees/frontend/skills", json={"name": "X"} | fields, headers=author.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == loc


def test_json_columns_and_references_are_checked_together(
    client: TestClient, session: Session, tree: SkillTree, author: Person
) -> None:
    elsewhere = make_skill(session, make_tree(session, make_category(session)))
    response = client.post(
        "/api/v1/trees/frontend/skills",
        json={
            "name": "X",
            "content": {"type": "video"},
            "resources": [{"type": "link", "title": "x", "url": "javascript:alert(1)"}],
            "dependencies": ["nope", elsewhere.id],
            "parentSkillId": elsewhere.id,
        },
        headers=author.headers,
    )
    assert response.status_code == 400
    assert [e["loc"] for e in response.json()["errors"]] == [
        ["content", "type"],
        ["resources", 0, "url"],
        ["dependencies", 0],
        ["dependencies", 1],
        ["parentSkillId"],
    ]


def test_a_skill_without_position_is_placed_by_its_layer(
    client: TestClient, session: Session, tree: SkillTree, author: Person
) -> None:
    root = add_skill(client, author, name="Root", positionX=500, positionY=500)
    first = add_skill(client, author, name="First", dependencies=[root["id"]])
    assert (first["positionX"], first["positionY"]) == (0.0, 200.0)

    second = add_skill(client, author, name="Second", dependencies=[root["id"]])
    layer = sorted([first["id"], second["id"]])
    assert (second["positionX"], second["positionY"]) == (220.0 * layer.index(second["id"]), 200.0)

    only_y = add_skill(client, author, name="Only Y", positionX=7, dependencies=[first["id"]])
    assert (only_y["positionX"], only_y["positionY"]) == (7.0, 400.0)
    assert client.get(f"{SKILLS}/{root['id']}").json()["positionX"] == 500.0
    assert client.get(f"{SKILLS}/{first['id']}").json()["positionX"] == 0.0


def test_placement_follows_the_trees_layout_config(
    client: TestClient, tree: SkillTree, author: Person
) -> None:
    client.patch(
        "/api/v1/trees/frontend",
        json={"layoutConfig": {"levelHeight": 90, "nodeSpacing": 40}},
        headers=author.headers,
    )
    root = add_skill(client, author, name="Root")
    assert (root["positionX"], root["positionY"]) == (0.0, 0.0)
    child = add_skill(client, author, name="Child", dependencies=[root["id"]])
    grandchild = add_skill(client, author, name="Grandchild", dependencies=[child["id"]])
    assert (child["positionY"], grandchild["positionY"]) == (90.0, 180.0)


def test_only_the_trees_author_or_an_admin_adds_skills(
    client: TestClient,
    session: Session,
    tree: SkillTree,
    other_author: Person,
    admin: Person,
    learner: Person,
) -> None:
    path = "/api/v1/trees/frontend/skills"
    assert client.post(path, json={"name": "X"}, headers=other_author.headers).status_code == 403
    assert client.post(path, json={"name": "X"}, headers=learner.headers).status_code == 403
    assert client.post(path, json={"name": "X"}).status_code == 401
    assert add_skill(client, admin)["createdBy"] == admin.id
    draft = make_tree(session, make_category(session), is_published=False, created_by="someone")
    hidden = f"/api/v1/trees/{draft.slug}/skills"
    assert client.post(hidden, json={"name": "X"}, headers=other_author.headers).status_code == 404


def test_patch_changes_only_the_fields_given(
    client: TestClient, tree: SkillTree, author: Person, admin: Person
) -> None:
    skill = add_skill(client, author, description="Old", xpValue=30, positionX=1, positionY=2)

    response = client.patch(
        f"{SKILLS}/{skill['id']}",
        json={"name": "HTML5", "description": None, "isActive": False, "positionY": 40},
        headers=admin.headers,
    )

    assert response.status_code == 200, response.text
    changed = response.json()
    assert (changed["name"], changed["description"], changed["isActive"]) == ("HTML5", None, False)
    assert (changed["xpValue"], changed["positionX"], changed["positionY"]) == (30, 1.0, 40.0)
    assert (changed["createdBy"], changed["updatedBy"]) == (author.id, admin.id)
    assert changed["updatedAt"] >= skill["updatedAt"]


@pytest.mark.parametrize(
    "body",
    [{"name": None}, {"skillTreeId": "elsewhere"}, {"dependencies": []}, {"key": "bad key"}],
)
def test_patch_refuses_nulls_other_trees_and_dependencies(
    client: TestClient, tree: SkillTree, author: Person, body: dict[str, Any]
) -> None:
    skill = add_skill(client, author)
    response = client.patch(f"{SKILLS}/{skill['id']}", json=body, headers=author.headers)
    assert response.status_code == 422


def test_patch_checks_keys_documents_and_parents(
    client: TestClient, tree: SkillTree, author: Person
) -> None:
    parent = add_skill(client, author, key="parent")
    child = add_skill(client, author, key="child", parentSkillId=parent["id"])
    path = f"{SKILLS}/{parent['id']}"

    taken = client.patch(path, json={"key": "child"}, headers=author.headers)
    assert (taken.status_code, taken.json()["errors"][0]["loc"]) == (409, ["key"])
    for parent_id in (child["id"], parent["id"], "nope"):
        refused = client.patch(path, json={"parentSkillId": parent_id}, headers=author.headers)
        assert (refused.status_code, refused.json()["errors"][0]["loc"]) == (400, ["parentSkillId"])
    bad = client.patch(path, json={"assessments": [{"type": "quiz"}]}, headers=author.headers)
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["loc"][:2] == ["assessments", 0]
    freed = client.patch(
        f"{SKILLS}/{child['id']}", json={"parentSkillId": None}, headers=author.headers
    )
    assert freed.json()["parentSkillId"] is None


def test_only_the_trees_author_or_an_admin_changes_skills(
    client: TestClient,
    session: Session,
    tree: SkillTree,
    author: Person,
    other_author: Person,
    learner: Person,
) -> None:
    skill = add_skill(client, author)
    path = f"{SKILLS}/{skill['id']}"
    assert client.patch(path, json={}, headers=other_author.headers).status_code == 403
    assert client.delete(path, headers=other_author.headers).status_code == 403
    assert client.patch(path, json={}, headers=learner.headers).status_code == 403
    assert client.delete(path).status_code == 401
    assert client.patch(f"{SKILLS}/nope", json={}, headers=author.headers).status_code == 404
    draft = make_tree(session, make_category(session), is_published=False, created_by="someone")
    hidden = f"{SKILLS}/{make_skill(session, draft).id}"
    assert client.patch(hidden, json={}, headers=other_author.headers).status_code == 404


def test_delete_takes_the_edges_and_keeps_dependents_valid(
    client: TestClient, session: Session, tree: SkillTree, author: Person
) -> None:
    html, css, react = (make_skill(session, tree) for _ in range(3))
    add_dependency(session, css, html)
    add_dependency(session, react, css)
    child = make_skill(session, tree, parent_skill_id=css.id)

    assert client.delete(f"{SKILLS}/{css.id}", headers=author.headers).status_code == 204

    assert client.get(f"{SKILLS}/{css.id}").status_code == 404
    assert client.get(f"{SKILLS}/{react.id}").json()["dependencies"] == []
    assert client.get(f"{SKILLS}/{html.id}").json()["dependents"] == []
    assert client.get(f"{SKILLS}/{child.id}").json()["parentSkillId"] is None
    again = client.put(
        f"{SKILLS}/{react.id}/dependencies",
        json={"dependencies": [html.id]},
        headers=author.headers,
    )
    assert again.status_code == 200
    assert session.get(Skill, css.id) is None
