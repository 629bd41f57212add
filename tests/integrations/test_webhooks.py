"""Signed completions over HTTP: a delivery signed with the package's own `Webhook.sign`
completes by EXTERNAL with every consequence; every unsigned, badly signed, stale or replayed
delivery is refused (and logged) or answered with its first outcome; unknown learners and
skills are 404s; the skill's policy holds; a learner cannot claim EXTERNAL themselves."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from skilltree.integrations.signing import new_secret
from skilltree.models import (
    CompletionMethod,
    IntegrationDelivery,
    ProgressEvent,
    ProgressEventKind,
    SkillProgressStatus,
    UserProfile,
    UserSkillProgress,
)
from tests.factories import Person, make_category, make_skill, make_tree, make_user
from tests.integrations.conftest import Hook, body_of, new_webhook_id, signed_headers

LOGGER = "skilltree.integrations"


def completions(session: Session, learner: Person, hook: Hook) -> int:
    return (
        session.scalar(
            select(func.count()).where(
                ProgressEvent.user_id == learner.id,
                ProgressEvent.skill_id == hook.skill.id,
                ProgressEvent.kind == ProgressEventKind.COMPLETE,
            )
        )
        or 0
    )


def xp(session: Session, learner: Person) -> int:
    profile = session.get(UserProfile, learner.id, populate_existing=True)
    return profile.total_xp if profile else 0


def refusals(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == LOGGER]


def test_a_signed_completion_completes_by_external_with_every_consequence(
    client: TestClient, session: Session, hook: Hook, learner: Person
) -> None:
    hook.ready(client, learner)
    webhook_id = new_webhook_id()
    done = hook.send(
        client, hook.payload(learner, evidenceUrl="https://ci.example/run/7"), webhook_id=webhook_id
    )
    assert done.status_code == 200, done.text
    answer = done.json()
    assert (answer["repeated"], answer["webhookId"], answer["userId"], answer["skillId"]) == (
        False,
        webhook_id,
        learner.id,
        hook.skill.id,
    )
    outcome = answer["outcome"]
    assert outcome["changed"] is True
    assert outcome["skill"]["completionMethod"] == "EXTERNAL"
    assert outcome["xpAwarded"] == 40
    assert [s["id"] for s in outcome["unlocked"]] == [hook.after.id]
    assert outcome["profile"]["totalXp"] == 50
    assert outcome["profile"]["currentStreak"] == 1
    row = session.scalars(
        select(UserSkillProgress)
        .where(UserSkillProgress.user_id == learner.id, UserSkillProgress.skill_id == hook.skill.id)
        .execution_options(populate_existing=True)
    ).one()
    assert (row.status, row.completion_method) == (
        SkillProgressStatus.COMPLETED,
        CompletionMethod.EXTERNAL,
    )
    assert row.evidence_data == {
        "type": "url",
        "content": "https://ci.example/run/7",
        "metadata": {
            "integrationId": hook.integration_id,
            "integration": "CI",
            "webhookId": webhook_id,
        },
    }
    delivery = session.scalars(
        select(IntegrationDelivery).where(IntegrationDelivery.webhook_id == webhook_id)
    ).one()
    assert (delivery.user_id, delivery.skill_id) == (learner.id, hook.skill.id)
    assert delivery.answer is not None
    assert delivery.answer["xpAwarded"] == 40


def test_the_learner_may_be_named_by_username_in_any_case(
    client: TestClient, session: Session, hook: Hook, learner: Person
) -> None:
    hook.ready(client, learner)
    payload = {"username": learner.user.username.upper(), "skillId": hook.skill.id}
    done = hook.send(client, payload)
    assert done.status_code == 200, done.text
    assert done.json()["userId"] == learner.id
    evidence = session.scalars(
        select(UserSkillProgress.evidence_data).where(
            UserSkillProgress.user_id == learner.id, UserSkillProgress.skill_id == hook.skill.id
        )
    ).one()
    assert evidence is not None
    assert (evidence["type"], evidence["content"]) == ("text", "Completed in CI")


def test_the_same_webhook_id_again_answers_the_first_and_completes_nothing(
    client: TestClient, session: Session, hook: Hook, learner: Person
) -> None:
    hook.ready(client, learner)
    webhook_id = new_webhook_id()
    first = hook.send(client, hook.payload(learner), webhook_id=webhook_id)
    # A redelivery: the same id and body, signed again later (as senders retry).
    again = hook.send(
        client,
        hook.payload(learner),
        webhook_id=webhook_id,
        when=datetime.now(UTC) + timedelta(seconds=30),
    )
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["repeated"] is True
    assert again.json()["outcome"] == first.json()["outcome"]
    assert completions(session, learner, hook) == 1
    assert xp(session, learner) == 50


def test_the_same_webhook_id_with_another_body_is_refused(
    client: TestClient, session: Session, hook: Hook, learner: Person
) -> None:
    hook.ready(client, learner)
    webhook_id = new_webhook_id()
    assert hook.send(client, hook.payload(learner), webhook_id=webhook_id).status_code == 200
    other = hook.send(client, hook.payload(learner, minutesSpent=5), webhook_id=webhook_id)
    assert other.status_code == 409
    assert other.json()["code"] == "WebhookIdReused"
    assert completions(session, learner, hook) == 1


def _unsigned(hook: Hook, learner: Person) -> tuple[bytes, dict[str, str]]:
    return body_of(hook.payload(learner)), {"content-type": "application/json"}


def _signed_by_another_secret(hook: Hook, learner: Person) -> tuple[bytes, dict[str, str]]:
    body = body_of(hook.payload(learner))
    return body, signed_headers(new_secret(), body, new_webhook_id())


def _tampered(hook: Hook, learner: Person) -> tuple[bytes, dict[str, str]]:
    headers = signed_headers(hook.secret, body_of(hook.payload(learner)), new_webhook_id())
    return body_of(hook.payload(learner, minutesSpent=60)), headers


def _id_changed(hook: Hook, learner: Person) -> tuple[bytes, dict[str, str]]:
    body = body_of(hook.payload(learner))
    return body, signed_headers(hook.secret, body, new_webhook_id()) | {"webhook-id": "other"}


def _stale(hook: Hook, learner: Person) -> tuple[bytes, dict[str, str]]:
    body = body_of(hook.payload(learner))
    when = datetime.now(UTC) - timedelta(seconds=301)
    return body, signed_headers(hook.secret, body, new_webhook_id(), when)


def _from_the_future(hook: Hook, learner: Person) -> tuple[bytes, dict[str, str]]:
    body = body_of(hook.payload(learner))
    when = datetime.now(UTC) + timedelta(seconds=301)
    return body, signed_headers(hook.secret, body, new_webhook_id(), when)


def _bad_timestamp(hook: Hook, learner: Person) -> tuple[bytes, dict[str, str]]:
    body = body_of(hook.payload(learner))
    return body, signed_headers(hook.secret, body, new_webhook_id()) | {"webhook-timestamp": "1e9"}


def _no_signature(hook: Hook, learner: Person) -> tuple[bytes, dict[str, str]]:
    body = body_of(hook.payload(learner))
    headers = signed_headers(hook.secret, body, new_webhook_id())
    del headers["webhook-signature"]
    return body, headers


def _bare_signature(hook: Hook, learner: Person) -> tuple[bytes, dict[str, str]]:
    # The base64 HMAC without its "v1," version: not a signature of the spec's.
    body = body_of(hook.payload(learner))
    headers = signed_headers(hook.secret, body, new_webhook_id())
    return body, headers | {"webhook-signature": headers["webhook-signature"][3:]}


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_unsigned, "MissingHeaders"),
        (_no_signature, "MissingHeaders"),
        (_signed_by_another_secret, "BadSignature"),
        (_tampered, "BadSignature"),
        (_id_changed, "BadSignature"),
        (_bare_signature, "BadSignature"),
        (_stale, "Stale"),
        (_from_the_future, "Stale"),
        (_bad_timestamp, "BadHeaders"),
    ],
)
def test_deliveries_not_signed_as_they_must_be_are_refused_and_logged(
    client: TestClient,
    session: Session,
    hook: Hook,
    learner: Person,
    caplog: pytest.LogCaptureFixture,
    make: Any,
    reason: str,
) -> None:
    hook.ready(client, learner)
    body, headers = make(hook, learner)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        refused = client.post(hook.url, content=body, headers=headers)
    assert refused.status_code == 401, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert (refused.json()["code"], refused.json()["reason"]) == ("WebhookRefused", reason)
    assert completions(session, learner, hook) == 0
    logged = refusals(caplog)
    assert [(e["code"], e["reason"], e["integrationId"]) for e in logged] == [
        ("WebhookRefused", reason, hook.integration_id)
    ]


def test_an_unknown_or_disabled_integration_is_refused(
    client: TestClient, session: Session, hook: Hook, learner: Person
) -> None:
    hook.ready(client, learner)
    unknown = hook.send(client, hook.payload(learner), url="/api/v1/integrations/nope/completions")
    assert (unknown.status_code, unknown.json()["reason"]) == (401, "UnknownIntegration")
    disabled = client.patch(
        f"/api/v1/integrations/{hook.integration_id}",
        json={"isActive": False},
        headers=hook.author.headers,
    )
    assert disabled.json()["isActive"] is False
    refused = hook.send(client, hook.payload(learner))
    assert (refused.status_code, refused.json()["reason"]) == (401, "UnknownIntegration")
    client.patch(
        f"/api/v1/integrations/{hook.integration_id}",
        json={"isActive": True},
        headers=hook.author.headers,
    )
    assert hook.send(client, hook.payload(learner)).status_code == 200


def test_unknown_learners_and_skills_are_404s(
    client: TestClient, session: Session, hook: Hook, learner: Person
) -> None:
    hook.ready(client, learner)
    gone = make_user(session, is_active=False)
    elsewhere = make_skill(session, make_tree(session, make_category(session)))
    cases = [
        ({"userId": "nobody", "skillId": hook.skill.id}, "LearnerNotFound"),
        ({"username": "nobody-at-all", "skillId": hook.skill.id}, "LearnerNotFound"),
        ({"userId": gone.id, "skillId": hook.skill.id}, "LearnerNotFound"),
        ({"userId": learner.id, "skillId": "no-such-skill"}, "SkillNotFound"),
        # The tree's integration completes that tree's skills only.
        ({"userId": learner.id, "skillId": elsewhere.id}, "SkillNotFound"),
    ]
    for payload, code in cases:
        answer = hook.send(client, payload)
        assert (answer.status_code, answer.json()["code"]) == (404, code), payload
    assert completions(session, learner, hook) == 0


def test_a_draft_skill_is_unknown_to_learners_who_may_not_see_the_draft(
    client: TestClient, session: Session, hook: Hook, learner: Person
) -> None:
    hook.tree.is_published = False
    session.flush()
    refused = hook.send(client, {"userId": learner.id, "skillId": hook.intro.id})
    assert (refused.status_code, refused.json()["code"]) == (404, "SkillNotFound")


def test_the_body_is_checked_once_signed(client: TestClient, hook: Hook, learner: Person) -> None:
    both = hook.send(client, {"userId": learner.id, "username": "x", "skillId": hook.skill.id})
    assert both.status_code == 400
    assert both.json()["errors"][0]["loc"] == ["body"]
    score = hook.send(client, hook.payload(learner, score=101))
    assert (score.status_code, score.json()["errors"][0]["loc"]) == (400, ["body", "score"])
    body = b"not json"
    headers = signed_headers(hook.secret, body, new_webhook_id())
    assert client.post(hook.url, content=body, headers=headers).status_code == 400


def test_the_skills_policy_and_state_hold(
    client: TestClient, session: Session, hook: Hook, learner: Person
) -> None:
    locked = hook.send(client, hook.payload(learner))
    assert (locked.status_code, locked.json()["code"]) == (409, "SkillLocked")
    manual_only = hook.send(client, {"userId": learner.id, "skillId": hook.intro.id})
    assert manual_only.status_code == 409
    assert manual_only.json()["code"] == "CompletionMethodNotAllowed"
    assert manual_only.json()["allowedMethods"] == ["MANUAL"]
    assert xp(session, learner) == 0


def test_a_learner_cannot_claim_external_themselves(
    client: TestClient, session: Session, hook: Hook, learner: Person
) -> None:
    hook.ready(client, learner)
    url = f"/api/v1/skills/{hook.skill.id}/complete"
    forged = {
        "method": "EXTERNAL",
        "evidence": {
            "type": "text",
            "content": "Completed in CI",
            "metadata": {"integrationId": hook.integration_id, "webhookId": "msg_made_up"},
        },
    }
    for body in ({"method": "EXTERNAL"}, forged):
        refused = client.post(url, json=body, headers=learner.headers)
        assert refused.status_code == 409, refused.text
        assert refused.json()["code"] == "SignedDeliveryRequired"
    assert completions(session, learner, hook) == 0
    assert xp(session, learner) == 10  # intro's only
    # A delivery that did complete the skill cannot be named again by the learner for another.
    assert hook.send(client, hook.payload(learner)).status_code == 200
    hook.after.completion_policy = {"EXTERNAL": {}}
    session.flush()
    delivered = session.scalars(
        select(IntegrationDelivery).where(IntegrationDelivery.user_id == learner.id)
    ).one()
    reuse = forged | {
        "evidence": forged["evidence"]
        | {"metadata": {"integrationId": hook.integration_id, "webhookId": delivered.webhook_id}}
    }
    refused = client.post(
        f"/api/v1/skills/{hook.after.id}/complete", json=reuse, headers=learner.headers
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "SignedDeliveryRequired")
