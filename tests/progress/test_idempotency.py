"""Idempotency-Key: a retried request gets the first answer; a reused key on another is refused."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from skilltree.models import ProgressEvent
from tests.progress.conftest import Curriculum


def test_a_retry_with_the_same_key_gets_the_first_answer(
    client: TestClient, curriculum: Curriculum, learner: dict[str, str], session: Session
) -> None:
    url = f"/api/v1/skills/{curriculum.id('html')}/complete"
    headers = learner | {"Idempotency-Key": "attempt-1"}
    first = client.post(url, json={"minutesSpent": 10}, headers=headers)
    retry = client.post(url, json={"minutesSpent": 10}, headers=headers)
    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()
    assert retry.json()["changed"] is True  # the first answer, not "nothing changed"
    completions = session.scalar(
        select(func.count()).select_from(ProgressEvent).where(ProgressEvent.kind == "COMPLETE")
    )
    assert completions == 1


def test_the_same_key_on_another_request_is_refused(
    client: TestClient, curriculum: Curriculum, learner: dict[str, str]
) -> None:
    headers = learner | {"Idempotency-Key": "k"}
    url = f"/api/v1/skills/{curriculum.id('html')}/activity"
    assert client.post(url, json={"minutes": 5}, headers=headers).status_code == 200
    reused = client.post(url, json={"minutes": 6}, headers=headers)
    assert reused.status_code == 409
    assert reused.json()["code"] == "IdempotencyKeyReused"


def test_a_failed_request_stores_nothing_so_its_retry_runs(
    client: TestClient, curriculum: Curriculum, learner: dict[str, str]
) -> None:
    headers = learner | {"Idempotency-Key": "css-1"}
    url = f"/api/v1/skills/{curriculum.id('css')}/complete"
    assert client.post(url, json={}, headers=headers).status_code == 409  # locked
    client.post(f"/api/v1/skills/{curriculum.id('html')}/complete", json={}, headers=learner)
    assert client.post(url, json={}, headers=headers).status_code == 200


def test_keys_belong_to_their_user_and_are_checked(
    client: TestClient, curriculum: Curriculum, learner: dict[str, str]
) -> None:
    bad = client.post(
        f"/api/v1/skills/{curriculum.id('html')}/start",
        headers=learner | {"Idempotency-Key": "x" * 201},
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
