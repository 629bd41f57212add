"""Every change of a tree leaves its learners' counts exact: each write path that adds, removes,
(de)activates or re-imports skills, changes prerequisites, unpublishes or deletes a tree, checked
against a count made from the learner's own rows (issue 12: deleting a tree left its completions
in the profile)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.factories import make_category, make_skill, make_tree
from tests.progress.conftest import Curriculum
from tests.progress.test_tree_changes import author

API = "/api/v1"

# The learner's enrolments recounted from their rows and the trees' skills as they are now.
RECOUNT = text(
    """
    SELECT t.slug,
           (SELECT count(*) FROM skills s WHERE s.skill_tree_id = t.id AND s.is_active) AS total,
           (SELECT count(*) FROM skills s
              JOIN user_skill_progress r ON r.skill_id = s.id AND r.user_id = e.user_id
             WHERE s.skill_tree_id = t.id AND s.is_active AND r.status = 'COMPLETED')
               AS completed,
           NOT EXISTS (
               SELECT FROM skills s
                WHERE s.skill_tree_id = t.id AND s.is_active AND NOT s.is_optional
                  AND NOT EXISTS (
                      SELECT FROM user_skill_progress r
                       WHERE r.user_id = e.user_id AND r.skill_id = s.id
                         AND r.status IN ('COMPLETED', 'SKIPPED'))) AS required_done
      FROM user_skill_tree_progress e JOIN skill_trees t ON t.id = e.skill_tree_id
     WHERE e.user_id = (SELECT id FROM users WHERE username = 'learner')
    """
)


def assert_counts_exact(client: TestClient, session: Session, learner: dict[str, str]) -> Any:
    """/me/progress agrees with the learner's rows, tree by tree and in the profile's sums."""
    mine = client.get(f"{API}/me/progress", headers=learner).json()
    session.expire_all()
    expected = {
        slug: (completed, total, "COMPLETED" if completed and done else None)
        for slug, total, completed, done in session.execute(RECOUNT).tuples()
    }
    shown = {
        tree["tree"]["slug"]: (
            tree["progress"]["skillsCompleted"],
            tree["progress"]["totalSkills"],
            "COMPLETED" if tree["progress"]["status"] == "COMPLETED" else None,
        )
        for tree in mine["trees"]
    }
    assert shown == expected
    profile = mine["profile"]
    assert profile["skillsCompleted"] == sum(completed for completed, _, _ in expected.values())
    assert profile["treesCompleted"] == sum(bool(status) for _, _, status in expected.values())
    assert profile["treesStarted"] == sum(
        tree["progress"]["status"] != "NOT_STARTED" for tree in mine["trees"]
    )
    return mine


def export_edited(
    client: TestClient, admin: dict[str, str], edit: Callable[[list[dict[str, Any]]], None]
) -> None:
    """Export the tree, `edit` its skills, import it again."""
    exported = client.get(f"{API}/trees/frontend/export", headers=admin)
    assert exported.status_code == 200, exported.text
    document = exported.json()
    edit(document["skills"])
    imported = client.post(f"{API}/trees/import", json=document, headers=admin)
    assert imported.status_code == 200, imported.text


def drop_css(skills: list[dict[str, Any]]) -> None:
    skills[:] = [s for s in skills if s["key"] != "css"]
    for skill in skills:
        skill["dependencies"] = [d for d in skill["dependencies"] if d != "css"]


def deactivate_html(skills: list[dict[str, Any]]) -> None:
    next(s for s in skills if s["key"] == "html")["isActive"] = False


# Each write path: (client, admin headers, curriculum) -> the answer's status code.
CHANGES: dict[str, Callable[[TestClient, dict[str, str], Curriculum], int]] = {
    "delete a completed skill": lambda c, a, cur: (
        c.delete(f"{API}/skills/{cur.id('css')}", headers=a).status_code
    ),
    "delete a skill not started": lambda c, a, cur: (
        c.delete(f"{API}/skills/{cur.id('react')}", headers=a).status_code
    ),
    "deactivate a completed skill": lambda c, a, cur: (
        c.patch(f"{API}/skills/{cur.id('css')}", json={"isActive": False}, headers=a).status_code
    ),
    "reactivate a skill": lambda c, a, cur: (
        c.patch(f"{API}/skills/{cur.id('gone')}", json={"isActive": True}, headers=a).status_code
    ),
    "make a skill optional": lambda c, a, cur: (
        c.patch(f"{API}/skills/{cur.id('react')}", json={"isOptional": True}, headers=a).status_code
    ),
    "add a skill": lambda c, a, cur: (
        c.post(f"{API}/trees/frontend/skills", json={"name": "SASS"}, headers=a).status_code
    ),
    "remove a prerequisite": lambda c, a, cur: (
        c.put(
            f"{API}/skills/{cur.id('react')}/dependencies",
            json={"dependencies": [cur.id("html")]},
            headers=a,
        ).status_code
    ),
    "add a prerequisite": lambda c, a, cur: (
        c.put(
            f"{API}/skills/{cur.id('pro')}/dependencies",
            json={"dependencies": [cur.id("tips"), cur.id("react")]},
            headers=a,
        ).status_code
    ),
    "unpublish the tree": lambda c, a, cur: (
        c.patch(f"{API}/trees/frontend", json={"isPublished": False}, headers=a).status_code
    ),
    "delete the tree": lambda c, a, cur: c.delete(f"{API}/trees/frontend", headers=a).status_code,
    "import without a completed skill": lambda c, a, cur: export_edited(c, a, drop_css) or 200,
    "import with a completed skill inactive": lambda c, a, cur: (
        export_edited(c, a, deactivate_html) or 200
    ),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_change_of_a_tree_leaves_its_learners_counts_exact(
    change: str,
    client: TestClient,
    curriculum: Curriculum,
    learner: dict[str, str],
    session: Session,
) -> None:
    admin = author(client, session, curriculum)
    # A second tree, finished: the profile's sums span both trees.
    other = make_tree(session, make_category(session), slug="other")
    only = make_skill(session, other, xp_value=5)
    session.commit()
    assert client.post(f"{API}/skills/{only.id}/complete", json={}, headers=learner).is_success
    for key in ["html", "css", "js", "layout"]:
        done = client.post(f"{API}/skills/{curriculum.id(key)}/complete", json={}, headers=learner)
        assert done.is_success, done.text
    assert client.post(f"{API}/skills/{curriculum.id('tips')}/skip", headers=learner).is_success
    before = assert_counts_exact(client, session, learner)
    assert before["profile"]["skillsCompleted"] == 5

    assert CHANGES[change](client, admin, curriculum) in {200, 201, 204}

    after = assert_counts_exact(client, session, learner)
    assert after["profile"]["totalXp"] == before["profile"]["totalXp"]  # XP earned stays


def test_deleting_a_tree_takes_its_counts_out_of_the_profile(
    client: TestClient, curriculum: Curriculum, learner: dict[str, str], session: Session
) -> None:
    admin = author(client, session, curriculum)
    client.post(f"{API}/skills/{curriculum.id('tips')}/complete", json={}, headers=learner)
    client.post(f"{API}/skills/{curriculum.id('pro')}/complete", json={}, headers=learner)
    # Every other required skill goes: the tree is completed.
    for key in ["quiz", "react", "layout", "js", "css", "html"]:
        client.delete(f"{API}/skills/{curriculum.id(key)}", headers=admin)
    profile = client.get(f"{API}/me/progress", headers=learner).json()["profile"]
    assert (profile["skillsCompleted"], profile["treesStarted"], profile["treesCompleted"]) == (
        2,
        1,
        1,
    )

    assert client.delete(f"{API}/trees/frontend", headers=admin).status_code == 204

    mine = client.get(f"{API}/me/progress", headers=learner).json()
    assert mine["trees"] == []
    profile = mine["profile"]
    assert (profile["skillsCompleted"], profile["treesStarted"], profile["treesCompleted"]) == (
        0,
        0,
        0,
    )
    assert profile["totalXp"] == 10 + 20
