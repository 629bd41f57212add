"""GET /trees/{slug} for a signed-in learner: every skill's state and the tree's progress."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api import bearer, sign_up
from tests.progress.conftest import Curriculum


def states(
    client: TestClient, curriculum: Curriculum, headers: dict[str, str]
) -> dict[str, str] | None:
    document = client.get("/api/v1/trees/frontend", headers=headers).json()
    if document["skillStates"] is None:
        return None
    names = {skill.id: skill.name for skill in curriculum.skills.values()}
    return {names[i]: state["status"] for i, state in document["skillStates"].items()}


def test_each_skill_carries_the_learner_state(
    client: TestClient, curriculum: Curriculum, learner: dict[str, str]
) -> None:
    assert states(client, curriculum, {}) is None
    before = client.get("/api/v1/trees/frontend", headers=learner).json()
    assert before["progress"] is None  # not enrolled yet
    assert states(client, curriculum, learner) == {
        "HTML": "AVAILABLE",
        "CSS": "LOCKED",
        "JS": "LOCKED",
        "LAYOUT": "LOCKED",
        "REACT": "LOCKED",
        "TIPS": "AVAILABLE",
        "PRO": "LOCKED",
        "QUIZ": "LOCKED",
    }
    client.post(f"/api/v1/skills/{curriculum.id('html')}/complete", json={}, headers=learner)
    client.post(f"/api/v1/skills/{curriculum.id('js')}/start", headers=learner)
    client.post(f"/api/v1/skills/{curriculum.id('tips')}/skip", headers=learner)
    assert states(client, curriculum, learner) == {
        "HTML": "COMPLETED",
        "CSS": "AVAILABLE",
        "JS": "IN_PROGRESS",
        "LAYOUT": "LOCKED",
        "REACT": "LOCKED",
        "TIPS": "SKIPPED",
        "PRO": "AVAILABLE",
        "QUIZ": "AVAILABLE",  # its other prerequisite is inactive
    }
    document = client.get("/api/v1/trees/frontend", headers=learner).json()
    assert document["progress"]["skillsCompleted"] == 1
    assert document["progress"]["totalSkills"] == 8
    assert document["progress"]["status"] == "IN_PROGRESS"
    html = document["skillStates"][curriculum.id("html")]
    assert html["completedAt"] is not None
    assert html["progressPercent"] == 100
    # CSS was unlocked by HTML's completion: its row carries the unlock time.
    assert document["skillStates"][curriculum.id("css")]["unlockedAt"] is not None
    assert document["skillStates"][curriculum.id("layout")] == {"status": "LOCKED"}


def test_another_learner_sees_only_their_own_states(
    client: TestClient, curriculum: Curriculum, learner: dict[str, str]
) -> None:
    client.post(f"/api/v1/skills/{curriculum.id('html')}/complete", json={}, headers=learner)
    other, _ = sign_up(client, email="other@example.com", username="other")
    mine = states(client, curriculum, bearer(other))
    assert mine is not None
    assert mine["HTML"] == "AVAILABLE"
