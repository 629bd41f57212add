"""PUT /skills/{id}/dependencies and PUT /trees/{slug}/prerequisites: whole lists, all or nothing,
never a cycle."""

from __future__ import annotations

import random
from collections import defaultdict

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from skilltree.models import Skill, SkillTree
from tests.factories import (
    Person,
    add_dependency,
    add_tree_prerequisite,
    make_category,
    make_skill,
    make_tree,
)

SKILLS = "/api/v1/skills"


@pytest.fixture
def tree(session: Session, author: Person) -> SkillTree:
    """A published tree of `author`."""
    return make_tree(session, make_category(session), slug="frontend", created_by=author.id)


@pytest.fixture
def skills(session: Session, tree: SkillTree) -> dict[str, Skill]:
    """HTML, CSS, JS and React, without edges."""
    return {name: make_skill(session, tree, name=name) for name in ("HTML", "CSS", "JS", "React")}


def put(client: TestClient, person: Person, skill: Skill, *needs: str) -> dict[str, object]:
    response = client.put(
        f"{SKILLS}/{skill.id}/dependencies",
        json={"dependencies": list(needs)},
        headers=person.headers,
    )
    body: dict[str, object] = response.json()
    body["status"] = response.status_code
    return body


def dependencies_of(client: TestClient, skill: Skill) -> list[str]:
    found: list[str] = client.get(f"{SKILLS}/{skill.id}").json()["dependencies"]
    return found


def test_put_replaces_the_whole_list(
    client: TestClient, author: Person, skills: dict[str, Skill]
) -> None:
    html, css, js, react = skills.values()
    assert put(client, author, react, css.id)["dependencies"] == [css.id]

    answer = put(client, author, react, js.id, html.id, js.id)

    assert answer["status"] == 200
    assert answer["dependencies"] == sorted([js.id, html.id])
    assert answer["updatedBy"] == author.id
    assert client.get(f"{SKILLS}/{css.id}").json()["dependents"] == []
    assert client.get(f"{SKILLS}/{html.id}").json()["dependents"] == [react.id]
    assert put(client, author, react)["dependencies"] == []


def test_unknown_skills_and_skills_of_other_trees_are_400_at_their_index(
    client: TestClient, session: Session, author: Person, skills: dict[str, Skill]
) -> None:
    html, css, _, react = skills.values()
    put(client, author, react, css.id)
    elsewhere = make_skill(session, make_tree(session, make_category(session)))

    answer = put(client, author, react, html.id, "nope", elsewhere.id, react.id)

    assert (answer["status"], answer["code"]) == (400, "InvalidInput")
    assert answer["errors"] == [
        {
            "loc": ["dependencies", 1],
            "msg": "no skill of this tree has the id 'nope'",
            "type": "unknown",
        },
        {
            "loc": ["dependencies", 2],
            "msg": f"no skill of this tree has the id {elsewhere.id!r}",
            "type": "unknown",
        },
        {
            "loc": ["dependencies", 3],
            "msg": "a skill cannot depend on itself",
            "type": "self_reference",
        },
    ]
    assert dependencies_of(client, react) == [css.id]


def test_a_cycle_is_a_409_naming_it_and_the_old_list_stays(
    client: TestClient, author: Person, skills: dict[str, Skill]
) -> None:
    html, css, js, _ = skills.values()
    put(client, author, html, js.id)
    put(client, author, css, html.id)

    response = client.put(
        f"{SKILLS}/{html.id}/dependencies",
        json={"dependencies": [css.id]},
        headers=author.headers,
    )

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Conflict",
        "status": 409,
        "detail": "The prerequisites would form a cycle: HTML -> CSS -> HTML.",
        "code": "DependencyCycle",
        "instance": f"{SKILLS}/{html.id}/dependencies",
        "cycle": [
            {"id": html.id, "name": "HTML"},
            {"id": css.id, "name": "CSS"},
            {"id": html.id, "name": "HTML"},
        ],
    }
    assert dependencies_of(client, html) == [js.id]


def test_a_cycle_at_any_depth_is_named_along_its_edges(
    client: TestClient, session: Session, tree: SkillTree, author: Person
) -> None:
    chain = [make_skill(session, tree, name=f"S{i}") for i in range(12)]
    for later, earlier in zip(chain[1:], chain, strict=False):
        add_dependency(session, later, earlier)

    answer = put(client, author, chain[0], chain[-1].id)

    assert answer["status"] == 409
    names = ["S0", *(f"S{i}" for i in range(11, -1, -1))]
    assert answer["detail"] == f"The prerequisites would form a cycle: {' -> '.join(names)}."


def test_dependents_are_always_the_reverse_of_dependencies(
    client: TestClient, session: Session, tree: SkillTree, author: Person
) -> None:
    nodes = [make_skill(session, tree, name=f"N{i}") for i in range(8)]
    chooser = random.Random(20250914)
    refused = 0
    for _ in range(25):
        skill = chooser.choice(nodes)
        needs = chooser.sample([n.id for n in nodes if n is not skill], chooser.randint(0, 3))
        refused += put(client, author, skill, *needs)["status"] == 409

    assert refused > 0, "the sequence should try some cycles too"
    details = [client.get(f"{SKILLS}/{n.id}").json() for n in nodes]
    reverse: dict[str, list[str]] = defaultdict(list)
    for detail in details:
        for needed in detail["dependencies"]:
            reverse[needed].append(detail["id"])
    assert {d["id"]: d["dependents"] for d in details} == {
        n.id: sorted(reverse[n.id]) for n in nodes
    }
    document = client.get("/api/v1/trees/frontend").json()
    assert {s["id"]: (s["dependencies"], s["dependents"]) for s in document["skills"]} == {
        d["id"]: (d["dependencies"], d["dependents"]) for d in details
    }


