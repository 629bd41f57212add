"""GET /api/v1/categories: the active categories, in display order."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import make_category


def test_lists_active_categories_by_sort_order_then_name(
    client: TestClient, session: Session
) -> None:
    web = make_category(session, name="Web", slug="web", sort_order=2, color="#10B981")
    art = make_category(session, name="Art", slug="art", sort_order=2)
    code = make_category(session, name="Programming", slug="programming", sort_order=1)
    make_category(session, name="Retired", slug="retired", sort_order=0, is_active=False)

    response = client.get("/api/v1/categories")

    assert response.status_code == 200
    assert [c["id"] for c in response.json()] == [code.id, art.id, web.id]
    assert response.json()[2] == {
        "id": web.id,
        "name": "Web",
        "slug": "web",
        "description": None,
        "color": "#10B981",
        "icon": None,
        "sortOrder": 2,
    }
