"""What the API's role may do with mastery, in SQL: a learner reads only their own cards and
reviews, writes none; the review functions act only for the transaction's learner and check the
rating themselves."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.orm import Session

from skilltree.db.rls import act_as_learner, act_as_owner
from skilltree.mastery.schemas import Recall
from tests.assessments.conftest import RIGHT
from tests.mastery.conftest import Clock, Course, make_course


def two_learners(session: Session, clock: Clock) -> tuple[Course, Course]:
    mine, theirs = make_course(session, clock), make_course(session, clock)
    for course in (mine, theirs):
        course.complete_manual()
        course.attempt(RIGHT)
    clock.later(days=3)
    for course in (mine, theirs):
        course.recall(Recall.GOOD)
        course.attempt(RIGHT)
    return mine, theirs


@pytest.mark.parametrize("table", ["skill_mastery", "mastery_reviews"])
def test_a_learner_reads_only_their_own_rows(session: Session, clock: Clock, table: str) -> None:
    mine, theirs = two_learners(session, clock)
    for course in (mine, theirs):
        act_as_learner(session, course.learner.id)
        seen = set(session.execute(text(f"SELECT DISTINCT user_id FROM {table}")).scalars())
        assert seen == {course.learner.id}
        count = session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
        assert count == 2
    act_as_learner(session, None)
    assert session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 0
    act_as_owner(session)


@pytest.mark.parametrize(
    "write",
    [
        "UPDATE skill_mastery SET evidence = 10, verified = true",
        "UPDATE skill_mastery SET due_at = due_at + interval '10 years'",
        "DELETE FROM skill_mastery",
        "INSERT INTO skill_mastery (user_id, skill_id, evidence, verified, card, due_at,"
        " last_reviewed_at, reviews, lapses) VALUES (:me, :skill, 2, true, '{}',"
        " now() + interval '1 day', now(), 1, 0)",
        "DELETE FROM mastery_reviews",
        "UPDATE mastery_reviews SET rating = 4",
    ],
)
def test_the_api_role_writes_no_mastery_row(session: Session, clock: Clock, write: str) -> None:
    mine, _ = two_learners(session, clock)
    act_as_learner(session, mine.learner.id)
    with pytest.raises((ProgrammingError, DBAPIError)), session.begin_nested():
        session.execute(text(write), {"me": mine.learner.id, "skill": mine.graded.id})
    act_as_owner(session)


def test_the_review_functions_act_only_for_the_transactions_learner(
    session: Session, clock: Clock
) -> None:
    mine, theirs = two_learners(session, clock)
    act_as_learner(session, mine.learner.id)
    for call in (
        "SELECT mastery_begin(:them, :skill, now(), NULL, 3)",
        "SELECT mastery_record(:them, :skill, now(), NULL, 3, '{}', now() + interval '9 days')",
    ):
        with pytest.raises(DBAPIError, match="only learner"), session.begin_nested():
            session.execute(text(call), {"them": theirs.learner.id, "skill": theirs.manual.id})
    act_as_owner(session)


def test_a_rating_is_the_databases_own(session: Session, clock: Clock) -> None:
    # A self-rating of a skill with a bank, or a first attempt passed off as a review, records
    # nothing: the rating comes from the review attempt's grade.
    course = make_course(session, clock)
    first = course.attempt(RIGHT)
    act_as_learner(session, course.learner.id)
    for attempt, recall, refusal in (
        (None, 4, "HasBank"),
        (first.id, None, "NotAReview"),
    ):
        answer = session.execute(
            text(
                "SELECT mastery_record(:me, :skill, now(), :attempt, :recall, '{}',"
                " now() + interval '9 days')->>'refused'"
            ),
            {
                "me": course.learner.id,
                "skill": course.graded.id,
                "attempt": attempt,
                "recall": recall,
            },
        ).scalar_one()
        assert answer == refusal
    act_as_owner(session)
    assert course.card(course.graded) is None


def test_a_level_above_the_evidence_cannot_be_stored(session: Session, clock: Clock) -> None:
    mine, _ = two_learners(session, clock)
    act_as_owner(session)
    with pytest.raises(DBAPIError), session.begin_nested():
        session.execute(
            text("UPDATE skill_mastery SET level = 'MASTERED' WHERE user_id = :me"),
            {"me": mine.learner.id},
        )
