"""GET /api/v1/trees/{slug}: a published tree with every active skill and its edges."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, event
from sqlalchemy.orm import Session

from skilltree.catalog import repository
from skilltree.catalog.schemas import TreeDocument
from skilltree.db import rls
from skilltree.models import DifficultyLevel, SkillType
from tests.api import bearer
from tests.factories import (
    add_dependency,
    add_tree_prerequisite,
    make_category,
    make_skill,
    make_token,
    make_tree,
    make_user,
)


@pytest.fixture
def statements(connection: Connection, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The SQL statements run on the test's connection from now on, through SQLAlchemy or
    through psycopg itself (`fetch_all`, which the tree's statement takes: its settings go in
    the same round trip); savepoints and settings, `SELECT set_config(...)`, aside."""
    seen: list[str] = []
    ignored = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "SELECT set_config(")

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.startswith(ignored):
            seen.append(statement)

    def fetch_all(session: Session, statement: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(statement)
        return rls.fetch_all(session, statement, *args, **kwargs)

    monkeypatch.setattr(repository, "fetch_all", fetch_all)
    event.listen(connection, "before_cursor_execute", record)
    yield seen
    event.remove(connection, "before_cursor_execute", record)


def skills_by_name(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {skill["name"]: skill for skill in document["skills"]}


def test_tree_fields_category_and_prerequisite_trees(client: TestClient, session: Session) -> None:
    category = make_category(session, name="Web Development", slug="web-development")
    basics = make_tree(session, category, slug="web-basics")
    tree = make_tree(
        session,
        category,
        name="Frontend Web Development",
        slug="frontend-web-development",
        description="Complete guide to modern frontend development",
        short_description="Learn HTML, CSS, JavaScript, and React",
        difficulty=DifficultyLevel.BEGINNER,
        estimated_hours=120.0,
        tags=["html", "css", "javascript", "react"],
        is_featured=True,
        layout_config={"theme": "modern", "nodeSpacing": 150, "levelHeight": 200},
        theme_config={"accent": "#3B82F6"},
    )
    add_tree_prerequisite(session, tree, basics)

    response = client.get("/api/v1/trees/frontend-web-development")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document = response.json()
    created_at, updated_at = document.pop("createdAt"), document.pop("updatedAt")
    assert document == {
        "id": tree.id,
        "categoryId": category.id,
        "name": "Frontend Web Development",
        "slug": "frontend-web-development",
        "description": "Complete guide to modern frontend development",
        "shortDescription": "Learn HTML, CSS, JavaScript, and React",
        "difficulty": "BEGINNER",
        "estimatedHours": 120.0,
        "prerequisites": [basics.id],
        "tags": ["html", "css", "javascript", "react"],
        "version": "1.0.0",
        "layoutConfig": {"theme": "modern", "nodeSpacing": 150, "levelHeight": 200},
        "themeConfig": {"accent": "#3B82F6"},
        "isPublished": True,
        "isFeatured": True,
        "isAiGenerated": False,
        "createdBy": None,
        "updatedBy": None,
        "category": {"id": category.id, "name": "Web Development", "slug": "web-development"},
        "skills": [],
        "learningOrder": [],
        "layers": [],
        "progress": None,
        "skillStates": None,
    }
    assert datetime.fromisoformat(created_at).tzinfo is not None
    assert datetime.fromisoformat(updated_at).tzinfo is not None


def test_document_matches_its_declared_schema(client: TestClient, session: Session) -> None:
    tree = make_tree(session, make_category(session))
    html = make_skill(
        session,
        tree,
        name="HTML Fundamentals",
        key="html",
        short_name="HTML",
        learning_objectives=["Understand HTML document structure"],
        skill_type=SkillType.KNOWLEDGE,
        estimated_minutes=300,
        xp_value=50,
        node_size=1,
        is_milestone=True,
        content={"type": "structured", "modules": []},
        resources=[{"type": "link", "title": "MDN", "url": "https://developer.mozilla.org"}],
    )
    css = make_skill(session, tree, name="CSS", position_x=200.5, parent_skill_id=html.id)
    add_dependency(session, css, html)

    response = client.get(f"/api/v1/trees/{tree.slug}")

    # extra="forbid": no field may be missing, unknown or of the wrong type.
    document = TreeDocument.model_validate_json(response.content)
    assert [s.id for s in document.skills] == [html.id, css.id]
    assert document.skills[0].model_dump(
        include={"key", "short_name", "learning_objectives", "estimated_minutes", "content"}
    ) == {
        "key": "html",
        "short_name": "HTML",
        "learning_objectives": ["Understand HTML document structure"],
        "estimated_minutes": 300,
        "content": {"type": "structured", "modules": []},
    }
    assert document.skills[0].resources == [
        {"type": "link", "title": "MDN", "url": "https://developer.mozilla.org"}
    ]
    assert document.skills[0].xp_value == 50
    assert document.skills[1].position_x == 200.5
    assert document.skills[1].parent_skill_id == html.id


def test_dependencies_and_dependents_are_exact(client: TestClient, session: Session) -> None:
    tree = make_tree(session, make_category(session))
    html = make_skill(session, tree, name="html")
    css = make_skill(session, tree, name="css")
    js = make_skill(session, tree, name="js")
    react = make_skill(session, tree, name="react")
    add_dependency(session, css, html)
    add_dependency(session, js, html)
    add_dependency(session, react, js)
    add_dependency(session, react, css)

    skills = skills_by_name(client.get(f"/api/v1/trees/{tree.slug}").json())

    assert skills["html"]["dependencies"] == []
    assert skills["html"]["dependents"] == sorted([css.id, js.id])
    assert (skills["css"]["dependencies"], skills["css"]["dependents"]) == ([html.id], [react.id])
    assert (skills["js"]["dependencies"], skills["js"]["dependents"]) == ([html.id], [react.id])
    assert skills["react"]["dependencies"] == sorted([css.id, js.id])
    assert skills["react"]["dependents"] == []


def test_inactive_skills_and_their_edges_are_left_out(client: TestClient, session: Session) -> None:
    tree = make_tree(session, make_category(session))
    basics = make_skill(session, tree, name="basics")
    retired = make_skill(session, tree, name="retired", is_active=False)
    advanced = make_skill(session, tree, name="advanced")
    add_dependency(session, retired, basics)
    add_dependency(session, advanced, retired)

    skills = skills_by_name(client.get(f"/api/v1/trees/{tree.slug}").json())

    assert set(skills) == {"basics", "advanced"}
    assert skills["basics"]["dependents"] == []
    assert skills["advanced"]["dependencies"] == []


def test_skills_are_ordered_by_position_y_then_x_then_id(
    client: TestClient, session: Session
) -> None:
    tree = make_tree(session, make_category(session))
    low_right = make_skill(session, tree, position_x=200, position_y=100)
    top_right = make_skill(session, tree, position_x=200, position_y=0)
    low_left = make_skill(session, tree, position_x=0, position_y=100)
    top_left = [make_skill(session, tree, position_x=0, position_y=0) for _ in range(2)]

    document = client.get(f"/api/v1/trees/{tree.slug}").json()

    expected = [*sorted(s.id for s in top_left), top_right.id, low_left.id, low_right.id]
    assert [s["id"] for s in document["skills"]] == expected


def test_skills_of_other_trees_are_left_out(client: TestClient, session: Session) -> None:
    category = make_category(session)
    tree, other = make_tree(session, category), make_tree(session, category)
    mine = make_skill(session, tree)
    make_skill(session, other)

    document = client.get(f"/api/v1/trees/{tree.slug}").json()

    assert [s["id"] for s in document["skills"]] == [mine.id]


def test_unknown_slug_is_a_404_problem(client: TestClient) -> None:
    response = client.get("/api/v1/trees/no-such-tree")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "No skill tree has the slug 'no-such-tree'.",
        "code": "NotFound",
        "instance": "/api/v1/trees/no-such-tree",
    }


def test_unpublished_tree_is_a_404_problem(client: TestClient, session: Session) -> None:
    draft = make_tree(session, make_category(session), is_published=False)

    response = client.get(f"/api/v1/trees/{draft.slug}")

    assert response.status_code == 404
    assert response.json()["code"] == "NotFound"


def test_the_document_takes_one_sql_statement(
    client: TestClient, session: Session, statements: list[str]
) -> None:
    tree = make_tree(session, make_category(session))
    first, second = make_skill(session, tree), make_skill(session, tree)
    add_dependency(session, second, first)
    statements.clear()

    response = client.get(f"/api/v1/trees/{tree.slug}")

    assert response.status_code == 200
    assert len(statements) == 1
    assert "json_build_object" in statements[0]


def test_a_signed_in_learners_read_takes_one_statement_besides_sign_in(
    client: TestClient, session: Session, statements: list[str]
) -> None:
    tree = make_tree(session, make_category(session))
    first, second = make_skill(session, tree), make_skill(session, tree)
    add_dependency(session, second, first)
    learner = make_user(session)
    headers = bearer(make_token(session, learner))
    url, ids = f"/api/v1/trees/{tree.slug}", {first.id, second.id}
    client.get(url, headers=headers)  # the tree's copy is made
    statements.clear()

    response = client.get(url, headers=headers)

    assert response.status_code == 200
    assert set(response.json()["skillStates"]) == ids
    tree_reads = [s for s in statements if "user_sessions" not in s]
    assert len(tree_reads) == 1
    assert "user_skill_progress" in tree_reads[0]
