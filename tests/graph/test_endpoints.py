"""Graph API: transitive prerequisites and dependents, critical path, learning plan, visibility."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from skilltree.accounts import service as accounts
from skilltree.models import Skill, SkillTree, UserRole
from tests.api import bearer, sign_up
from tests.factories import add_dependency, make_category, make_skill, make_tree


def frontend(session: Session, **tree: object) -> tuple[SkillTree, dict[str, Skill]]:
    """html <- css, html <- js, (css, js) <- react, react <- next; plus an inactive skill."""
    built = make_tree(session, make_category(session), **tree)
    minutes = {"html": 300, "css": 480, "js": 900, "react": 600, "next": 240}
    skills = {
        key: make_skill(
            session, built, key=key, name=key.upper(), estimated_minutes=m, position_y=0
        )
        for key, m in minutes.items()
    }
    skills["old"] = make_skill(session, built, key="old", name="OLD", is_active=False)
    for skill, needs in [("css", "html"), ("js", "html"), ("react", "css"), ("react", "js")]:
        add_dependency(session, skills[skill], skills[needs])
    add_dependency(session, skills["next"], skills["react"])
    add_dependency(session, skills["next"], skills["old"])
    return built, skills


def test_prerequisites_at_every_depth_with_distance(client: TestClient, session: Session) -> None:
    _, s = frontend(session)
    response = client.get(f"/api/v1/skills/{s['next'].id}/prerequisites")
    assert response.status_code == 200
    # The inactive OLD is not listed: inactive skills count nowhere else (progress, learning
    # plan, critical path, tree documents), so they no longer count as prerequisites either.
    assert [(r["name"], r["depth"]) for r in response.json()] == [
        ("REACT", 1),
        ("CSS", 2),
        ("JS", 2),
        ("HTML", 3),
    ]


def test_prerequisites_of_a_deep_chain(client: TestClient, session: Session) -> None:
    tree = make_tree(session, make_category(session))
    chain = [make_skill(session, tree, key=f"k{i}", name=f"S{i:03d}") for i in range(60)]
    for later, earlier in zip(chain[1:], chain, strict=False):
        add_dependency(session, later, earlier)
    found = client.get(f"/api/v1/skills/{chain[-1].id}/prerequisites").json()
    assert len(found) == 59
    assert found[-1] == {"id": chain[0].id, "name": "S000", "depth": 59}


def test_dependents_mirror_prerequisites(client: TestClient, session: Session) -> None:
    _, s = frontend(session)
    found = client.get(f"/api/v1/skills/{s['html'].id}/dependents").json()
    assert [(r["name"], r["depth"]) for r in found] == [
        ("CSS", 1),
        ("JS", 1),
        ("REACT", 2),
        ("NEXT", 3),
    ]


def test_critical_path_takes_the_longest_chain(client: TestClient, session: Session) -> None:
    _, s = frontend(session)
    path = client.get(f"/api/v1/skills/{s['next'].id}/critical-path").json()
    assert [p["name"] for p in path["skills"]] == ["HTML", "JS", "REACT", "NEXT"]
    assert path["totalMinutes"] == 300 + 900 + 600 + 240


def test_learning_plan_orders_and_layers_active_skills(
    client: TestClient, session: Session
) -> None:
    tree, s = frontend(session)
    plan = client.get(f"/api/v1/trees/{tree.slug}/learning-plan").json()
    names = {skill.id: skill.name for skill in s.values()}
    assert [[names[i] for i in layer] for layer in plan["layers"]] == [
        ["HTML"],
        sorted(["CSS", "JS"], key=lambda n: s[n.lower()].id),
        ["REACT"],
        ["NEXT"],
    ]
    order = [names[i] for i in plan["order"]]
    assert order[0] == "HTML"
    assert order[-2:] == ["REACT", "NEXT"]
    assert "OLD" not in order


def test_unknown_skill_and_tree_are_404(client: TestClient) -> None:
    assert client.get("/api/v1/skills/nope/prerequisites").status_code == 404
    assert client.get("/api/v1/trees/nope/learning-plan").status_code == 404


def test_an_unpublished_tree_is_hidden_except_from_its_author_and_admins(
    client: TestClient, session: Session
) -> None:
    author_token, author = sign_up(client, email="author@example.com", username="author")
    learner_token, _ = sign_up(client, email="learner@example.com", username="learner")
    admin_token, admin = sign_up(client, email="admin@example.com", username="admin")
    accounts.set_role(session, author["email"], UserRole.AUTHOR)
    accounts.set_role(session, admin["email"], UserRole.ADMIN)
    tree, s = frontend(session, is_published=False, created_by=author["id"])
    url = f"/api/v1/skills/{s['react'].id}/prerequisites"
    assert client.get(url).status_code == 404
    assert client.get(url, headers=bearer(learner_token)).status_code == 404
    assert client.get(url, headers=bearer(author_token)).status_code == 200
    assert client.get(url, headers=bearer(admin_token)).status_code == 200
    plan = f"/api/v1/trees/{tree.slug}/learning-plan"
    assert client.get(plan).status_code == 404
    assert client.get(plan, headers=bearer(author_token)).status_code == 200


def test_the_tree_document_carries_the_learning_order_and_layers(
    client: TestClient, session: Session
) -> None:
    tree, s = frontend(session)
    document = client.get(f"/api/v1/trees/{tree.slug}").json()
    plan = client.get(f"/api/v1/trees/{tree.slug}/learning-plan").json()
    assert document["learningOrder"] == plan["order"]
    assert document["layers"] == plan["layers"]
    assert document["learningOrder"][0] == s["html"].id
