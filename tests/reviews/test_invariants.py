"""Any sequence of submissions, claims, approvals, requests for changes, resubmissions, claims
running out and direct PROJECT completions keeps the rules: a skill COMPLETED by PROJECT has
exactly one approved submission (the one its evidence names), a learner has at most one
submission waiting, XP is awarded once, and every decision was made by the claim's holder."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from skilltree.db.rls import act_as_learner, act_as_owner
from skilltree.errors import SkillTreeError
from skilltree.models import (
    CompletionMethod,
    ProgressEvent,
    ProgressEventKind,
    SkillProgressStatus,
    User,
    UserProfile,
    UserRole,
    UserSkillProgress,
)
from skilltree.progress import service as progress_service
from skilltree.progress.schemas import CompleteRequest
from skilltree.reviews import service
from skilltree.reviews.schemas import QueueOrder, ReviewRequest, Rubric, SubmissionRequest
from tests.factories import add_dependency, make_category, make_skill, make_tree, make_user
from tests.reviews.conftest import GOOD, RUBRIC, WORK

SCORES = st.sampled_from([GOOD, GOOD, {"works": 0, "style": 1}, {"works": 2, "style": 0}, {}])
DECIDER = st.sampled_from([0, 1, None, None])
"""A reviewer by index, or (None) whoever holds the claim, if anyone does."""
ACTIONS = st.one_of(
    st.just(("submit",)),
    st.tuples(st.just("claim"), st.integers(0, 1), st.sampled_from(list(QueueOrder))),
    st.tuples(st.just("approve"), DECIDER, SCORES),
    st.tuples(st.just("changes"), DECIDER, SCORES),
    st.just(("expire",)),
    st.tuples(st.just("complete"), st.booleans()),
    # The whole loop at once (each step may still be refused): submit, claim, decide.
    st.tuples(st.just("cycle"), st.integers(0, 1), st.sampled_from(["approve", "changes"]), SCORES),
)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(actions=st.lists(ACTIONS, min_size=1, max_size=20))
def test_any_sequence_of_reviews_keeps_the_rules(
    session: Session, actions: list[tuple[Any, ...]]
) -> None:
    with session.begin_nested() as example:
        author = make_user(session, UserRole.AUTHOR)
        admin = make_user(session, UserRole.ADMIN)
        reviewers = [author, admin]
        learner = make_user(session)
        tree = make_tree(session, make_category(session), created_by=author.id)
        intro = make_skill(session, tree, xp_value=10)
        skill = make_skill(
            session, tree, xp_value=40, completion_policy={"PROJECT": {}, "MANUAL": {}}
        )
        add_dependency(session, skill, intro)
        service.put_rubric(session, skill.id, Rubric.model_validate(RUBRIC), author)
        act_as_learner(session, learner.id)
        progress_service.complete(session, learner, intro.id, CompleteRequest())
        decided: dict[str, tuple[Any, ...]] = {}
        refusals: list[CompletionMethod] = []
        for action in actions:
            match action:
                case ("submit",):
                    act_as_learner(session, learner.id)
                    try:
                        service.submit(
                            session, learner, skill.id, SubmissionRequest.model_validate(WORK)
                        )
                    except SkillTreeError as refused:
                        event(f"submit refused: {refused.code}")
                case ("claim", who, order):
                    act_as_learner(session, reviewers[who].id)
                    service.claim(session, reviewers[who], order)
                case (("approve" | "changes") as kind, who, scores):
                    decide(session, reviewers, who, kind, scores, decided)
                case ("cycle", who, kind, scores):
                    act_as_learner(session, learner.id)
                    try:
                        service.submit(
                            session, learner, skill.id, SubmissionRequest.model_validate(WORK)
                        )
                    except SkillTreeError as refused:
                        event(f"submit refused: {refused.code}")
                    act_as_learner(session, reviewers[who].id)
                    service.claim(session, reviewers[who], QueueOrder.OLDEST)
                    decide(session, reviewers, None, kind, scores, decided)
                case ("expire",):
                    act_as_owner(session)
                    session.execute(
                        text(
                            "UPDATE project_submissions SET claimable_at = claimable_at"
                            " - interval '2 hours' WHERE user_id = :u"
                        ),
                        {"u": learner.id},
                    )
                case ("complete", manual):
                    act_as_learner(session, learner.id)
                    method = CompletionMethod.MANUAL if manual else CompletionMethod.PROJECT
                    try:
                        progress_service.complete(
                            session, learner, skill.id, CompleteRequest(method=method)
                        )
                    except SkillTreeError as refused:
                        event(f"{method} refused: {refused.code}")
                        refusals.append(method)
            check(session, learner.id, intro.id, skill.id, decided)
        assert CompletionMethod.MANUAL not in refusals  # the policy allows it, the skill is open
        example.rollback()


def decide(
    session: Session,
    reviewers: list[User],
    who: int | None,
    kind: str,
    scores: dict[str, float],
    decided: dict[str, tuple[Any, ...]],
) -> None:
    act_as_owner(session)
    pending = session.execute(
        text("SELECT id, claimed_by FROM project_submissions WHERE status = 'PENDING'")
    ).first()
    if pending is None:
        return
    holder = [r for r in reviewers if r.id == pending.claimed_by]
    if who is None and not holder:
        return
    reviewer = reviewers[who] if who is not None else holder[0]
    act_as_learner(session, reviewer.id)
    request = ReviewRequest.model_validate(
        {
            "decision": "APPROVE" if kind == "approve" else "REQUEST_CHANGES",
            "scores": scores,
            "feedback": "More" if kind == "changes" else "",
        }
    )
    try:
        answer = service.review(session, reviewer, pending.id, request)
    except SkillTreeError as refused:
        event(f"{kind} refused: {refused.code}")
        return
    assert pending.claimed_by == reviewer.id  # only the claim's holder decides
    assert answer.id not in decided  # decided once
    decided[answer.id] = (answer.status, answer.reviewed_by)
    event(f"{kind}: {answer.status}")


def check(
    session: Session,
    user_id: str,
    intro_id: str,
    skill_id: str,
    decided: dict[str, tuple[Any, ...]],
) -> None:
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
    statuses = list(
        session.execute(
            text("SELECT id, status, reviewed_by FROM project_submissions WHERE user_id = :u"),
            {"u": user_id},
        ).tuples()
    )
    approved = [s for s, status, _ in statuses if status == "APPROVED"]
    assert len(approved) <= 1
    assert [status for _, status, _ in statuses].count("PENDING") <= 1
    for submission, status, reviewer in statuses:  # decisions stay as they were made
        if submission in decided:
            assert decided[submission] == (status, reviewer)
        else:
            assert status == "PENDING"
    if skill_id in done and rows[skill_id].completion_method is CompletionMethod.PROJECT:
        evidence = rows[skill_id].evidence_data
        assert evidence is not None
        assert approved == [evidence["metadata"]["submissionId"]]
    elif approved:
        # Approved after a MANUAL completion: never, a completed skill takes no submission
        # and an approval of a completed skill's submission changes nothing.
        assert skill_id in done
