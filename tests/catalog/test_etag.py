"""GET /trees/{slug} sends an ETag that changes with the tree, and for a signed-in learner with
their progress; If-None-Match naming the current one answers 304 with no body."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from skilltree.models import SkillTree, UserRole
from tests.api import bearer, sign_up
from tests.factories import (
    add_dependency,
    make_category,
    make_skill,
    make_token,
    make_tree,
    make_user,
)


def a_tree(session: Session) -> SkillTree:
    tree = make_tree(session, make_category(session), slug="etag")
    first = make_skill(session, tree, name="First")
    add_dependency(session, make_skill(session, tree, name="Second"), first)
    return tree


def test_a_current_etag_answers_304_without_a_body(client: TestClient, session: Session) -> None:
    a_tree(session)
    first = client.get("/api/v1/trees/etag")
    etag = first.headers["ETag"]
    assert etag.startswith('"')
    assert etag.endswith('"')
    assert first.headers["Cache-Control"] == "no-cache"
    assert "Authorization" in first.headers["Vary"]

    again = client.get("/api/v1/trees/etag", headers={"If-None-Match": etag})

    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["ETag"] == etag


def test_any_change_to_the_tree_changes_its_etag(client: TestClient, session: Session) -> None:
    tree = a_tree(session)
    etag = client.get("/api/v1/trees/etag").headers["ETag"]
    session.execute(
        text("UPDATE skills SET name = 'Renamed' WHERE skill_tree_id = :t"), {"t": tree.id}
    )

    changed = client.get("/api/v1/trees/etag", headers={"If-None-Match": etag})

    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert {s["name"] for s in changed.json()["skills"]} == {"Renamed"}


def test_if_none_match_takes_lists_weak_tags_and_star(client: TestClient, session: Session) -> None:
    a_tree(session)
    etag = client.get("/api/v1/trees/etag").headers["ETag"]
    for header in (f'"other", W/{etag}', f'{etag}, "x"', "*"):
        assert (
            client.get("/api/v1/trees/etag", headers={"If-None-Match": header}).status_code == 304
        )
    assert client.get("/api/v1/trees/etag", headers={"If-None-Match": '"other"'}).status_code == 200


def test_a_learners_etag_changes_with_their_progress(client: TestClient, session: Session) -> None:
    tree = a_tree(session)
    first_skill = session.scalar(
        text("SELECT id FROM skills WHERE skill_tree_id = :t AND name = 'First'"), {"t": tree.id}
    )
    session.commit()
    token, _ = sign_up(client)
    learner = bearer(token)
    anonymous_etag = client.get("/api/v1/trees/etag").headers["ETag"]
    read = client.get("/api/v1/trees/etag", headers=learner)
    etag = read.headers["ETag"]
    assert etag != anonymous_etag  # the learner's answer has their states: another body
    assert read.headers["Cache-Control"] == "private, no-cache"
    assert (
        client.get("/api/v1/trees/etag", headers=learner | {"If-None-Match": etag}).status_code
        == 304
    )

    completed = client.post(f"/api/v1/skills/{first_skill}/complete", json={}, headers=learner)
    assert completed.status_code == 200, completed.text

    after = client.get("/api/v1/trees/etag", headers=learner | {"If-None-Match": etag})
    assert after.status_code == 200
    assert after.headers["ETag"] != etag
    assert after.json()["skillStates"][first_skill]["status"] == "COMPLETED"
    # The tree itself did not change: a visitor's copy is still current.
    assert (
        client.get("/api/v1/trees/etag", headers={"If-None-Match": anonymous_etag}).status_code
        == 304
    )


def test_a_hidden_tree_is_404_whatever_the_etag(client: TestClient, session: Session) -> None:
    make_tree(session, make_category(session), slug="draft", is_published=False)
    response = client.get("/api/v1/trees/draft", headers={"If-None-Match": "*"})
    assert response.status_code == 404


def test_authoring_answers_carry_the_documents_etag(client: TestClient, session: Session) -> None:
    author = make_user(session, UserRole.AUTHOR)
    headers = bearer(make_token(session, author))
    make_tree(session, make_category(session), slug="mine", created_by=author.id)
    patched = client.patch("/api/v1/trees/mine", json={"name": "Mine"}, headers=headers)
    assert patched.status_code == 200
    read = client.get("/api/v1/trees/mine", headers=headers)
    assert read.headers["ETag"] == patched.headers["ETag"]


def test_any_change_to_a_learners_rows_changes_their_etag_and_answer(
    client: TestClient, session: Session
) -> None:
    """Not only a change of state: the learner's states carry their rows' times and counts."""
    tree = a_tree(session)
    first = session.scalar(
        text("SELECT id FROM skills WHERE skill_tree_id = :t AND name = 'First'"), {"t": tree.id}
    )
    learner = make_user(session)
    session.execute(
        text(
            "INSERT INTO user_skill_progress (id, user_id, skill_id, skill_tree_id, status, "
            "progress_percent) VALUES (md5(:u), :u, :s, :t, 'IN_PROGRESS', 10)"
        ),
        {"u": learner.id, "s": first, "t": tree.id},
    )
    headers = bearer(make_token(session, learner))
    read = client.get("/api/v1/trees/etag", headers=headers)
    session.execute(
        text("UPDATE user_skill_progress SET progress_percent = 50 WHERE user_id = :u"),
        {"u": learner.id},
    )

    after = client.get(
        "/api/v1/trees/etag", headers=headers | {"If-None-Match": read.headers["ETag"]}
    )

    assert after.status_code == 200
    assert after.headers["ETag"] != read.headers["ETag"]
    assert after.json()["skillStates"][first] == read.json()["skillStates"][first] | {
        "progressPercent": 50
    }
    assert after.json()["skillStates"][first]["status"] == "IN_PROGRESS"
