"""Drafts (unpublished trees) are seen only by their author and admins, in lists and alone."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from skilltree.models import SkillTree, UserRole
from tests.factories import Person, make_category, make_skill, make_tree


@pytest.fixture
def catalog(session: Session, author: Person, other_author: Person) -> dict[str, SkillTree]:
    """Published and draft trees of `author` and of `other_author`."""
    category = make_category(session)
    return {
        slug: make_tree(
            session,
            category,
            slug=slug,
            name=slug,
            is_published=slug.endswith("published"),
            created_by=(author if slug.startswith("mine") else other_author).id,
        )
        for slug in ("mine-published", "mine-draft", "theirs-published", "theirs-draft")
    }


def listed(client: TestClient, person: Person | None, **params: str) -> list[str]:
    response = client.get(
        "/api/v1/trees", params=params, headers=person.headers if person else None
    )
    assert response.status_code == 200, response.text
    body = response.json()
    slugs = [item["slug"] for item in body["items"]]
    assert body["total"] == len(slugs)
    return slugs


def test_lists_show_published_trees_only_unless_asked(
    client: TestClient, catalog: dict[str, SkillTree], author: Person, admin: Person
) -> None:
    for person in (None, author, admin):
        assert listed(client, person) == ["mine-published", "theirs-published"]


def test_mine_lists_the_authors_own_trees_with_drafts(
    client: TestClient, catalog: dict[str, SkillTree], author: Person, learner: Person
) -> None:
    assert listed(client, author, mine="true") == ["mine-draft", "mine-published"]
    assert listed(client, learner, mine="true") == []
    refused = client.get("/api/v1/trees", params={"mine": "true"})
    assert (refused.status_code, refused.json()["code"]) == (401, "NotAuthenticated")


def test_include_unpublished_shows_the_drafts_the_viewer_may_see(
    client: TestClient,
    catalog: dict[str, SkillTree],
    author: Person,
    admin: Person,
    learner: Person,
) -> None:
    everything = ["mine-draft", "mine-published", "theirs-draft", "theirs-published"]
    assert listed(client, admin, includeUnpublished="true") == everything
    assert listed(client, author, includeUnpublished="true") == [
        "mine-draft",
        "mine-published",
        "theirs-published",
    ]
    for person in (learner, None):
        assert listed(client, person, includeUnpublished="true") == [
            "mine-published",
            "theirs-published",
        ]


def test_list_items_say_whether_they_are_published(
    client: TestClient, catalog: dict[str, SkillTree], author: Person
) -> None:
    items = client.get("/api/v1/trees", params={"mine": "true"}, headers=author.headers).json()
    assert {i["slug"]: i["isPublished"] for i in items["items"]} == {
        "mine-draft": False,
        "mine-published": True,
    }


def test_a_draft_is_served_to_its_author_and_admins_only(
    client: TestClient,
    session: Session,
    catalog: dict[str, SkillTree],
    author: Person,
    other_author: Person,
    admin: Person,
    learner: Person,
) -> None:
    skill = make_skill(session, catalog["mine-draft"])
    for person, status in ((author, 200), (admin, 200), (other_author, 404), (learner, 404)):
        headers = person.headers
        document = client.get("/api/v1/trees/mine-draft", headers=headers)
        assert document.status_code == status
        assert client.get(f"/api/v1/skills/{skill.id}", headers=headers).status_code == status
    anonymous = client.get("/api/v1/trees/mine-draft")
    assert (anonymous.status_code, anonymous.json()["code"]) == (404, "NotFound")
    assert client.get(f"/api/v1/skills/{skill.id}").status_code == 404
    document = client.get("/api/v1/trees/mine-draft", headers=author.headers).json()
    assert (document["isPublished"], [s["id"] for s in document["skills"]]) == (False, [skill.id])


def test_an_author_demoted_to_learner_no_longer_sees_their_drafts(
    client: TestClient, session: Session, catalog: dict[str, SkillTree], author: Person
) -> None:
    author.user.role = UserRole.LEARNER
    session.flush()
    assert client.get("/api/v1/trees/mine-draft", headers=author.headers).status_code == 404
    assert listed(client, author, mine="true") == ["mine-published"]


def test_publishing_shows_the_tree_to_everyone(
    client: TestClient, catalog: dict[str, SkillTree], author: Person
) -> None:
    assert client.get("/api/v1/trees/mine-draft").status_code == 404
    client.patch("/api/v1/trees/mine-draft", json={"isPublished": True}, headers=author.headers)
    assert client.get("/api/v1/trees/mine-draft").status_code == 200
    assert "mine-draft" in listed(client, None)
