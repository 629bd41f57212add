"""Any sequence of completions, reviews (graded and self-rated) and time passing keeps the rules:
the level is never above what the evidence supports (a model of the documented rule agrees with
the database), due dates move forward, XP is awarded once per skill, a review attempt is graded
and reviewed once."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from skilltree.errors import AttemptNotAllowedYet, InvalidTransition
from skilltree.mastery.schemas import Recall, ReviewOutcome
from skilltree.models import ProgressEvent, ProgressEventKind
from tests.assessments.conftest import RIGHT
from tests.mastery.conftest import MOSTLY, WRONG, Clock, make_course

ACTIONS = st.one_of(
    st.just(("complete",)),
    st.tuples(st.just("attempt"), st.sampled_from([RIGHT, MOSTLY, WRONG])),
    st.tuples(st.just("recall"), st.sampled_from(list(Recall))),
    st.tuples(st.just("later"), st.sampled_from([1, 20, 60 * 24, 60 * 24 * 5, 60 * 24 * 40])),
)
LEVELS = ["FAMILIAR", "PROFICIENT", "MASTERED"]


def level_for(evidence: float, verified: bool) -> str:
    return (
        "MASTERED" if evidence >= 2 and verified else "PROFICIENT" if evidence >= 1 else LEVELS[0]
    )


class Model:
    """The documented level rule (docs/progress.md, "Mastery"), kept apart from the database's."""

    def __init__(self, evidence: float, verified: bool) -> None:
        self.evidence, self.verified = evidence, verified

    def review(self, outcome: ReviewOutcome, graded: bool) -> None:
        if outcome.rating is Recall.AGAIN:
            self.evidence = 1 if self.evidence >= 2 else 0
            self.verified = self.verified and self.evidence >= 1
        elif outcome.rating in (Recall.GOOD, Recall.EASY) and outcome.on_time:
            self.evidence = min(10, self.evidence + (1 if graded else 0.5))
            self.verified = self.verified or graded

    @property
    def level(self) -> str:
        return level_for(self.evidence, self.verified)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(actions=st.lists(ACTIONS, min_size=1, max_size=14))
def test_any_sequence_of_reviews_keeps_the_rules(
    session: Session, clock: Clock, actions: list[tuple[Any, ...]]
) -> None:
    with session.begin_nested() as example:
        course = make_course(session, clock)
        models: dict[str, Model] = {}
        graded_attempts: set[str] = set()
        for action in actions:
            match action:
                case ("complete",):
                    course.complete_manual()
                    models.setdefault(course.manual.id, Model(0, False))
                case ("attempt", answers):
                    try:
                        attempt = course.attempt(answers)
                    except AttemptNotAllowedYet:
                        continue
                    assert attempt.id not in graded_attempts
                    graded_attempts.add(attempt.id)
                    if not attempt.review:
                        assert attempt.mastery is None
                        if attempt.passed:
                            strong = (attempt.score or 0) >= 80
                            models[course.graded.id] = Model(int(strong), strong)
                        continue
                    outcome = attempt.mastery
                    assert outcome is not None
                    check_outcome(outcome)
                    model = models[course.graded.id]
                    assert outcome.level_before == model.level
                    model.review(outcome, graded=True)
                    assert outcome.level == model.level
                    event(f"graded review {outcome.rating} on time {outcome.on_time}")
                case ("recall", recall):
                    try:
                        outcome = course.recall(recall)
                    except InvalidTransition:
                        assert course.manual.id not in models
                        continue
                    check_outcome(outcome)
                    model = models[course.manual.id]
                    assert outcome.level_before == model.level
                    model.review(outcome, graded=False)
                    assert outcome.level == model.level
                    assert outcome.level != "MASTERED"  # self-rating never masters
                case ("later", minutes):
                    clock.later(minutes=minutes)
        course.act()
        for skill_id, model in models.items():
            card = course.card(course.graded if skill_id == course.graded.id else course.manual)
            if card is not None:
                assert card["level"] == model.level
                assert card["due_at"] > card["last_reviewed_at"]
        completions = session.execute(
            select(ProgressEvent.skill_id, func.count())
            .where(
                ProgressEvent.user_id == course.learner.id,
                ProgressEvent.kind == ProgressEventKind.COMPLETE,
            )
            .group_by(ProgressEvent.skill_id)
        ).all()
        assert all(count == 1 for _, count in completions)  # XP once per skill
        xp_events = session.execute(
            text(
                "SELECT coalesce(sum(xp_delta), 0) FROM progress_events WHERE user_id = :u"
                " AND kind = 'ACTIVITY'"
            ),
            {"u": course.learner.id},
        ).scalar_one()
        assert xp_events == 0  # a review awards none
        reviews = session.execute(
            text(
                "SELECT count(*), count(DISTINCT attempt_id) FILTER (WHERE attempt_id IS NOT NULL),"
                " count(attempt_id) FROM mastery_reviews WHERE user_id = :u"
            ),
            {"u": course.learner.id},
        ).one()
        assert reviews[1] == reviews[2]  # each review attempt reviews once
        example.rollback()  # the next example starts afresh (as the owner)


def check_outcome(outcome: ReviewOutcome) -> None:
    assert outcome.due_at > outcome.reviewed_at
    if outcome.on_time and outcome.rating in (Recall.GOOD, Recall.EASY):
        assert outcome.due_at > outcome.due_before  # due dates move forward
    assert outcome.xp_awarded >= 0
