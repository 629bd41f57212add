"""Attempts graded by the server (issue 14, part 2): start, submit once, complete on a pass."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from skilltree.models import CompletionMethod, UserProfile, UserSkillProgress
from tests.assessments.conftest import EXPLAIN_MARK, KEY_MARK, RIGHT, Quiz, bank
from tests.factories import Person

PROBLEM = "application/problem+json"


def ready(client: TestClient, quiz: Quiz, learner: Person) -> None:
    """The learner has the quiz's prerequisite done."""
    done = client.post(f"/api/v1/skills/{quiz.intro.id}/complete", json={}, headers=learner.headers)
    assert done.status_code == 200, done.text


def submit(client: TestClient, attempt_id: str, who: Person, answers: dict[str, Any]) -> Any:
    return client.post(
        f"/api/v1/attempts/{attempt_id}/submit", json={"answers": answers}, headers=who.headers
    )


def total_xp(session: Session, who: Person) -> int:
    session.expire_all()
    return session.execute(
        select(UserProfile.total_xp).where(UserProfile.user_id == who.id)
    ).scalar_one()


def test_the_author_reads_the_bank_with_its_keys_and_nobody_else_does(
    client: TestClient, quiz: Quiz, learner: Person, other_author: Person
) -> None:
    mine = client.get(f"/api/v1/skills/{quiz.skill.id}/question-bank", headers=quiz.author.headers)
    assert mine.status_code == 200
    questions = {q["id"]: q for q in mine.json()["questions"]}
    assert questions["single"]["correct"] == "a"
    assert questions["text"]["accepted"] == [
        f"html {KEY_MARK}".lower(),
        "hypertext markup language",
    ]
    assert [o["id"] for o in questions["order"]["options"]] == ["html", "body", "para"]
    assert questions["number"]["answer"] == 6
    for who in (learner, other_author):
        refused = client.get(f"/api/v1/skills/{quiz.skill.id}/question-bank", headers=who.headers)
        assert refused.status_code == 403
        assert KEY_MARK not in refused.text


def test_a_bad_bank_is_refused_naming_the_field(client: TestClient, quiz: Quiz) -> None:
    wrong = bank()
    wrong["questions"][0]["correct"] = "nope"
    refused = quiz.put_bank(client, wrong)
    assert refused.status_code == 400
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["errors"][0]["loc"][:2] == ["questions", 0]
    too_many = quiz.put_bank(client, bank(questionsPerAttempt=6))
    assert too_many.status_code == 400
    assert quiz.put_bank(client, {"questions": "none"}).status_code == 400
    assert (
        client.put(
            f"/api/v1/skills/{quiz.skill.id}/question-bank", json=[], headers=quiz.author.headers
        ).status_code
        == 422
    )  # not even an object


def test_an_attempt_shows_questions_without_keys_or_explanations(
    client: TestClient, quiz: Quiz, learner: Person
) -> None:
    ready(client, quiz, learner)
    started = quiz.start(client, learner)
    assert started.status_code == 200, started.text
    body = started.json()
    assert {q["id"] for q in body["questions"]} == {"single", "multi", "number", "text", "order"}
    assert "correct" not in started.text
    assert "explanation" not in started.text
    assert EXPLAIN_MARK not in started.text
    assert KEY_MARK.lower() not in started.text.lower()
    assert "accepted" not in started.text
    assert body["submittedAt"] is None
    assert body["results"] is None
    # Asked again while open: the same attempt, in the same order.
    again = quiz.start(client, learner).json()
    assert again["id"] == body["id"]
    assert again["questions"] == body["questions"]
    assert again["repeated"] is True


