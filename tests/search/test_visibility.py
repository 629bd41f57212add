"""Search sees what the catalog shows: published trees and their active skills for everyone;
an author's own drafts for that author; every draft for admins."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import Person
from tests.search.conftest import Corpus, names, search

DRAFT_ITEMS = {"Secret React Patterns", "React Server Tricks"}


def suggested(client: TestClient, q: str, searcher: Person | None) -> list[str]:
    response = client.get(
        "/api/v1/search/suggest",
        params={"q": q},
        headers=searcher.headers if searcher else None,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return [suggestion["text"] for suggestion in body["suggestions"]]


@pytest.mark.parametrize("who", ["nobody", "learner", "other_author"])
def test_drafts_stay_hidden_from_others(
    client: TestClient, corpus: Corpus, request: pytest.FixtureRequest, who: str
) -> None:
    searcher = None if who == "nobody" else request.getfixturevalue(who)
    assert not DRAFT_ITEMS & set(names(search(client, "react", searcher)))
    assert not DRAFT_ITEMS & set(names(search(client, "secret", searcher)))
    assert not DRAFT_ITEMS & set(suggested(client, "secret", searcher))


def test_an_author_finds_their_own_drafts(client: TestClient, corpus: Corpus) -> None:
    assert DRAFT_ITEMS <= set(names(search(client, "react", corpus.author)))
    assert suggested(client, "secr", corpus.author) == ["Secret React Patterns"]


def test_an_admin_finds_every_draft(client: TestClient, corpus: Corpus, admin: Person) -> None:
    assert DRAFT_ITEMS <= set(names(search(client, "react", admin)))
    assert suggested(client, "react s", admin) == ["React Server Tricks"]


def test_inactive_skills_are_found_by_no_one(
    client: TestClient, corpus: Corpus, admin: Person
) -> None:
    for searcher in (None, corpus.author, admin):
        assert "React Class Components" not in names(search(client, "class", searcher))
        assert "React Class Components" not in suggested(client, "react", searcher)
