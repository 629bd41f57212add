"""Teachers see what works (issue 14, part 7): item analysis of a skill's bank, the questions
failed most across a tree, pass rates and attempts to pass, review-queue waiting times. Each on
small hand-made data whose figures are worked out here; who may see them; and that none of them
carries a key or an explanation."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from statistics import correlation
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from skilltree.db.rls import act_as_learner, act_as_owner
from skilltree.models import Skill, SkillTree
from tests.assessments.conftest import EXPLAIN_MARK, KEY_MARK, RIGHT, bank
from tests.factories import Person, make_category, make_person, make_skill, make_tree

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POINTS = {"q1": 1, "q2": 1, "q3": 2, "q4": 1, "q5": 1}
"""The bank of skill `quiz`, in its order; q4 is never drawn."""
DRAWN = ("q1", "q2", "q3", "q5")
ATTEMPTS: list[tuple[str, str, int, str, bool, bool]] = [
    # attempt, learner, day (after START), right answers (1) in DRAWN's order, passed, expired
    ("A1", "a", 0, "1111", True, False),
    ("A2", "b", 0, "1001", False, False),
    ("A3", "c", 0, "0011", True, False),
    ("A4", "d", 0, "1101", True, False),
    ("A5", "e", 0, "0000", False, True),  # out of time: no answers, left out of item analysis
    ("A6", "b", 1, "1101", True, False),  # b's first pass: their second attempt
    ("A7", "b", 2, "1111", True, False),  # after it: not one of the attempts to pass
    ("A8", "e", 1, "0001", False, False),  # e never passes
]
COUNTED = [a for a in ATTEMPTS if not a[5]]
"""The attempts item analysis counts (graded, not expired)."""


def rest_correlation(question: str) -> float:
    """The point-biserial correlation of `question`'s 0/1 score with the rest score (share of
    the other drawn questions' points earned), over COUNTED, computed in Python."""
    scores, rests = [], []
    for _, _, _, right, _, _ in COUNTED:
        got = dict(zip(DRAWN, (int(c) for c in right), strict=True))
        earned = sum(POINTS[q] * got[q] for q in DRAWN) - POINTS[question] * got[question]
        scores.append(got[question])
        rests.append(earned / (sum(POINTS[q] for q in DRAWN) - POINTS[question]))
    return correlation(scores, rests)


@dataclass
class Teaching:
    """Tree `tree` by `author`: `quiz` (the bank of POINTS, attempts ATTEMPTS), `once` (a bank
    with one attempt), `project` (a PROJECT skill with submissions), `plain` (neither)."""

    tree: SkillTree
    quiz: Skill
    once: Skill
    project: Skill
    plain: Skill
    author: Person
    learners: dict[str, Person]


def question(qid: str, points: int = 1) -> dict[str, Any]:
    return {
        "id": qid,
        "kind": "SINGLE_CHOICE",
        "prompt": f"Prompt of {qid}",
        "points": points,
        "explanation": f"Why {qid}. {EXPLAIN_MARK}",
        "options": [{"id": "yes", "text": "Yes"}, {"id": "no", "text": "No"}],
        "correct": "yes",
    }


def add_attempt(
    session: Session,
    learner: Person,
    skill: Skill,
    at: datetime,
    results: list[tuple[str, bool, int]] | None,
    *,
    passed: bool = False,
    expired: bool = False,
) -> None:
    """An attempt as assessment_submit stores it (`results`: question, right, points), or an
    attempt still open (None)."""
    graded = results is not None
    rows = [
        {
            "questionId": q,
            "correct": right,
            "points": points,
            "earned": points if right else 0,
            "answer": "yes" if right else "no",
            "explanation": f"Why {q}. {EXPLAIN_MARK}",
        }
        for q, right, points in results or []
    ]
    total = sum(points for _, _, points in results or []) or 1
    session.execute(
        text(
            "INSERT INTO assessment_attempts (user_id, id, skill_id, started_at, questions,"
            " submitted_at, answers, results, score, passed, expired)"
            " VALUES (:user, new_row_id(), :skill, :started, '[]', :submitted,"
            " CASE WHEN :graded THEN '{}'::jsonb END, CAST(:results AS jsonb), :score, :passed,"
            " :expired)"
        ),
        {
            "user": learner.id,
            "skill": skill.id,
            "started": at - timedelta(minutes=10),
            "submitted": at if graded else None,
            "graded": graded,
            "results": json.dumps(rows) if graded else None,
            "score": 100 * sum(r["earned"] for r in rows) / total if graded else None,
            "passed": passed if graded else None,
            "expired": expired if graded else None,
        },
    )


