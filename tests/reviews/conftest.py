"""A tree by an author with a PROJECT skill (after an intro skill) that has a rubric."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from skilltree.models import Skill, SkillTree
from tests.factories import Person, add_dependency, make_category, make_skill, make_tree

RUBRIC: dict[str, Any] = {
    "criteria": [
        {
            "id": "works",
            "name": "It works",
            "levels": [
                {"name": "Broken", "points": 0},
                {"name": "Mostly", "points": 2},
                {"name": "Fully", "points": 4},
            ],
            "minimum": 2,
        },
        {
            "id": "style",
            "name": "Readable",
            "levels": [{"name": "Hard", "points": 0}, {"name": "Clear", "points": 1}],
        },
    ]
}
GOOD = {"works": 4, "style": 1}
WORK = {"text": "My page", "links": [{"url": "https://example.com/repo", "title": "code"}]}


@dataclass
class Project:
    """`skill` (PROJECT only, 40 XP, needs `intro`, 10 XP) in `tree` by `author`, with
    `RUBRIC`."""

    tree: SkillTree
    intro: Skill
    skill: Skill
    author: Person

    def ready(self, client: TestClient, who: Person) -> None:
        """`who` has the intro done."""
        done = client.post(f"/api/v1/skills/{self.intro.id}/complete", json={}, headers=who.headers)
        assert done.status_code == 200, done.text

    def submit(self, client: TestClient, who: Person, body: dict[str, Any] | None = None) -> Any:
        return client.post(
            f"/api/v1/skills/{self.skill.id}/submissions",
            json=WORK if body is None else body,
            headers=who.headers,
        )


def claim(client: TestClient, who: Person, order: str = "oldest") -> Any:
    return client.post(f"/api/v1/reviews/claim?order={order}", headers=who.headers)


def review(
    client: TestClient,
    who: Person,
    submission_id: str,
    decision: str = "APPROVE",
    scores: dict[str, float] | None = None,
    feedback: str = "",
) -> Any:
    return client.post(
        f"/api/v1/submissions/{submission_id}/review",
        json={
            "decision": decision,
            "scores": GOOD if scores is None else scores,
            "feedback": feedback,
        },
        headers=who.headers,
    )


@pytest.fixture
def project(session: Session, author: Person, client: TestClient) -> Project:
    tree = make_tree(session, make_category(session), created_by=author.id)
    intro = make_skill(session, tree, xp_value=10)
    skill = make_skill(session, tree, xp_value=40, completion_policy={"PROJECT": {}})
    add_dependency(session, skill, intro)
    put = client.put(f"/api/v1/skills/{skill.id}/rubric", json=RUBRIC, headers=author.headers)
    assert put.status_code == 200, put.text
    return Project(tree, intro, skill, author)
