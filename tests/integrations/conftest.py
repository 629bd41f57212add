"""A tree by an author whose middle skill is completed by EXTERNAL only, an integration of the
tree made through the API, and deliveries signed with the `standardwebhooks` package's own
`Webhook.sign`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from skilltree.models import Skill, SkillTree
from tests.factories import Person, add_dependency, make_category, make_skill, make_tree

_ids = iter(range(1, 1_000_000))


def new_webhook_id() -> str:
    """A webhook-id no other delivery of the test run has."""
    return f"msg_{next(_ids)}"


def signed_headers(
    secret: str, body: bytes, webhook_id: str, when: datetime | None = None
) -> dict[str, str]:
    """The Standard Webhooks headers of `body`, signed with `secret` at `when` (now)."""
    when = when or datetime.now(UTC)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, when, body),
        "content-type": "application/json",
    }


def body_of(payload: dict[str, Any]) -> bytes:
    """A payload as an integration sends it."""
    return json.dumps(payload).encode()


@dataclass
class Hook:
    """`skill` (EXTERNAL only, 40 XP) needs `intro` (10 XP) and unlocks `after`, in `tree` by
    `author`; `integration_id` is the tree's integration, signing with `secret`."""

    tree: SkillTree
    intro: Skill
    skill: Skill
    after: Skill
    author: Person
    integration_id: str
    secret: str

    @property
    def url(self) -> str:
        return f"/api/v1/integrations/{self.integration_id}/completions"

    def payload(self, learner: Person, **overrides: Any) -> dict[str, Any]:
        return {"userId": learner.id, "skillId": self.skill.id} | overrides

    def send(
        self,
        client: TestClient,
        payload: dict[str, Any],
        *,
        webhook_id: str | None = None,
        secret: str | None = None,
        when: datetime | None = None,
        url: str | None = None,
    ) -> Any:
        """`payload` signed and delivered (a new webhook-id unless one is given)."""
        body = body_of(payload)
        headers = signed_headers(secret or self.secret, body, webhook_id or new_webhook_id(), when)
        return client.post(url or self.url, content=body, headers=headers)

    def ready(self, client: TestClient, learner: Person) -> None:
        """The learner completes `intro` themselves: `skill` is available to them."""
        done = client.post(
            f"/api/v1/skills/{self.intro.id}/complete", json={}, headers=learner.headers
        )
        assert done.status_code == 200, done.text


@pytest.fixture
def hook(session: Session, author: Person, client: TestClient) -> Hook:
    tree = make_tree(session, make_category(session), created_by=author.id)
    intro = make_skill(session, tree, xp_value=10)
    skill = make_skill(session, tree, xp_value=40, completion_policy={"EXTERNAL": {}})
    after = make_skill(session, tree, xp_value=5)
    add_dependency(session, skill, intro)
    add_dependency(session, after, skill)
    made = client.post(
        "/api/v1/integrations", json={"name": "CI", "treeSlug": tree.slug}, headers=author.headers
    )
    assert made.status_code == 201, made.text
    return Hook(
        tree,
        intro,
        skill,
        after,
        author,
        made.json()["integration"]["id"],
        made.json()["secret"],
    )


def an_hour_ago() -> datetime:
    return datetime.now(UTC) - timedelta(hours=1)