def add_submission(
    session: Session,
    learner: Person,
    skill: Skill,
    round_: int,
    status: str,
    submitted: datetime,
    waited_minutes: int | None = None,
) -> None:
    """A project submission as project_submit and project_decide store it."""
    reviewed = None if waited_minutes is None else submitted + timedelta(minutes=waited_minutes)
    session.execute(
        text(
            "INSERT INTO project_submissions (user_id, id, skill_id, skill_tree_id, round,"
            " status, content, submitted_at, claimable_at, reviewed_at, feedback)"
            " VALUES (:user, new_row_id(), :skill, :tree, :round, :status, '{}', :submitted,"
            " :submitted, :reviewed, :feedback)"
        ),
        {
            "user": learner.id,
            "skill": skill.id,
            "tree": skill.skill_tree_id,
            "round": round_,
            "status": status,
            "submitted": submitted,
            "reviewed": reviewed,
            "feedback": "Please fix" if status == "CHANGES_REQUESTED" else None,
        },
    )


NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def teaching(session: Session, client: TestClient, author: Person) -> Teaching:
    tree = make_tree(session, make_category(session), created_by=author.id)
    quiz = make_skill(session, tree, completion_policy={"ASSESSMENT": {}}, position_y=1)
    once = make_skill(session, tree, completion_policy={"ASSESSMENT": {}}, position_y=2)
    project = make_skill(session, tree, completion_policy={"PROJECT": {}}, position_y=3)
    plain = make_skill(session, tree, position_y=4)
    for skill, questions in (
        (quiz, [question(q, p) for q, p in POINTS.items()]),
        (once, [question("o1"), question("o2")]),
    ):
        put = client.put(
            f"/api/v1/skills/{skill.id}/question-bank",
            json={"settings": {"passingScore": 60}, "questions": questions},
            headers=author.headers,
        )
        assert put.status_code == 200, put.text
    learners = {name: make_person(session) for name in "abcdefpqrst"}
    for _, who, day, right, passed, expired in ATTEMPTS:
        results = [(q, c == "1", POINTS[q]) for q, c in zip(DRAWN, right, strict=True)]
        at = START + timedelta(days=day)
        add_attempt(session, learners[who], quiz, at, results, passed=passed, expired=expired)
    add_attempt(session, learners["f"], quiz, START, None)  # still open: not counted
    add_attempt(session, learners["a"], once, START, [("o1", True, 1), ("o2", False, 1)])
    # Decided after 60, 120 (changes asked) then 30, and 600 minutes; two waiting.
    add_submission(session, learners["p"], project, 1, "APPROVED", START, 60)
    add_submission(session, learners["q"], project, 1, "CHANGES_REQUESTED", START, 120)
    add_submission(session, learners["q"], project, 2, "APPROVED", START + timedelta(days=1), 30)
    add_submission(session, learners["r"], project, 1, "APPROVED", START, 600)
    add_submission(session, learners["s"], project, 1, "PENDING", NOW - timedelta(minutes=90))
    add_submission(session, learners["t"], project, 1, "PENDING", NOW - timedelta(minutes=30))
    session.flush()
    return Teaching(tree, quiz, once, project, plain, author, learners)