def test_a_pass_completes_the_skill_by_assessment_once(
    client: TestClient, quiz: Quiz, learner: Person, session: Session
) -> None:
    ready(client, quiz, learner)
    attempt = quiz.start(client, learner).json()
    graded = submit(client, attempt["id"], learner, RIGHT)
    assert graded.status_code == 200, graded.text
    result = graded.json()
    assert result["score"] == 100
    assert result["passed"] is True
    assert result["expired"] is False
    assert all(r["correct"] for r in result["results"])
    assert all(EXPLAIN_MARK in r["explanation"] for r in result["results"])
    assert result["completion"]["xpAwarded"] == 40
    assert total_xp(session, learner) == 50
    row = session.execute(
        select(UserSkillProgress).where(
            UserSkillProgress.user_id == learner.id, UserSkillProgress.skill_id == quiz.skill.id
        )
    ).scalar_one()
    assert row.completion_method is CompletionMethod.ASSESSMENT
    assert row.completion_score == 100
    assert row.evidence_data == {
        "type": "assessment_score",
        "content": "100",
        "metadata": {"attemptId": attempt["id"]},
    }
    # A second submit answers the first grade: nothing is graded or awarded again.
    again = submit(client, attempt["id"], learner, {})
    assert again.status_code == 200
    assert again.json()["score"] == 100
    assert again.json()["repeated"] is True
    assert total_xp(session, learner) == 50
    shown = client.get(f"/api/v1/attempts/{attempt['id']}", headers=learner.headers).json()
    assert shown["results"] == result["results"]


def test_a_fail_completes_nothing_and_says_what_was_wrong(
    client: TestClient, quiz: Quiz, learner: Person, session: Session
) -> None:
    client.put(
        f"/api/v1/skills/{quiz.skill.id}/question-bank",
        json=bank(passingScore=80),
        headers=quiz.author.headers,
    )
    ready(client, quiz, learner)
    attempt = quiz.start(client, learner).json()
    graded = submit(client, attempt["id"], learner, RIGHT | {"single": "p", "order": []}).json()
    assert graded["passed"] is False
    assert graded["completion"] is None
    assert graded["score"] == 50  # 3 of 6 points: single (2) and order (1) wrong
    wrong = {r["questionId"] for r in graded["results"] if not r["correct"]}
    assert wrong == {"single", "order"}
    assert total_xp(session, learner) == 10


