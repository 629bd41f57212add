"""Changing a tree keeps its learners right: totals, states and completion follow the tree."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from skilltree.accounts import service as accounts
from skilltree.models import UserRole
from tests.api import bearer, sign_up
from tests.progress.conftest import Curriculum


def author(client: TestClient, session: Session, curriculum: Curriculum) -> dict[str, str]:
    token, user = sign_up(client, email="admin@example.com", username="admin")
    accounts.set_role(session, user["email"], UserRole.ADMIN)
    session.commit()
    return bearer(token)


def tree_progress(client: TestClient, learner: dict[str, str]) -> Any:
    return client.get("/api/v1/trees/frontend", headers=learner).json()["progress"]


def test_adding_a_skill_updates_totals_and_gives_it_a_state(
    client: TestClient, curriculum: Curriculum, learner: dict[str, str], session: Session
) -> None:
    admin = author(client, session, curriculum)
    client.post(f"/api/v1/skills/{curriculum.id('html')}/complete", json={}, headers=learner)
    assert tree_progress(client, learner)["totalSkills"] == 8
    created = client.post(
        "/api/v1/trees/frontend/skills",
        json={"name": "SASS", "dependencies": [curriculum.id("css")]},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    after = tree_progress(client, learner)
    assert after["totalSkills"] == 9
    assert after["progressPercent"] == 100 / 9
    document = client.get("/api/v1/trees/frontend", headers=learner).json()
    sass = next(s for s in document["skills"] if s["name"] == "SASS")
    assert document["skillStates"][sass["id"]] == {"status": "LOCKED"}


def test_removing_a_prerequisite_unlocks_what_it_held_back(
    client: TestClient, curriculum: Curriculum, learner: dict[str, str], session: Session
) -> None:
    admin = author(client, session, curriculum)
    client.post(f"/api/v1/skills/{curriculum.id('html')}/complete", json={}, headers=learner)
    react = f"/api/v1/skills/{curriculum.id('react')}/start"
    assert client.post(react, headers=learner).status_code == 409
    client.put(
        f"/api/v1/skills/{curriculum.id('react')}/dependencies",
        json={"dependencies": [curriculum.id("html")]},
        headers=admin,
    )
    assert client.post(react, headers=learner).json()["skill"]["status"] == "IN_PROGRESS"


def test_deleting_the_last_required_skill_completes_the_tree(
    client: TestClient, curriculum: Curriculum, learner: dict[str, str], session: Session
) -> None:
    admin = author(client, session, curriculum)
    for key in ["html", "css", "js", "layout", "react"]:
        client.post(f"/api/v1/skills/{curriculum.id(key)}/complete", json={}, headers=learner)
    client.post(f"/api/v1/skills/{curriculum.id('tips')}/skip", headers=learner)
    client.post(f"/api/v1/skills/{curriculum.id('pro')}/complete", json={}, headers=learner)
    assert tree_progress(client, learner)["status"] == "IN_PROGRESS"  # QUIZ is left
    assert (
        client.delete(f"/api/v1/skills/{curriculum.id('quiz')}", headers=admin).status_code == 204
    )
    done = tree_progress(client, learner)
    assert done["status"] == "COMPLETED"
    assert done["completedAt"] is not None
    assert done["totalSkills"] == 7
    me = client.get("/api/v1/me/progress", headers=learner).json()
    assert me["profile"]["treesCompleted"] == 1
    # A new required skill re-opens it.
    client.post("/api/v1/trees/frontend/skills", json={"name": "Next.js"}, headers=admin)
    assert tree_progress(client, learner)["status"] == "IN_PROGRESS"
    assert (
        client.get("/api/v1/me/progress", headers=learner).json()["profile"]["treesCompleted"] == 0
    )


def test_a_completed_skill_made_inactive_no_longer_counts_in_the_profile(
    client: TestClient, curriculum: Curriculum, learner: dict[str, str], session: Session
) -> None:
    admin = author(client, session, curriculum)
    for key in ["html", "css"]:
        client.post(f"/api/v1/skills/{curriculum.id(key)}/complete", json={}, headers=learner)
    assert (
        client.get("/api/v1/me/progress", headers=learner).json()["profile"]["skillsCompleted"] == 2
    )
    changed = client.patch(
        f"/api/v1/skills/{curriculum.id('css')}", json={"isActive": False}, headers=admin
    )
    assert changed.status_code == 200, changed.text
    mine = client.get("/api/v1/me/progress", headers=learner).json()
    assert mine["profile"]["skillsCompleted"] == 1  # as the tree's own count
    assert mine["trees"][0]["progress"]["skillsCompleted"] == 1
    assert mine["profile"]["totalXp"] == 50 + 75  # XP once awarded stays
