"""Tree documents are cached by version: any change, by any writer, is seen at once."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from skilltree.catalog import service
from tests.api import bearer, sign_up
from tests.factories import add_dependency, make_category, make_skill, make_tree


def version(session: Session, tree_id: str) -> int:
    return int(
        session.scalar(
            text("SELECT structure_version FROM skill_trees WHERE id = :t"), {"t": tree_id}
        )
    )


WRITES: dict[str, Callable[[Session, dict[str, str]], None]] = {
    "tree row": lambda s, ids: s.execute(
        text("UPDATE skill_trees SET name = 'Renamed' WHERE id = :t"), ids
    ),
    "skill insert": lambda s, ids: s.execute(
        text("INSERT INTO skills (id, skill_tree_id, key, name) VALUES ('new', :t, 'new', 'New')"),
        ids,
    ),
    "skill update": lambda s, ids: s.execute(
        text("UPDATE skills SET name = 'Renamed' WHERE id = :a"), ids
    ),
    "skill delete": lambda s, ids: s.execute(text("DELETE FROM skills WHERE id = :b"), ids),
    "edge delete": lambda s, ids: s.execute(
        text("DELETE FROM skill_dependencies WHERE skill_id = :b"), ids
    ),
    "tree prerequisite": lambda s, ids: s.execute(
        text("INSERT INTO skill_tree_prerequisites VALUES (:t, :o)"), ids
    ),
    "category rename": lambda s, ids: s.execute(
        text("UPDATE skill_categories SET name = 'Renamed' WHERE id = :c"), ids
    ),
}


@pytest.mark.parametrize("write", sorted(WRITES))
def test_every_change_to_a_document_bumps_its_tree_version(session: Session, write: str) -> None:
    category = make_category(session)
    tree, other = make_tree(session, category), make_tree(session, category)
    a, b = make_skill(session, tree), make_skill(session, tree)
    add_dependency(session, b, a)
    ids = {"t": tree.id, "o": other.id, "a": a.id, "b": b.id, "c": category.id}
    before = version(session, tree.id)
    WRITES[write](session, ids)
    assert version(session, tree.id) > before


def test_learner_progress_does_not_bump_the_version(client: TestClient, session: Session) -> None:
    tree = make_tree(session, make_category(session), slug="t")
    skill = make_skill(session, tree)
    session.commit()
    token, _ = sign_up(client)
    before = version(session, tree.id)
    client.post(f"/api/v1/skills/{skill.id}/complete", json={}, headers=bearer(token))
    assert version(session, tree.id) == before


def test_a_cached_document_is_never_stale(client: TestClient, session: Session) -> None:
    service.DOCUMENTS.clear()
    tree = make_tree(session, make_category(session), slug="cached")
    skill = make_skill(session, tree, name="Before")
    session.commit()
    first = client.get("/api/v1/trees/cached").json()
    cached = service.DOCUMENTS.get("cached")
    assert cached is not None
    assert cached.tree_id == tree.id
    assert client.get("/api/v1/trees/cached").json() == first
    session.execute(text("UPDATE skills SET name = 'After' WHERE id = :s"), {"s": skill.id})
    session.commit()
    assert client.get("/api/v1/trees/cached").json()["skills"][0]["name"] == "After"


def test_a_slug_taken_by_another_tree_is_not_served_from_the_old_copy(
    client: TestClient, session: Session
) -> None:
    service.DOCUMENTS.clear()
    category = make_category(session)
    old = make_tree(session, category, slug="reused", name="Old")
    session.commit()
    assert client.get("/api/v1/trees/reused").json()["name"] == "Old"
    session.execute(text("DELETE FROM skill_trees WHERE id = :t"), {"t": old.id})
    make_tree(session, category, slug="reused", name="New")
    session.commit()
    assert client.get("/api/v1/trees/reused").json()["name"] == "New"


def test_a_document_read_before_a_change_gets_the_graph_it_shows(
    client: TestClient, session: Session
) -> None:
    """The graph read after the document is newer when the tree changed in between: the
    document's own graph is used, so its learning plan and states match what it shows."""
    tree = make_tree(session, make_category(session), slug="raced")
    first, second = make_skill(session, tree, name="First"), make_skill(session, tree)
    add_dependency(session, second, first)
    document = client.get("/api/v1/trees/raced").content
    shown = version(session, tree.id)
    session.execute(text("DELETE FROM skill_dependencies WHERE skill_id = :s"), {"s": second.id})

    graph = service._graph(session, tree.id, shown, document, keep=False)

    assert graph.version == shown
    assert graph.needs == {first.id: [], second.id: [first.id]}
