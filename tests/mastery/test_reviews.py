"""Reviews of completed skills: the level rule step by step, the schedule, no XP again, the streak
and MASTERY achievements, and the endpoints."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from skilltree.db.rls import act_as_learner, act_as_owner
from skilltree.errors import InvalidTransition, ReviewAttemptRequired
from skilltree.mastery import service
from skilltree.mastery.schemas import Recall, ReviewPage, SelfReview
from skilltree.models import Achievement, AchievementCategory, ProgressEvent, UserProfile
from skilltree.progress import service as progress_service
from skilltree.schemas import PageParams
from tests.api import bearer
from tests.assessments.conftest import RIGHT
from tests.factories import make_token, make_user
from tests.mastery.conftest import MOSTLY, WRONG, Clock, Course


def due_ids(course: Course) -> list[str]:
    course.act()
    page = service.due_reviews(course.session, course.learner, PageParams(page_size=100))
    return [item.skill_id for item in page.items]


def xp(course: Course) -> int:
    return course.session.execute(
        select(UserProfile.total_xp).where(UserProfile.user_id == course.learner.id)
    ).scalar_one()


def test_a_manual_completion_is_familiar_and_due_the_next_day(course: Course) -> None:
    course.complete_manual()
    assert due_ids(course) == []
    mastery = service.tree_mastery(course.session, course.learner, course.tree.slug).skills
    assert [(m.skill_id, m.level, m.review_by, m.due) for m in mastery] == [
        (course.manual.id, "FAMILIAR", "SELF", False)
    ]
    assert mastery[0].due_at - mastery[0].last_reviewed_at == timedelta(days=1)
    course.clock.later(days=1)
    assert due_ids(course) == [course.manual.id]


def test_a_graded_completion_at_full_marks_is_proficient_for_two_days(course: Course) -> None:
    course.attempt(RIGHT)
    (mastery,) = service.tree_mastery(course.session, course.learner, course.tree.slug).skills
    assert (mastery.level, mastery.review_by) == ("PROFICIENT", "ASSESSMENT")
    assert mastery.due_at - mastery.last_reviewed_at == timedelta(days=2)


def test_self_rated_recall_is_weaker_evidence_and_never_masters(course: Course) -> None:
    course.complete_manual()
    course.clock.later(days=1)
    levels = []
    for _ in range(6):
        outcome = course.recall(Recall.GOOD)
        assert outcome.on_time
        levels.append(outcome.level)
        course.clock.now = outcome.due_at  # due again
    assert levels == [
        "FAMILIAR",
        "PROFICIENT",
        "PROFICIENT",
        "PROFICIENT",
        "PROFICIENT",
        "PROFICIENT",
    ]


def test_graded_reviews_when_due_master_and_a_lapse_costs_a_level(course: Course) -> None:
    course.attempt(RIGHT)  # PROFICIENT, evidence 1, verified
    xp_after_completion = xp(course)
    course.clock.later(days=2)
    review = course.attempt(MOSTLY)
    assert review.review is True
    assert review.completion is not None
    assert review.completion["changed"] is False
    assert review.mastery is not None
    assert (review.mastery.rating, review.mastery.level_before, review.mastery.level) == (
        "GOOD",
        "PROFICIENT",
        "MASTERED",
    )
    assert review.mastery.due_at > review.mastery.due_before
    assert xp(course) == xp_after_completion  # a review awards no XP
    course.clock.later(days=400)
    lapse = course.attempt(WRONG)
    assert lapse.mastery is not None
    assert (lapse.mastery.rating, lapse.mastery.level) == ("AGAIN", "PROFICIENT")
    course.clock.later(days=400)
    lapse = course.attempt(WRONG)
    assert lapse.mastery is not None
    assert lapse.mastery.level == "FAMILIAR"
    card = course.card(course.graded)
    assert card is not None
    assert (card["reviews"], card["lapses"], card["verified"]) == (3, 2, False)


def test_a_review_before_it_is_due_moves_the_schedule_not_the_level(course: Course) -> None:
    course.attempt(RIGHT)
    course.clock.later(hours=1)
    early = course.attempt(RIGHT)
    assert early.mastery is not None
    assert early.mastery.on_time is False
    assert (early.mastery.level_before, early.mastery.level) == ("PROFICIENT", "PROFICIENT")


def test_a_skill_with_a_bank_is_reviewed_by_an_attempt_only(course: Course) -> None:
    course.attempt(RIGHT)
    course.act()
    with pytest.raises(ReviewAttemptRequired):
        service.self_review(
            course.session, course.learner, course.graded.id, SelfReview(recall=Recall.EASY)
        )


def test_a_skill_not_completed_is_not_reviewed(course: Course) -> None:
    course.act()
    with pytest.raises(InvalidTransition):
        course.recall(Recall.GOOD)


def test_the_first_attempt_is_no_review(course: Course) -> None:
    failed = course.attempt(WRONG)
    assert (failed.review, failed.mastery) == (False, None)
    assert course.card(course.graded) is None


def test_a_review_is_the_days_activity_for_the_streak(course: Course) -> None:
    course.complete_manual()
    for day in range(1, 4):
        course.clock.later(days=1)
        course.recall(Recall.HARD)
        streak = course.session.execute(
            select(UserProfile.current_streak).where(UserProfile.user_id == course.learner.id)
        ).scalar_one()
        assert streak == day + 1
    reviews = course.session.execute(
        select(func.count()).where(
            ProgressEvent.user_id == course.learner.id,
            ProgressEvent.details["review"].as_boolean(),
        )
    ).scalar_one()
    assert reviews == 3


def test_mastering_a_skill_earns_a_mastery_achievement(session: Session, course: Course) -> None:
    session.add(
        Achievement(
            name="Keeper of One",
            description="Master a skill",
            category=AchievementCategory.MASTERY,
            criteria={"type": "skills_mastered", "threshold": 1},
            xp_reward=7,
        )
    )
    session.flush()
    course.attempt(RIGHT)
    before = xp(course)
    course.clock.later(days=2)
    review = course.attempt(RIGHT)
    assert review.mastery is not None
    assert review.mastery.level == "MASTERED"
    assert "Keeper of One" in [a["name"] for a in review.mastery.achievements]
    assert review.mastery.xp_awarded == sum(a["xpReward"] for a in review.mastery.achievements)
    assert xp(course) == before + review.mastery.xp_awarded
    measured = progress_service.learner_measures(session, course.learner.id)
    assert measured.skills_mastered == 1


def test_an_overdue_skill_is_listed_due_and_not_shown_mastered(course: Course) -> None:
    course.attempt(RIGHT)
    course.clock.later(days=2)
    review = course.attempt(RIGHT)
    assert review.mastery is not None
    assert review.mastery.level == "MASTERED"
    course.clock.now = review.mastery.due_at + timedelta(minutes=1)
    course.act()
    (item,) = service.due_reviews(course.session, course.learner, PageParams()).items
    assert (item.earned_level, item.level, item.due, item.overdue) == (
        "MASTERED",
        "PROFICIENT",
        True,
        True,
    )


def test_the_endpoints(client: TestClient, session: Session, clock: Clock, course: Course) -> None:
    headers = bearer(make_token(session, course.learner))
    course.complete_manual()
    course.attempt(RIGHT)
    clock.later(days=3)
    due = client.get("/api/v1/me/reviews?pageSize=1", headers=headers)
    assert due.status_code == 200, due.text
    body = due.json()
    assert (body["total"], len(body["items"])) == (2, 1)
    assert body["items"][0]["skillId"] == course.manual.id  # due first (after one day)
    second = client.get("/api/v1/me/reviews?page=2&pageSize=1", headers=headers).json()
    assert second["items"][0]["skillId"] == course.graded.id
    reviewed = client.post(
        f"/api/v1/me/reviews/{course.manual.id}", json={"recall": "EASY"}, headers=headers
    )
    assert reviewed.status_code == 200, reviewed.text
    assert reviewed.json()["rating"] == "EASY"
    assert reviewed.json()["xpAwarded"] == 0
    refused = client.post(
        f"/api/v1/me/reviews/{course.graded.id}", json={"recall": "EASY"}, headers=headers
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "ReviewAttemptRequired"
    bad = client.post(
        f"/api/v1/me/reviews/{course.manual.id}", json={"recall": "SOSO"}, headers=headers
    )
    assert bad.status_code in (400, 422)
    assert "recall" in bad.text
    tree = client.get(f"/api/v1/me/trees/{course.tree.slug}/mastery", headers=headers)
    assert tree.status_code == 200
    assert {s["skillId"] for s in tree.json()["skills"]} == {course.manual.id, course.graded.id}
    assert client.get("/api/v1/me/trees/no-such-tree/mastery", headers=headers).status_code == 404
    assert (
        client.post("/api/v1/me/reviews/nope", json={"recall": "GOOD"}, headers=headers).status_code
        == 404
    )


def test_the_due_page_over_http_is_the_services_page_in_the_documented_shape(
    client: TestClient, session: Session, clock: Clock, course: Course
) -> None:
    # One skill reviewed (a stored card), one never (its completion stands for the card).
    headers = bearer(make_token(session, course.learner))
    course.complete_manual()
    course.attempt(RIGHT)
    clock.later(days=2)
    course.attempt(RIGHT)
    clock.later(days=30)
    course.act()
    answer = client.get("/api/v1/me/reviews", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    page = service.due_reviews(course.session, course.learner, PageParams())
    assert answer.json() == page.model_dump(mode="json", by_alias=True)
    assert [i["skillId"] for i in answer.json()["items"]] == [course.manual.id, course.graded.id]
    assert [i["reviews"] for i in answer.json()["items"]] == [0, 1]
    fields = ReviewPage.model_json_schema(by_alias=True)["$defs"]["SkillMastery"]["properties"]
    assert all(set(item) == set(fields) for item in answer.json()["items"])


def test_reviews_of_another_learner_are_not_listed(session: Session, course: Course) -> None:
    course.complete_manual()
    course.clock.later(days=2)
    act_as_learner(session, course.learner.id)
    assert due_ids(course) == [course.manual.id]
    act_as_owner(session)
    other = make_user(session)
    act_as_learner(session, other.id)
    assert service.due_reviews(session, other, PageParams()).total == 0
    assert session.execute(text("SELECT count(*) FROM mastery_reviews")).scalar_one() == 0
