"""Any sequence of starts, submits, time passing and client-sent completions keeps the rules:
an attempt is graded at most once, XP is awarded once, the skill is completed only by a passed
attempt, and no key or explanation is shown before a submit."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from skilltree.assessments import service
from skilltree.assessments.schemas import Attempt, QuestionBank, SubmitRequest
from skilltree.db.rls import act_as_learner, act_as_owner
from skilltree.errors import AssessmentAttemptRequired, AttemptNotAllowedYet
from skilltree.models import (
    CompletionMethod,
    ProgressEvent,
    ProgressEventKind,
    SkillProgressStatus,
    UserProfile,
    UserRole,
    UserSkillProgress,
)
from skilltree.progress import service as progress_service
from skilltree.progress.schemas import CompleteRequest
from tests.assessments.conftest import EXPLAIN_MARK, KEY_MARK, RIGHT, bank
from tests.factories import add_dependency, make_category, make_skill, make_tree, make_user

ANSWERS = st.sampled_from(
    [RIGHT, {}, RIGHT | {"single": "p"}, {"number": "6,0", "text": " HTML keymark7f3a "}]
)
ACTIONS = st.one_of(
    st.just(("start",)),
    st.tuples(st.just("submit"), st.integers(0, 5), ANSWERS),
    st.tuples(st.just("later"), st.sampled_from([1, 10, 60 * 24])),
    st.tuples(st.just("complete"), st.floats(0, 100)),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    settings_=st.fixed_dictionaries(
        {
            "questionsPerAttempt": st.integers(1, 5),
            "shuffleOptions": st.booleans(),
            "passingScore": st.sampled_from([0, 60, 100]),
            "timeLimitSeconds": st.sampled_from([None, 60]),
            "attemptsPerDay": st.sampled_from([None, 2]),
            "cooldownMinutes": st.sampled_from([0, 5]),
        }
    ),
    actions=st.lists(ACTIONS, min_size=1, max_size=20),
)
def test_any_sequence_of_attempts_keeps_the_rules(
    session: Session, settings_: dict[str, Any], actions: list[tuple[Any, ...]]
) -> None:
    with session.begin_nested() as example:
        author = make_user(session, UserRole.AUTHOR)
        learner = make_user(session)
        tree = make_tree(session, make_category(session), created_by=author.id)
        intro = make_skill(session, tree, xp_value=10)
        skill = make_skill(session, tree, xp_value=40, completion_policy={"ASSESSMENT": {}})
        add_dependency(session, skill, intro)
        chosen = {k: v for k, v in settings_.items() if v is not None}
        service.put_bank(session, skill.id, QuestionBank.model_validate(bank(**chosen)), author)
        act_as_learner(session, learner.id)
        progress_service.complete(session, learner, intro.id, CompleteRequest())
        attempts: list[str] = []
        grades: dict[str, tuple[Any, ...]] = {}
        for action in actions:
            act_as_learner(session, learner.id)
            match action:
                case ("start",):
                    try:
                        started = service.start_attempt(session, learner, skill.id)
                    except AttemptNotAllowedYet:
                        continue
                    shown = started.model_dump_json().lower()
                    assert KEY_MARK.lower() not in shown
                    assert EXPLAIN_MARK.lower() not in shown
                    if started.id not in attempts:
                        attempts.append(started.id)
                case ("submit", index, answers) if attempts:
                    attempt_id = attempts[index % len(attempts)]
                    graded: Attempt = service.submit_attempt(
                        session, learner, attempt_id, SubmitRequest(answers=answers)
                    )
                    grade = (graded.score, graded.passed, graded.expired, graded.results)
                    assert graded.repeated is (attempt_id in grades)
                    assert grades.setdefault(attempt_id, grade) == grade  # graded once
                    event(f"submitted: passed {graded.passed}, expired {graded.expired}")
                case ("later", minutes):
                    act_as_owner(session)
                    session.execute(
                        text(
                            "UPDATE assessment_attempts SET"
                            " started_at = started_at - make_interval(mins => :m),"
                            " expires_at = expires_at - make_interval(mins => :m),"
                            " submitted_at = submitted_at - make_interval(mins => :m)"
                            " WHERE user_id = :u"
                        ),
                        {"m": minutes, "u": learner.id},
                    )
                case ("complete", score):
                    try:
                        progress_service.complete(
                            session,
                            learner,
                            skill.id,
                            CompleteRequest(method=CompletionMethod.ASSESSMENT, score=score),
                        )
                    except AssessmentAttemptRequired:
                        pass
                    else:
                        raise AssertionError("a client-sent score completed the skill")
            check(session, learner.id, intro.id, skill.id)
        event(f"{len(grades)} attempts graded")
        example.rollback()


def check(session: Session, user_id: str, intro_id: str, skill_id: str) -> None:
    act_as_owner(session)
    rows = {
        r.skill_id: r
        for r in session.execute(
            select(UserSkillProgress).where(UserSkillProgress.user_id == user_id)
        ).scalars()
    }
    done = {k for k, r in rows.items() if r.status is SkillProgressStatus.COMPLETED}
    xp = session.execute(
        select(UserProfile.total_xp).where(UserProfile.user_id == user_id)
    ).scalar_one_or_none()
    assert (xp or 0) == 10 * (intro_id in done) + 40 * (skill_id in done)
    completions = session.execute(
        select(func.count()).where(
            ProgressEvent.user_id == user_id,
            ProgressEvent.skill_id == skill_id,
            ProgressEvent.kind == ProgressEventKind.COMPLETE,
        )
    ).scalar_one()
    assert completions == (skill_id in done)
    if skill_id in done:
        row = rows[skill_id]
        assert row.completion_method is CompletionMethod.ASSESSMENT
        assert row.evidence_data is not None
        passed = session.execute(
            text("SELECT passed FROM assessment_attempts WHERE user_id = :u AND id = :a"),
            {"u": user_id, "a": row.evidence_data["metadata"]["attemptId"]},
        ).scalar_one()
        assert passed is True
    graded_twice = session.execute(
        text(
            "SELECT count(*) FROM assessment_attempts WHERE user_id = :u"
            " AND (submitted_at IS NULL) <> (score IS NULL)"
        ),
        {"u": user_id},
    ).scalar_one()
    assert graded_twice == 0
