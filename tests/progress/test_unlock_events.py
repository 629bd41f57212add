"""Every row that gets `unlocked_at` gets exactly one UNLOCK event, written at that moment: when an
event unlocks dependents, when an event acts on an AVAILABLE skill that has no row yet, and when a
tree edit frees skills for learners already enrolled (the analytics funnel counts UNLOCK events)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from skilltree.accounts import service as accounts
from skilltree.models import UserRole
from tests.api import bearer, sign_up
from tests.factories import make_skill
from tests.progress.conftest import Curriculum


def admin(client: TestClient, session: Session) -> dict[str, str]:
    token, user = sign_up(client, email="admin@example.com", username="admin")
    accounts.set_role(session, user["email"], UserRole.ADMIN)
    session.commit()
    return bearer(token)


def learner_id(session: Session) -> str:
    found: str = session.execute(
        text("SELECT id FROM users WHERE email = 'learner@example.com'")
    ).scalar_one()
    return found


def unlocks_agree_with_rows(session: Session, user_id: str) -> None:
    """Each of the learner's rows with `unlocked_at` has exactly one UNLOCK event (none without),
    written in the transaction that set it."""
    rows = dict(
        session.execute(
            text(
                "SELECT skill_id, unlocked_at FROM user_skill_progress"
                " WHERE user_id = :u AND unlocked_at IS NOT NULL"
            ),
            {"u": user_id},
        ).all()
    )
    events: dict[str, list[object]] = {}
    for skill_id, at in session.execute(
        text(
            "SELECT skill_id, occurred_at FROM progress_events"
            " WHERE user_id = :u AND kind = 'UNLOCK'"
        ),
        {"u": user_id},
    ):
        events.setdefault(skill_id, []).append(at)
    assert {k: len(v) for k, v in events.items()} == dict.fromkeys(rows, 1)


def kinds_on(session: Session, user_id: str, skill_id: str) -> list[str]:
    return list(
        session.execute(
            text(
                "SELECT kind::text FROM progress_events WHERE user_id = :u AND skill_id = :s"
                " ORDER BY id"
            ),
            {"u": user_id, "s": skill_id},
        ).scalars()
    )


@pytest.mark.parametrize(
    ("action", "kind"),
    [("start", "START"), ("complete", "COMPLETE"), ("skip", "SKIP"), ("activity", "ACTIVITY")],
)
def test_acting_on_an_available_skill_without_a_row_records_its_unlock(
    client: TestClient,
    curriculum: Curriculum,
    learner: dict[str, str],
    session: Session,
    action: str,
    kind: str,
) -> None:
    client.post(f"/api/v1/skills/{curriculum.id('html')}/complete", json={}, headers=learner)
    # Added behind the authoring service's back: AVAILABLE to the enrolled learner, no row yet.
    extra = make_skill(session, curriculum.tree, is_optional=True, estimated_minutes=30)
    session.commit()
    body = {"complete": {}, "activity": {"minutes": 10}}.get(action)
    answer = client.post(f"/api/v1/skills/{extra.id}/{action}", json=body, headers=learner)
    assert answer.status_code == 200, answer.text
    assert answer.json()["skill"]["unlockedAt"] is not None
    user_id = learner_id(session)
    assert kinds_on(session, user_id, extra.id) == ["UNLOCK", kind]
    unlocks_agree_with_rows(session, user_id)


def test_removing_a_prerequisite_unlocks_for_enrolled_learners_at_once(
    client: TestClient, curriculum: Curriculum, learner: dict[str, str], session: Session
) -> None:
    headers = admin(client, session)
    client.post(f"/api/v1/skills/{curriculum.id('html')}/complete", json={}, headers=learner)
    user_id = learner_id(session)
    react = curriculum.id("react")
    assert kinds_on(session, user_id, react) == []
    changed = client.put(
        f"/api/v1/skills/{react}/dependencies",
        json={"dependencies": [curriculum.id("html")]},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    assert kinds_on(session, user_id, react) == ["UNLOCK"]
    document = client.get("/api/v1/trees/frontend", headers=learner).json()
    assert document["skillStates"][react]["status"] == "AVAILABLE"
    assert document["skillStates"][react]["unlockedAt"] is not None
    unlocks_agree_with_rows(session, user_id)
    client.post(f"/api/v1/skills/{react}/start", headers=learner)
    assert kinds_on(session, user_id, react) == ["UNLOCK", "START"]
    unlocks_agree_with_rows(session, user_id)


def test_adding_skills_unlocks_the_free_ones_for_enrolled_learners(
    client: TestClient, curriculum: Curriculum, learner: dict[str, str], session: Session
) -> None:
    headers = admin(client, session)
    client.post(f"/api/v1/skills/{curriculum.id('html')}/complete", json={}, headers=learner)
    user_id = learner_id(session)
    root = client.post("/api/v1/trees/frontend/skills", json={"name": "Git"}, headers=headers)
    after_html = client.post(
        "/api/v1/trees/frontend/skills",
        json={"name": "DOM", "dependencies": [curriculum.id("html")]},
        headers=headers,
    )
    held = client.post(
        "/api/v1/trees/frontend/skills",
        json={"name": "SASS", "dependencies": [curriculum.id("css")]},
        headers=headers,
    )
    assert kinds_on(session, user_id, root.json()["id"]) == ["UNLOCK"]
    assert kinds_on(session, user_id, after_html.json()["id"]) == ["UNLOCK"]
    assert kinds_on(session, user_id, held.json()["id"]) == []
    unlocks_agree_with_rows(session, user_id)
    # A learner not enrolled gets nothing from a tree edit (enrolling unlocks the roots).
    assert (
        session.execute(
            text("SELECT count(*) FROM user_skill_progress WHERE user_id <> :u"), {"u": user_id}
        ).scalar_one()
        == 0
    )


def test_making_a_skill_active_again_unlocks_it(
    client: TestClient, curriculum: Curriculum, learner: dict[str, str], session: Session
) -> None:
    headers = admin(client, session)
    client.post(f"/api/v1/skills/{curriculum.id('tips')}/skip", headers=learner)
    user_id = learner_id(session)
    pro = curriculum.id("pro")
    assert kinds_on(session, user_id, pro) == ["UNLOCK"]  # tips is optional: skipping frees pro
    gone = curriculum.id("gone")
    changed = client.patch(f"/api/v1/skills/{gone}", json={"isActive": True}, headers=headers)
    assert changed.status_code == 200, changed.text
    assert kinds_on(session, user_id, gone) == ["UNLOCK"]
    unlocks_agree_with_rows(session, user_id)