def test_only_the_trees_author_or_an_admin_sets_dependencies(
    client: TestClient,
    author: Person,
    other_author: Person,
    admin: Person,
    learner: Person,
    skills: dict[str, Skill],
) -> None:
    html, css, _, _ = skills.values()
    assert put(client, other_author, css, html.id)["status"] == 403
    assert put(client, learner, css, html.id)["status"] == 403
    assert (
        client.put(f"{SKILLS}/{css.id}/dependencies", json={"dependencies": []}).status_code == 401
    )
    assert (
        client.put(
            f"{SKILLS}/nope/dependencies", json={"dependencies": []}, headers=author.headers
        ).status_code
        == 404
    )
    assert put(client, admin, css, html.id)["status"] == 200


# --- tree prerequisites ---


def put_prerequisites(
    client: TestClient, person: Person, slug: str, *slugs: str
) -> dict[str, object]:
    response = client.put(
        f"/api/v1/trees/{slug}/prerequisites",
        json={"prerequisites": list(slugs)},
        headers=person.headers,
    )
    body: dict[str, object] = response.json()
    body["status"] = response.status_code
    return body


@pytest.fixture
def trees(session: Session, author: Person) -> dict[str, SkillTree]:
    """Three published trees of `author`: html, css, js."""
    category = make_category(session)
    return {
        slug: make_tree(session, category, slug=slug, name=slug.upper(), created_by=author.id)
        for slug in ("html", "css", "js")
    }


def test_put_prerequisites_replaces_the_list(
    client: TestClient, author: Person, trees: dict[str, SkillTree]
) -> None:
    put_prerequisites(client, author, "js", "css")

    answer = put_prerequisites(client, author, "js", "html", "css", "html")

    assert answer["status"] == 200
    assert answer["prerequisites"] == [
        {"id": trees["css"].id, "slug": "css", "name": "CSS"},
        {"id": trees["html"].id, "slug": "html", "name": "HTML"},
    ]
    document = client.get("/api/v1/trees/js").json()
    assert document["prerequisites"] == sorted([trees["css"].id, trees["html"].id])
    assert put_prerequisites(client, author, "js")["prerequisites"] == []


def test_tree_cycles_are_409_with_the_tree_names(
    client: TestClient, session: Session, author: Person, trees: dict[str, SkillTree]
) -> None:
    add_tree_prerequisite(session, trees["css"], trees["html"])
    add_tree_prerequisite(session, trees["js"], trees["css"])
    put_prerequisites(client, author, "html")

    answer = put_prerequisites(client, author, "html", "js")

    assert (answer["status"], answer["code"]) == (409, "DependencyCycle")
    assert answer["detail"] == "The prerequisites would form a cycle: HTML -> JS -> CSS -> HTML."
    assert [step["name"] for step in answer["cycle"]] == ["HTML", "JS", "CSS", "HTML"]  # type: ignore[attr-defined]
    assert client.get("/api/v1/trees/html").json()["prerequisites"] == []


def test_unknown_hidden_and_own_slugs_are_400_at_their_index(
    client: TestClient, session: Session, author: Person, trees: dict[str, SkillTree]
) -> None:
    make_tree(session, make_category(session), slug="secret", is_published=False)
    put_prerequisites(client, author, "js", "css")

    answer = put_prerequisites(client, author, "js", "html", "nope", "secret", "js")

    assert answer["status"] == 400
    assert [e["loc"] for e in answer["errors"]] == [  # type: ignore[attr-defined]
        ["prerequisites", 1],
        ["prerequisites", 2],
        ["prerequisites", 3],
    ]
    assert client.get("/api/v1/trees/js").json()["prerequisites"] == [trees["css"].id]


def test_only_the_trees_author_or_an_admin_sets_prerequisites(
    client: TestClient,
    author: Person,
    other_author: Person,
    admin: Person,
    learner: Person,
    trees: dict[str, SkillTree],
) -> None:
    assert put_prerequisites(client, other_author, "js", "css")["status"] == 403
    assert put_prerequisites(client, learner, "js", "css")["status"] == 403
    anonymous = client.put("/api/v1/trees/js/prerequisites", json={"prerequisites": []})
    assert anonymous.status_code == 401
    assert put_prerequisites(client, admin, "js", "css")["status"] == 200
    assert put_prerequisites(client, admin, "nope", "css")["status"] == 404
    assert put_prerequisites(client, admin, "js", "Bad Slug")["status"] == 422


def test_a_list_closing_two_cycles_at_once_is_refused_promptly(
    client: TestClient, session: Session, tree: SkillTree, author: Person
) -> None:
    # Ids chosen so that migration 0002's cycle report, given both edges in one statement,
    # would walk round the a -> s -> q -> a cycle forever; the service inserts one edge at a time.
    a, p, q, s = (make_skill(session, tree, id=f"skill-{x}", name=x.upper()) for x in "apqs")
    add_dependency(session, p, s)
    add_dependency(session, q, a)
    add_dependency(session, a, s)
    session.execute(text("SET LOCAL statement_timeout = '5s'"))

    answer = put(client, author, s, p.id, q.id)

    assert answer["status"] == 409
    assert answer["detail"] == "The prerequisites would form a cycle: S -> P -> S."
    assert dependencies_of(client, s) == []