def get(client: TestClient, path: str, who: Person) -> Any:
    answer = client.get(f"/api/v1/analytics{path}", headers=who.headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


# --- item analysis ----------------------------------------------------------------------------


def test_item_analysis_of_a_bank_question_by_question(
    client: TestClient, teaching: Teaching
) -> None:
    found = get(client, f"/skills/{teaching.quiz.id}/items", teaching.author)
    assert (found["skillId"], found["attempts"]) == (teaching.quiz.id, 7)
    items = {item["questionId"]: item for item in found["items"]}
    assert [item["questionId"] for item in found["items"]] == list(POINTS)  # the bank's order
    assert items["q1"] | {"discrimination": None} == {
        "questionId": "q1",
        "kind": "SINGLE_CHOICE",
        "prompt": "Prompt of q1",
        "points": 1,
        "attempts": 7,
        "correct": 5,
        "difficulty": 5 / 7,
        "discrimination": None,
    }
    assert [(items[q]["attempts"], items[q]["correct"]) for q in DRAWN] == [
        (7, 5),
        (7, 4),
        (7, 3),
        (7, 7),
    ]
    assert [items[q]["difficulty"] for q in DRAWN] == [5 / 7, 4 / 7, 3 / 7, 1.0]
    # Worked out by hand as well: q2's is sqrt(2)/3.
    expected = {"q1": 0.23008949665421113, "q2": 2**0.5 / 3, "q3": 0.046829290579084706}
    for q, value in expected.items():
        assert items[q]["discrimination"] == pytest.approx(value, abs=1e-12)
        assert items[q]["discrimination"] == pytest.approx(rest_correlation(q), abs=1e-12)


def test_a_question_nobody_drew_and_one_everyone_got_right_have_no_discrimination(
    client: TestClient, teaching: Teaching
) -> None:
    items = {
        i["questionId"]: i
        for i in get(client, f"/skills/{teaching.quiz.id}/items", teaching.author)["items"]
    }
    assert (items["q4"]["attempts"], items["q4"]["correct"]) == (0, 0)
    assert (items["q4"]["difficulty"], items["q4"]["discrimination"]) == (None, None)
    # Everyone answered q5 right: no variance, the correlation is undefined (null, not 0).
    assert (items["q5"]["difficulty"], items["q5"]["discrimination"]) == (1.0, None)


def test_a_bank_with_one_attempt(client: TestClient, teaching: Teaching) -> None:
    found = get(client, f"/skills/{teaching.once.id}/items", teaching.author)
    assert found["attempts"] == 1
    assert [
        (i["questionId"], i["attempts"], i["correct"], i["difficulty"], i["discrimination"])
        for i in found["items"]
    ] == [("o1", 1, 1, 1.0, None), ("o2", 1, 0, 0.0, None)]


def test_a_skill_without_a_bank_is_a_404(client: TestClient, teaching: Teaching) -> None:
    answer = client.get(
        f"/api/v1/analytics/skills/{teaching.plain.id}/items", headers=teaching.author.headers
    )
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


def marked_quiz(session: Session, client: TestClient, author: Person) -> tuple[SkillTree, Skill]:
    """A tree by `author` with one skill whose bank has a question of every kind, its keys and
    explanations carrying marker strings (tests/assessments/conftest.py)."""
    tree = make_tree(session, make_category(session), created_by=author.id)
    skill = make_skill(session, tree, completion_policy={"ASSESSMENT": {}})
    put = client.put(
        f"/api/v1/skills/{skill.id}/question-bank", json=bank(), headers=author.headers
    )
    assert put.status_code == 200, put.text
    return tree, skill


def test_item_analysis_of_attempts_taken_through_the_api(
    client: TestClient, session: Session, author: Person
) -> None:
    _, skill = marked_quiz(session, client, author)
    for answers in (RIGHT, RIGHT | {"single": "p"}, {}):
        learner = make_person(session)
        attempt = client.post(f"/api/v1/skills/{skill.id}/attempts", headers=learner.headers)
        assert attempt.status_code == 200, attempt.text
        done = client.post(
            f"/api/v1/attempts/{attempt.json()['id']}/submit",
            json={"answers": answers},
            headers=learner.headers,
        )
        assert done.status_code == 200, done.text
    items = {i["questionId"]: i for i in get(client, f"/skills/{skill.id}/items", author)["items"]}
    assert {q: (i["attempts"], i["correct"]) for q, i in items.items()} == {
        "single": (3, 1),
        "multi": (3, 2),
        "number": (3, 2),
        "text": (3, 2),
        "order": (3, 2),
    }
    # single: right in 1 of the 3 attempts; rest scores 1, 1 and 0: r = (3/9) / (6/9).
    assert items["single"]["discrimination"] == pytest.approx(0.5, abs=1e-12)


# --- the questions failed most ----------------------------------------------------------------


def test_the_questions_failed_most_across_the_tree(client: TestClient, teaching: Teaching) -> None:
    found = get(client, f"/trees/{teaching.tree.slug}/hardest-questions", teaching.author)
    # At least 5 attempts by default: the `once` bank's questions are left out.
    assert [(q["questionId"], q["attempts"], q["failed"]) for q in found] == [
        ("q3", 7, 4),
        ("q2", 7, 3),
        ("q1", 7, 2),
        ("q5", 7, 0),
    ]
    assert found[0] == {
        "skillId": teaching.quiz.id,
        "skillKey": teaching.quiz.key,
        "skillName": teaching.quiz.name,
        "questionId": "q3",
        "kind": "SINGLE_CHOICE",
        "prompt": "Prompt of q3",
        "attempts": 7,
        "failed": 4,
        "failureRate": 4 / 7,
    }
    fewer = get(
        client,
        f"/trees/{teaching.tree.slug}/hardest-questions?minAttempts=1&limit=2",
        teaching.author,
    )
    assert [(q["questionId"], q["failureRate"]) for q in fewer] == [("o2", 1.0), ("q3", 4 / 7)]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=many", "limit"),
        ("minAttempts=0", "minAttempts"),
        ("minAttempts=-3", "minAttempts"),
    ],
)
def test_bad_query_parameters_are_a_problem_naming_the_field(
    client: TestClient, teaching: Teaching, query: str, field: str
) -> None:
    answer = client.get(
        f"/api/v1/analytics/trees/{teaching.tree.slug}/hardest-questions?{query}",
        headers=teaching.author.headers,
    )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert [e["loc"] for e in answer.json()["errors"]] == [["query", field]]


