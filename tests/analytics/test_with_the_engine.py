"""Through the real progress engine: what the funnel and the series count from the audit trail
agrees with the learners' rows, before and after folding, as learners keep learning."""

from __future__ import annotations

import random

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from skilltree.models import UserRole
from tests.analytics.conftest import fold
from tests.api import bearer
from tests.factories import (
    add_dependency,
    make_category,
    make_skill,
    make_token,
    make_tree,
    make_user,
)


def test_the_funnel_agrees_with_the_learners_rows(client: TestClient, session: Session) -> None:
    author = make_user(session, UserRole.AUTHOR)
    tree = make_tree(session, make_category(session), slug="engine", created_by=author.id)
    root = make_skill(session, tree, key="root")
    left = make_skill(session, tree, key="left", is_optional=True)
    right = make_skill(session, tree, key="right")
    add_dependency(session, left, root)
    add_dependency(session, right, root)
    session.commit()
    author_headers = bearer(make_token(session, author))
    rng = random.Random(5)
    learners = [bearer(make_token(session, make_user(session))) for _ in range(6)]
    for n, headers in enumerate(learners):
        assert client.post("/api/v1/trees/engine/enroll", headers=headers).status_code == 200
        steps = [("start", root), ("complete", root), ("skip", left), ("start", right),
                 ("complete", right)][: rng.randint(0, 5)]  # fmt: skip
        for action, skill in steps:
            answer = client.post(
                f"/api/v1/skills/{skill.id}/{action}",
                headers=headers,
                json={} if action == "complete" else None,
            )
            assert answer.status_code == 200, answer.text
        if n == 2:
            fold(session)  # some folded, the rest in the tail

    funnel = client.get("/api/v1/analytics/trees/engine/funnel", headers=author_headers).json()
    state = {
        row[0]: tuple(row[1:])
        for row in session.execute(
            text(
                "SELECT s.key,"
                " count(p.id) FILTER (WHERE p.unlocked_at IS NOT NULL),"
                " count(p.id) FILTER (WHERE p.status = 'IN_PROGRESS' OR"
                "   (p.status = 'COMPLETED' AND p.started_at < p.completed_at)),"
                " count(p.id) FILTER (WHERE p.status = 'COMPLETED'),"
                " count(p.id) FILTER (WHERE p.status = 'SKIPPED')"
                " FROM skills s LEFT JOIN user_skill_progress p ON p.skill_id = s.id"
                " WHERE s.skill_tree_id = :tree GROUP BY s.key"
            ),
            {"tree": tree.id},
        )
    }
    assert funnel["enrolments"] == len(learners)
    assert {
        s["key"]: (s["unlocked"], s["started"], s["completed"], s["skipped"])
        for s in funnel["skills"]
    } == state


def test_the_funnel_counts_skills_a_tree_edit_unlocked(
    client: TestClient, session: Session
) -> None:
    """Skills freed by a tree edit (a prerequisite removed, a skill added) are unlocked for the
    enrolled learners at once, as an event would: the funnel's count equals the rows'."""
    author = make_user(session, UserRole.AUTHOR)
    tree = make_tree(session, make_category(session), slug="edited", created_by=author.id)
    root = make_skill(session, tree, key="root")
    held = make_skill(session, tree, key="held")
    add_dependency(session, held, root)
    session.commit()
    author_headers = bearer(make_token(session, author))
    learners = [bearer(make_token(session, make_user(session))) for _ in range(3)]
    for headers in learners:
        assert client.post("/api/v1/trees/edited/enroll", headers=headers).status_code == 200
    edited = client.put(
        f"/api/v1/skills/{held.id}/dependencies", json={"dependencies": []}, headers=author_headers
    )
    assert edited.status_code == 200, edited.text
    added = client.post(
        "/api/v1/trees/edited/skills", json={"name": "Later"}, headers=author_headers
    )
    assert added.status_code == 201, added.text
    client.post(f"/api/v1/skills/{held.id}/start", headers=learners[0])

    funnel = client.get("/api/v1/analytics/trees/edited/funnel", headers=author_headers).json()
    unlocked = dict(
        session.execute(
            text(
                "SELECT s.key, count(p.id) FILTER (WHERE p.unlocked_at IS NOT NULL)"
                " FROM skills s LEFT JOIN user_skill_progress p ON p.skill_id = s.id"
                " WHERE s.skill_tree_id = :tree GROUP BY s.key"
            ),
            {"tree": tree.id},
        ).all()
    )
    assert unlocked == {"root": 3, "held": 3, "later": 3}
    assert {s["key"]: s["unlocked"] for s in funnel["skills"]} == unlocked
