"""Reviewers claiming at once, and decisions racing, on real connections: a claim in flight is
skipped, never waited for, so no two reviewers get the same submission; two approvals at once
make one decision and one completion (XP once)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from skilltree.db.rls import act_as_learner
from skilltree.models import ProgressEvent, ProgressEventKind, User, UserProfile, UserRole
from skilltree.progress import service as progress_service
from skilltree.progress.schemas import CompleteRequest
from skilltree.reviews import service
from skilltree.reviews.schemas import (
    QueueOrder,
    ReviewRequest,
    Rubric,
    Submission,
    SubmissionRequest,
)
from tests.committed import committed_rows
from tests.factories import add_dependency, make_category, make_skill, make_tree, make_user
from tests.locks import Writer, wait_until_blocked
from tests.reviews.conftest import GOOD, RUBRIC, WORK

REVIEWERS = 8


@dataclass
class Queue:
    """Committed: submissions of `learners` (oldest first) to a PROJECT skill, `reviewers`
    (admins) and the tree's `author`."""

    skill_id: str
    author_id: str
    reviewers: list[str]
    learners: list[str]
    submissions: list[str]


def build(engine: Engine, learners: int) -> Iterator[Queue]:
    with committed_rows(engine) as session:
        author = make_user(session, UserRole.AUTHOR)
        reviewers = [make_user(session, UserRole.ADMIN) for _ in range(REVIEWERS)]
        tree = make_tree(session, make_category(session), created_by=author.id)
        intro = make_skill(session, tree, xp_value=10)
        skill = make_skill(session, tree, xp_value=40, completion_policy={"PROJECT": {}})
        add_dependency(session, skill, intro)
        service.put_rubric(session, skill.id, Rubric.model_validate(RUBRIC), author)
        people = [make_user(session) for _ in range(learners)]
        submissions = []
        for learner in people:
            act_as_learner(session, learner.id)
            progress_service.complete(session, learner, intro.id, CompleteRequest())
            made = service.submit(
                session, learner, skill.id, SubmissionRequest.model_validate(WORK)
            )
            submissions.append(made.id)
        session.commit()
        yield Queue(
            skill.id, author.id, [r.id for r in reviewers], [p.id for p in people], submissions
        )


@pytest.fixture
def queue(engine: Engine) -> Iterator[Queue]:
    yield from build(engine, REVIEWERS + 2)


def claiming(reviewer_id: str) -> Callable[[Session], Submission | None]:
    def work(session: Session) -> Submission | None:
        act_as_learner(session, reviewer_id)
        reviewer = session.get(User, reviewer_id)
        assert reviewer is not None
        return service.claim(session, reviewer, QueueOrder.OLDEST)

    return work


def test_a_claim_in_flight_is_skipped_not_waited_for(engine: Engine, queue: Queue) -> None:
    first = Writer(engine, claiming(queue.reviewers[0]), hold=True).start()
    assert first.worked.wait(20)
    # The first claim holds its row: a plain FOR UPDATE of it waits (the lock is real)...
    locker = Writer(
        engine,
        lambda s: s.execute(
            text("SELECT id FROM project_submissions WHERE id = :id FOR UPDATE"),
            {"id": queue.submissions[0]},
        ).all(),
    ).start()
    wait_until_blocked(engine, locker.pid)
    # ...while a second claim finishes with the next submission, the first still held.
    second = Writer(engine, claiming(queue.reviewers[1])).start()
    taken: Submission = second.finish()
    assert second.error is None
    claimed: Submission = first.finish()
    locker.finish()
    assert (claimed.id, taken.id) == (queue.submissions[0], queue.submissions[1])
    assert first.error is None
    assert locker.error is None


def test_reviewers_claiming_at_once_never_get_the_same_submission(
    engine: Engine, queue: Queue
) -> None:
    # Every claim holds its transaction open until all have claimed: each had to pass over
    # the rows the others hold.
    writers = [Writer(engine, claiming(r), hold=True).start() for r in queue.reviewers]
    for writer in writers:
        assert writer.worked.wait(20)
    claims: list[Submission | None] = [writer.finish() for writer in writers]
    assert all(writer.error is None for writer in writers)
    ids = [c.id for c in claims if c is not None]
    assert len(ids) == REVIEWERS
    assert len(set(ids)) == REVIEWERS
    assert set(ids) <= set(queue.submissions)
    with Session(engine) as session:
        rows = session.execute(
            text("SELECT id, claimed_by FROM project_submissions WHERE id = ANY(:ids)"),
            {"ids": ids},
        ).tuples()
        owners = {submission: owner for submission, owner in rows}
    assert owners == {c.id: c.claimed_by for c in claims if c is not None}


@pytest.fixture
def claimed(engine: Engine) -> Iterator[Queue]:
    """One submission, claimed by the first reviewer (committed)."""
    for queue in build(engine, 1):
        with Session(engine) as session:
            claiming(queue.reviewers[0])(session)
            session.commit()
        yield queue


def approving(queue: Queue) -> Callable[[Session], Submission]:
    def work(session: Session) -> Submission:
        act_as_learner(session, queue.reviewers[0])
        reviewer = session.get(User, queue.reviewers[0])
        assert reviewer is not None
        return service.review(
            session,
            reviewer,
            queue.submissions[0],
            ReviewRequest.model_validate({"decision": "APPROVE", "scores": GOOD}),
        )

    return work


def test_two_approvals_at_once_make_one_completion(engine: Engine, claimed: Queue) -> None:
    first = Writer(engine, approving(claimed), hold=True).start()
    assert first.worked.wait(20)
    second = Writer(engine, approving(claimed)).start()
    wait_until_blocked(engine, second.pid)  # on the learner the first one holds
    decided: Submission = first.finish()
    again: Submission = second.finish()
    assert first.error is None
    assert second.error is None
    assert (decided.repeated, again.repeated) == (False, True)
    assert again.reviewed_at == decided.reviewed_at
    learner = claimed.learners[0]
    with Session(engine) as session:
        xp = session.execute(
            select(UserProfile.total_xp).where(UserProfile.user_id == learner)
        ).scalar_one()
        completions = session.execute(
            select(func.count()).where(
                ProgressEvent.user_id == learner,
                ProgressEvent.skill_id == claimed.skill_id,
                ProgressEvent.kind == ProgressEventKind.COMPLETE,
            )
        ).scalar_one()
    assert (xp, completions) == (50, 1)