# --- pass rate and attempts to pass -----------------------------------------------------------


def test_pass_rate_and_attempts_to_pass_per_skill(client: TestClient, teaching: Teaching) -> None:
    found = get(client, f"/trees/{teaching.tree.slug}/assessments", teaching.author)
    assert (found["treeId"], found["slug"]) == (teaching.tree.id, teaching.tree.slug)
    quiz, once = found["skills"]  # the skills with a bank, by position
    assert quiz == {
        "skillId": teaching.quiz.id,
        "key": teaching.quiz.key,
        "name": teaching.quiz.name,
        "attempts": 8,  # the expired one a failure
        "passed": 5,
        "passRate": 5 / 8,
        "learners": 5,
        "learnersPassed": 4,
        "medianAttemptsToPass": 1.0,  # a, c, d at once; b at the second
        "attemptsToPass": [{"attempts": 1, "learners": 3}, {"attempts": 2, "learners": 1}],
    }
    assert (once["attempts"], once["passed"], once["passRate"], once["learners"]) == (1, 0, 0, 1)
    assert (once["medianAttemptsToPass"], once["attemptsToPass"]) == (None, [])


def test_a_bank_nobody_took(client: TestClient, session: Session, teaching: Teaching) -> None:
    session.execute(
        text("DELETE FROM assessment_attempts WHERE skill_id = :s"), {"s": teaching.once.id}
    )
    found = get(client, f"/trees/{teaching.tree.slug}/assessments", teaching.author)
    once = found["skills"][1]
    assert (once["attempts"], once["passRate"], once["learners"], once["attemptsToPass"]) == (
        0,
        None,
        0,
        [],
    )
    items = get(client, f"/skills/{teaching.once.id}/items", teaching.author)
    assert items["attempts"] == 0
    assert {(i["attempts"], i["difficulty"], i["discrimination"]) for i in items["items"]} == {
        (0, None, None)
    }


# --- review-queue waits -----------------------------------------------------------------------


