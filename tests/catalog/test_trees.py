"""GET /api/v1/trees: published trees only, filtered, paginated in a stable order."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from skilltree.models import DifficultyLevel
from tests.factories import make_category, make_skill, make_tree


def slugs(body: dict[str, object]) -> list[str]:
    items = body["items"]
    assert isinstance(items, list)
    return [item["slug"] for item in items]


def test_lists_published_trees_featured_first_then_by_name(
    client: TestClient, session: Session
) -> None:
    category = make_category(session)
    make_tree(session, category, name="Beta", slug="beta")
    make_tree(session, category, name="Alpha", slug="alpha")
    make_tree(session, category, name="Zeta", slug="zeta", is_featured=True)
    make_tree(session, category, name="Draft", slug="draft", is_published=False)

    body = client.get("/api/v1/trees").json()

    assert slugs(body) == ["zeta", "alpha", "beta"]
    assert body["total"] == 3
    assert (body["page"], body["pageSize"]) == (1, 20)


def test_item_carries_its_category_and_active_skill_count(
    client: TestClient, session: Session
) -> None:
    category = make_category(session, name="Web Development", slug="web-development")
    tree = make_tree(
        session,
        category,
        name="Frontend",
        slug="frontend",
        short_description="HTML, CSS, JS",
        difficulty=DifficultyLevel.INTERMEDIATE,
        estimated_hours=120.0,
        tags=["html", "css"],
    )
    make_skill(session, tree)
    make_skill(session, tree)
    make_skill(session, tree, is_active=False)

    [item] = client.get("/api/v1/trees").json()["items"]

    assert item == {
        "id": tree.id,
        "name": "Frontend",
        "slug": "frontend",
        "shortDescription": "HTML, CSS, JS",
        "difficulty": "INTERMEDIATE",
        "estimatedHours": 120.0,
        "tags": ["html", "css"],
        "version": "1.0.0",
        "isPublished": True,
        "isFeatured": False,
        "isAiGenerated": False,
        "category": {"id": category.id, "name": "Web Development", "slug": "web-development"},
        "skillCount": 2,
    }


def test_filters_by_category_slug(client: TestClient, session: Session) -> None:
    web, data = make_category(session, slug="web"), make_category(session, slug="data")
    make_tree(session, web, slug="frontend")
    make_tree(session, data, slug="sql")

    body = client.get("/api/v1/trees", params={"category": "data"}).json()

    assert (slugs(body), body["total"]) == (["sql"], 1)


def test_filters_by_difficulty(client: TestClient, session: Session) -> None:
    category = make_category(session)
    make_tree(session, category, slug="easy", difficulty=DifficultyLevel.BEGINNER)
    make_tree(session, category, slug="hard", difficulty=DifficultyLevel.EXPERT)

    body = client.get("/api/v1/trees", params={"difficulty": "EXPERT"}).json()

    assert slugs(body) == ["hard"]


def test_filters_by_tag(client: TestClient, session: Session) -> None:
    category = make_category(session)
    make_tree(session, category, slug="react", tags=["javascript", "react"])
    make_tree(session, category, slug="django", tags=["python"])

    body = client.get("/api/v1/trees", params={"tag": "javascript"}).json()

    assert slugs(body) == ["react"]


def test_filters_combine(client: TestClient, session: Session) -> None:
    category = make_category(session, slug="web")
    make_tree(session, category, slug="a", tags=["js"], difficulty=DifficultyLevel.EXPERT)
    make_tree(session, category, slug="b", tags=["js"], difficulty=DifficultyLevel.BEGINNER)
    make_tree(session, make_category(session), slug="c", tags=["js"])

    params = {"category": "web", "tag": "js", "difficulty": "BEGINNER"}
    assert slugs(client.get("/api/v1/trees", params=params).json()) == ["b"]


def test_paginates_with_the_total_of_all_pages(client: TestClient, session: Session) -> None:
    category = make_category(session)
    for name in "abcde":
        make_tree(session, category, name=name, slug=f"tree-{name}")

    second = client.get("/api/v1/trees", params={"page": 2, "pageSize": 2}).json()
    beyond = client.get("/api/v1/trees", params={"page": 4, "pageSize": 2}).json()

    assert slugs(second) == ["tree-c", "tree-d"]
    assert (second["total"], second["page"], second["pageSize"]) == (5, 2, 2)
    assert (slugs(beyond), beyond["total"]) == ([], 5)


def test_unknown_difficulty_is_a_422_problem(client: TestClient) -> None:
    response = client.get("/api/v1/trees", params={"difficulty": "GODLIKE"})

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "ValidationFailed"
    assert response.json()["errors"][0]["loc"] == ["query", "difficulty"]


def test_page_size_over_100_is_a_422_problem(client: TestClient) -> None:
    response = client.get("/api/v1/trees", params={"pageSize": 101})

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["loc"] == ["query", "pageSize"]


def test_page_zero_is_a_422_problem(client: TestClient) -> None:
    response = client.get("/api/v1/trees", params={"page": 0})

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
