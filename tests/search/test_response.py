"""The endpoints send the service's answer as it is, in the documented shape: serialised once
from the checked model rather than validated again by FastAPI (docs/search.md, Performance)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from skilltree.schemas import PageParams
from skilltree.search import service
from tests.search.conftest import Corpus


def test_search_sends_the_services_page_in_camel_case(
    client: TestClient, session: Session, corpus: Corpus
) -> None:
    for q in ("react", "reakt"):  # full-text hits; similar names first
        response = client.get("/api/v1/search", params={"q": q, "pageSize": 3})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        page = service.search(session, q, service.scope_for(None), PageParams(1, 3))
        assert page.items, q
        assert response.json() == page.model_dump(mode="json", by_alias=True)
        assert {"pageSize", "total", "items"} <= response.json().keys()
        assert {"treeSlug", "matchedBy", "snippet"} <= response.json()["items"][0].keys()


def test_suggest_sends_the_services_list_in_camel_case(
    client: TestClient, session: Session, corpus: Corpus
) -> None:
    response = client.get("/api/v1/search/suggest", params={"q": "rea"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    found = service.suggest(session, "rea", service.scope_for(None), limit=10)
    assert found.suggestions
    assert response.json() == found.model_dump(mode="json", by_alias=True)
    assert "treeSlug" in response.json()["suggestions"][0]


def test_openapi_still_documents_both_answers(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path, model in (("", "SearchPage"), ("/suggest", "SuggestionList")):
        content = paths[f"/api/v1/search{path}"]["get"]["responses"]["200"]["content"]
        assert content["application/json"]["schema"] == {"$ref": f"#/components/schemas/{model}"}
