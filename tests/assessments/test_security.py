"""What the API's role may do with banks and attempts, in SQL: keys are read only through the
grading and authoring functions; a learner reads only their own attempts and writes none."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.orm import Session

from skilltree.db.rls import act_as_learner, act_as_owner
from tests.assessments.conftest import KEY_MARK, Quiz
from tests.assessments.test_attempts import ready
from tests.factories import Person

DENIED = "permission denied"


def attempt_of(client: TestClient, quiz: Quiz, who: Person) -> str:
    ready(client, quiz, who)
    started = quiz.start(client, who)
    assert started.status_code == 200, started.text
    return str(started.json()["id"])


@pytest.mark.parametrize(
    "query",
    [
        "SELECT answer_keys FROM question_banks",
        "SELECT * FROM question_banks",
        "SELECT skill_id FROM question_banks WHERE answer_keys::text LIKE '%e%'",
        "UPDATE question_banks SET settings = settings RETURNING answer_keys",
        "DELETE FROM question_banks RETURNING answer_keys",
    ],
)
def test_the_api_role_cannot_read_answer_keys(
    session: Session, quiz: Quiz, learner: Person, query: str
) -> None:
    act_as_learner(session, learner.id)
    with pytest.raises((ProgrammingError, DBAPIError)), session.begin_nested():
        session.execute(text(query))


def test_the_api_role_reads_what_learners_may_see_of_a_bank(
    session: Session, quiz: Quiz, learner: Person
) -> None:
    act_as_learner(session, learner.id)
    row = session.execute(
        text("SELECT settings, questions FROM question_banks WHERE skill_id = :s"),
        {"s": quiz.skill.id},
    ).one()
    assert KEY_MARK.lower() not in json.dumps(list(row)).lower()


def test_keys_go_to_the_trees_author_only(
    session: Session, quiz: Quiz, learner: Person, other_author: Person, admin: Person
) -> None:
    def keys(who: Person) -> object:
        act_as_learner(session, who.id)
        return session.execute(
            text("SELECT assessment_bank_keys(:u, :s)"), {"u": who.id, "s": quiz.skill.id}
        ).scalar_one()

    assert keys(learner) is None
    assert keys(other_author) is None
    assert KEY_MARK.lower() in json.dumps(keys(quiz.author)).lower()
    assert keys(admin) is not None


def test_a_learner_reads_only_their_own_attempts_and_writes_none(
    client: TestClient, session: Session, quiz: Quiz, learner: Person, admin: Person
) -> None:
    mine = attempt_of(client, quiz, learner)
    theirs = attempt_of(client, quiz, admin)
    act_as_learner(session, learner.id)
    seen = set(session.execute(text("SELECT id FROM assessment_attempts")).scalars())
    assert seen == {mine}
    assert theirs not in seen
    for write in (
        "UPDATE assessment_attempts SET passed = true, score = 100",
        "DELETE FROM assessment_attempts",
        "INSERT INTO assessment_attempts (user_id, id, skill_id, started_at, questions)"
        " VALUES (:me, 'forged', :s, now(), '[]')",
    ):
        with pytest.raises(ProgrammingError, match=DENIED), session.begin_nested():
            session.execute(text(write), {"me": learner.id, "s": quiz.skill.id})


def test_only_the_transactions_learner_starts_or_submits(
    client: TestClient, session: Session, quiz: Quiz, learner: Person, admin: Person
) -> None:
    mine = attempt_of(client, quiz, learner)
    act_as_learner(session, admin.id)
    for call, args in (
        ("SELECT assessment_submit(:u, :a, '{}', :now)", {"u": learner.id, "a": mine}),
        ("SELECT assessment_start(:u, :s, :now)", {"u": learner.id, "s": quiz.skill.id}),
    ):
        with pytest.raises(DBAPIError, match="only learner"), session.begin_nested():
            session.execute(text(call), args | {"now": datetime.now(UTC)})
    act_as_learner(session, None)
    with pytest.raises(DBAPIError, match="only learner"), session.begin_nested():
        session.execute(
            text("SELECT assessment_submit(:u, :a, '{}', now())"), {"u": learner.id, "a": mine}
        )
    act_as_owner(session)
    graded = session.execute(
        text("SELECT submitted_at FROM assessment_attempts WHERE id = :a"), {"a": mine}
    ).scalar_one()
    assert graded is None


def test_the_engine_refuses_an_assessment_without_a_passed_attempt_whoever_calls(
    client: TestClient, session: Session, quiz: Quiz, learner: Person
) -> None:
    mine = attempt_of(client, quiz, learner)
    act_as_learner(session, learner.id)
    answer = session.execute(
        text(
            "SELECT progress_skill_event('COMPLETE', :u, :s, now(), false, 'ASSESSMENT', 100,"
            " NULL, CAST(:e AS jsonb))"
        ),
        {
            "u": learner.id,
            "s": quiz.skill.id,
            "e": json.dumps(
                {"type": "assessment_score", "content": "100", "metadata": {"attemptId": mine}}
            ),
        },
    ).scalar_one()
    assert answer["refused"] == "AttemptRequired"