def test_a_client_sent_score_completes_nothing_when_the_skill_has_a_bank(
    client: TestClient, quiz: Quiz, learner: Person
) -> None:
    ready(client, quiz, learner)
    refused = client.post(
        f"/api/v1/skills/{quiz.skill.id}/complete",
        json={"method": "ASSESSMENT", "score": 100},
        headers=learner.headers,
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "AssessmentAttemptRequired"
    assert refused.json()["attemptsUrl"] == f"/api/v1/skills/{quiz.skill.id}/attempts"
    # Evidence naming an attempt that did not pass (or is not theirs) is no better.
    attempt = quiz.start(client, learner).json()
    forged = client.post(
        f"/api/v1/skills/{quiz.skill.id}/complete",
        json={
            "method": "ASSESSMENT",
            "score": 100,
            "evidence": {
                "type": "assessment_score",
                "content": "100",
                "metadata": {"attemptId": attempt["id"]},
            },
        },
        headers=learner.headers,
    )
    assert forged.status_code == 409


def test_a_submit_after_the_time_limit_is_graded_as_expired(
    client: TestClient, quiz: Quiz, learner: Person, session: Session
) -> None:
    quiz.put_bank(client, bank(timeLimitSeconds=60))
    ready(client, quiz, learner)
    attempt = quiz.start(client, learner).json()
    assert attempt["expiresAt"] is not None
    past = datetime.now(UTC) - timedelta(minutes=5)
    session.execute(
        text(
            "UPDATE assessment_attempts SET started_at = :t, expires_at = :t + interval '1 minute'"
            " WHERE id = :id"
        ),
        {"t": past, "id": attempt["id"]},
    )
    graded = submit(client, attempt["id"], learner, RIGHT).json()
    assert graded["expired"] is True
    assert graded["passed"] is False
    assert graded["score"] == 0
    assert total_xp(session, learner) == 10


def test_attempts_past_the_days_limit_or_in_the_cooldown_are_refused_with_when(
    client: TestClient, quiz: Quiz, learner: Person
) -> None:
    quiz.put_bank(client, bank(cooldownMinutes=30, attemptsPerDay=5))
    ready(client, quiz, learner)
    first = quiz.start(client, learner).json()
    graded = submit(client, first["id"], learner, {}).json()
    refused = quiz.start(client, learner)
    assert refused.status_code == 409
    assert refused.headers["content-type"] == PROBLEM
    problem = refused.json()
    assert problem["code"] == "AttemptNotAllowedYet"
    assert problem["reason"] == "Cooldown"
    retry = datetime.fromisoformat(problem["retryAt"])
    assert retry == datetime.fromisoformat(graded["submittedAt"]) + timedelta(minutes=30)


def test_the_days_limit_names_when_the_oldest_attempt_leaves_the_window(
    client: TestClient, quiz: Quiz, learner: Person, session: Session
) -> None:
    quiz.put_bank(client, bank(attemptsPerDay=2))
    ready(client, quiz, learner)
    starts = []
    for _ in range(2):
        attempt = quiz.start(client, learner).json()
        submit(client, attempt["id"], learner, {})
        starts.append(datetime.fromisoformat(attempt["startedAt"]))
    refused = quiz.start(client, learner).json()
    assert refused["reason"] == "AttemptLimit"
    assert datetime.fromisoformat(refused["retryAt"]) == starts[0] + timedelta(days=1)


def test_a_locked_skill_cannot_be_attempted_and_no_bank_is_a_404(
    client: TestClient, quiz: Quiz, learner: Person
) -> None:
    locked = quiz.start(client, learner)
    assert locked.status_code == 409
    assert locked.json()["code"] == "SkillLocked"
    none = client.post(f"/api/v1/skills/{quiz.intro.id}/attempts", headers=learner.headers)
    assert none.status_code == 404


def test_someone_elses_attempt_is_not_found(
    client: TestClient, quiz: Quiz, learner: Person, session: Session
) -> None:
    ready(client, quiz, learner)
    attempt = quiz.start(client, learner).json()
    other = quiz.author
    assert client.get(f"/api/v1/attempts/{attempt['id']}", headers=other.headers).status_code == 404
    assert submit(client, attempt["id"], other, RIGHT).status_code == 404


def test_the_learner_lists_their_own_attempts_newest_first_a_page_at_a_time(
    client: TestClient, quiz: Quiz, learner: Person
) -> None:
    quiz.put_bank(client, bank(passingScore=50))
    ready(client, quiz, learner)
    started = []
    for answers in ({}, {"single": "p"}, RIGHT):
        attempt = quiz.start(client, learner).json()
        started.append(attempt["id"])
        submit(client, attempt["id"], learner, answers)
    url = f"/api/v1/skills/{quiz.skill.id}/attempts"
    first = client.get(url, params={"pageSize": 2}, headers=learner.headers)
    assert first.status_code == 200, first.text
    page = first.json()
    assert (page["total"], page["page"], page["pageSize"]) == (3, 1, 2)
    assert [a["id"] for a in page["items"]] == started[:0:-1]
    assert [a["passed"] for a in page["items"]] == [True, False]
    assert page["items"][0]["score"] == 100
    assert "questions" not in page["items"][0]
    assert "results" not in page["items"][0]
    second = client.get(url, params={"page": 2, "pageSize": 2}, headers=learner.headers).json()
    assert [a["id"] for a in second["items"]] == started[:1]
    past = client.get(url, params={"page": 9, "pageSize": 2}, headers=learner.headers).json()
    assert (past["items"], past["total"]) == ([], 3)
    # Nobody else sees them: the author has no attempts of their own here.
    theirs = client.get(url, headers=quiz.author.headers).json()
    assert (theirs["items"], theirs["total"]) == ([], 0)
    missing = client.get("/api/v1/skills/no-such-skill/attempts", headers=learner.headers)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
    assert client.get(url).status_code == 401


def test_the_modules_answer_says_whether_the_skill_has_a_bank_and_nothing_more(
    client: TestClient, quiz: Quiz, learner: Person
) -> None:
    # The web app's skill panel reads it to offer the quiz (a boolean: never questions or keys).
    for who in (None, learner):
        headers = who.headers if who else {}
        with_bank = client.get(f"/api/v1/skills/{quiz.skill.id}/modules", headers=headers)
        without = client.get(f"/api/v1/skills/{quiz.intro.id}/modules", headers=headers)
        assert with_bank.json()["hasQuestionBank"] is True
        assert without.json()["hasQuestionBank"] is False
        assert "prompt" not in with_bank.text
        assert "Which tag" not in with_bank.text
    assert (
        client.delete(
            f"/api/v1/skills/{quiz.skill.id}/question-bank", headers=quiz.author.headers
        ).status_code
        == 204
    )
    gone = client.get(f"/api/v1/skills/{quiz.skill.id}/modules", headers=learner.headers)
    assert gone.json()["hasQuestionBank"] is False