def test_review_queue_waits_per_project_skill(
    client: TestClient, teaching: Teaching, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("skilltree.analytics.service._now", lambda: NOW)
    found = get(client, f"/trees/{teaching.tree.slug}/review-waits", teaching.author)
    assert found["asOf"] == "2026-03-10T12:00:00Z"
    assert found["skills"] == [
        {
            "skillId": teaching.project.id,
            "key": teaching.project.key,
            "name": teaching.project.name,
            "decided": 4,
            "approved": 3,
            "changesRequested": 1,
            "medianWaitMinutes": 90.0,  # of 30, 60, 120, 600
            "p90WaitMinutes": pytest.approx(456.0),  # 120 + 0.7 x (600 - 120)
            "pending": 2,
            "medianPendingMinutes": 60.0,
            "oldestPendingMinutes": 90.0,
        }
    ]


def test_a_project_skill_without_submissions(
    client: TestClient, session: Session, teaching: Teaching
) -> None:
    session.execute(
        text("DELETE FROM project_submissions WHERE skill_id = :s"), {"s": teaching.project.id}
    )
    (skill,) = get(client, f"/trees/{teaching.tree.slug}/review-waits", teaching.author)["skills"]
    assert (skill["decided"], skill["pending"]) == (0, 0)
    assert (skill["medianWaitMinutes"], skill["p90WaitMinutes"]) == (None, None)
    assert (skill["medianPendingMinutes"], skill["oldestPendingMinutes"]) == (None, None)


# --- who sees them ----------------------------------------------------------------------------


def paths(teaching: Teaching) -> list[str]:
    slug = teaching.tree.slug
    return [
        f"/api/v1/analytics/skills/{teaching.quiz.id}/items",
        f"/api/v1/analytics/trees/{slug}/hardest-questions",
        f"/api/v1/analytics/trees/{slug}/assessments",
        f"/api/v1/analytics/trees/{slug}/review-waits",
    ]


def test_the_author_and_admins_see_them(
    client: TestClient, teaching: Teaching, admin: Person
) -> None:
    for path, who in itertools.product(paths(teaching), (teaching.author, admin)):
        assert client.get(path, headers=who.headers).status_code == 200, path


def test_another_author_a_learner_and_a_mentor_are_refused(
    client: TestClient, teaching: Teaching, other_author: Person, session: Session
) -> None:
    learner = teaching.learners["a"]  # one who took the quiz
    mentor = make_person(session)
    named = client.post(
        f"/api/v1/trees/{teaching.tree.slug}/mentors",
        json={"username": mentor.user.username},
        headers=teaching.author.headers,
    )
    assert named.status_code in {200, 201}, named.text
    for path, who in itertools.product(paths(teaching), (other_author, learner, mentor)):
        answer = client.get(path, headers=who.headers)
        assert answer.status_code == 403, (path, answer.text)
        assert answer.json()["code"] == "Forbidden"
        assert client.get(path).status_code == 401


def test_someone_elses_draft_looks_missing(
    client: TestClient, teaching: Teaching, other_author: Person, session: Session
) -> None:
    teaching.tree.is_published = False
    session.flush()
    for path in paths(teaching):
        assert client.get(path, headers=other_author.headers).status_code == 404, path
        assert client.get(path, headers=teaching.author.headers).status_code == 200, path


def test_no_key_or_explanation_in_any_of_them(
    client: TestClient, session: Session, author: Person, other_author: Person, admin: Person
) -> None:
    tree, skill = marked_quiz(session, client, author)
    learner = make_person(session)
    attempt = client.post(f"/api/v1/skills/{skill.id}/attempts", headers=learner.headers).json()
    done = client.post(
        f"/api/v1/attempts/{attempt['id']}/submit",
        json={"answers": RIGHT | {"text": KEY_MARK}},  # the stored results hold both marks
        headers=learner.headers,
    )
    assert done.status_code == 200, done.text
    urls = [
        f"/api/v1/analytics/skills/{skill.id}/items",
        f"/api/v1/analytics/trees/{tree.slug}/hardest-questions?minAttempts=1",
        f"/api/v1/analytics/trees/{tree.slug}/assessments",
        f"/api/v1/analytics/trees/{tree.slug}/review-waits",
    ]
    for url, who in itertools.product(urls, (author, admin, other_author, learner)):
        found = client.get(url, headers=who.headers).text.lower()
        assert KEY_MARK.lower() not in found, (url, who)
        assert EXPLAIN_MARK.lower() not in found, (url, who)
        assert '"correct":"a"' not in found.replace(" ", "")


def _count_as(session: Session, who: Person, query: str, **parameters: object) -> int:
    act_as_learner(session, who.id)
    try:
        return int(session.execute(text(query), parameters).scalar_one())
    finally:
        act_as_owner(session)


def test_the_database_shows_a_trees_attempts_only_to_its_author_and_admins(
    session: Session, teaching: Teaching, other_author: Person, admin: Person
) -> None:
    query = "SELECT count(*) FROM analytics_assessment_attempts WHERE skill_id = :skill"
    assert _count_as(session, teaching.author, query, skill=teaching.quiz.id) == 9
    assert _count_as(session, admin, query, skill=teaching.quiz.id) == 9
    assert _count_as(session, other_author, query, skill=teaching.quiz.id) == 0
    # A learner sees none of them there, not even their own (those: assessment_attempts).
    assert _count_as(session, teaching.learners["a"], query, skill=teaching.quiz.id) == 0
    act_as_learner(session, admin.id)
    with pytest.raises(ProgrammingError, match="permission denied"), session.begin_nested():
        session.execute(text("DELETE FROM analytics_assessment_attempts"))
    act_as_owner(session)
