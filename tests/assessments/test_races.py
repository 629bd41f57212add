"""Two submits of one attempt at once, on real connections: one grade, XP once; two starts at
once under a limit of one attempt a day: one attempt."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from skilltree.assessments import service
from skilltree.assessments.schemas import Attempt, QuestionBank, SubmitRequest
from skilltree.db.rls import act_as_learner
from skilltree.errors import AttemptNotAllowedYet
from skilltree.models import (
    AssessmentAttempt,
    ProgressEvent,
    ProgressEventKind,
    User,
    UserProfile,
    UserRole,
)
from skilltree.progress import service as progress_service
from skilltree.progress.schemas import CompleteRequest
from tests.assessments.conftest import RIGHT, bank
from tests.committed import committed_rows
from tests.factories import add_dependency, make_category, make_skill, make_tree, make_user
from tests.locks import Writer, wait_until_blocked


@dataclass
class Race:
    learner_id: str
    skill_id: str
    attempt_id: str


@pytest.fixture
def race(engine: Engine) -> Iterator[Race]:
    """Committed rows: an author's skill with a bank, a learner with an attempt open."""
    yield from committed_race(engine, bank(), open_attempt=True)


def committed_race(engine: Engine, body: dict[str, Any], *, open_attempt: bool) -> Iterator[Race]:
    with committed_rows(engine) as session:
        author = make_user(session, UserRole.AUTHOR)
        learner = make_user(session)
        tree = make_tree(session, make_category(session), created_by=author.id)
        intro = make_skill(session, tree, xp_value=10)
        skill = make_skill(session, tree, xp_value=40, completion_policy={"ASSESSMENT": {}})
        add_dependency(session, skill, intro)
        service.put_bank(session, skill.id, QuestionBank.model_validate(body), author)
        act_as_learner(session, learner.id)
        progress_service.complete(session, learner, intro.id, CompleteRequest())
        attempt = service.start_attempt(session, learner, skill.id) if open_attempt else None
        session.commit()
        yield Race(learner.id, skill.id, attempt.id if attempt else "")


def submit(race: Race) -> Callable[[Session], Attempt]:
    def work(session: Session) -> Attempt:
        act_as_learner(session, race.learner_id)
        learner = session.get(User, race.learner_id)
        assert learner is not None
        return service.submit_attempt(
            session, learner, race.attempt_id, SubmitRequest.model_validate({"answers": RIGHT})
        )

    return work


def test_a_second_submit_racing_the_first_answers_the_first_grade(
    engine: Engine, race: Race
) -> None:
    first = Writer(engine, submit(race), hold=True).start()
    assert first.worked.wait(20)
    second = Writer(engine, submit(race)).start()
    wait_until_blocked(engine, second.pid)  # on the learner the first one holds
    graded: Attempt = first.finish()
    again: Attempt = second.finish()
    assert first.error is None
    assert second.error is None
    assert graded.repeated is False
    assert graded.passed is True
    assert again.repeated is True
    assert (again.score, again.submitted_at, again.results) == (
        graded.score,
        graded.submitted_at,
        graded.results,
    )
    with Session(engine) as session:
        xp = session.execute(
            select(UserProfile.total_xp).where(UserProfile.user_id == race.learner_id)
        ).scalar_one()
        completions = session.execute(
            select(func.count()).where(
                ProgressEvent.user_id == race.learner_id,
                ProgressEvent.skill_id == race.skill_id,
                ProgressEvent.kind == ProgressEventKind.COMPLETE,
            )
        ).scalar_one()
    assert xp == 50
    assert completions == 1


def start(race: Race) -> Callable[[Session], Attempt]:
    def work(session: Session) -> Attempt:
        act_as_learner(session, race.learner_id)
        learner = session.get(User, race.learner_id)
        assert learner is not None
        started = service.start_attempt(session, learner, race.skill_id)
        # Submitted at once: the other start must find a finished attempt, not an open one.
        return service.submit_attempt(session, learner, started.id, SubmitRequest())

    return work


def test_two_starts_at_once_cannot_both_pass_the_days_limit(engine: Engine) -> None:
    for race in committed_race(engine, bank(attemptsPerDay=1), open_attempt=False):
        first = Writer(engine, start(race), hold=True).start()
        assert first.worked.wait(20)
        second = Writer(engine, start(race)).start()
        wait_until_blocked(engine, second.pid)  # on the learner the first one holds
        first.finish()
        second.finish()
        assert first.error is None
        assert isinstance(second.error, AttemptNotAllowedYet)
        with Session(engine) as session:
            attempts = session.execute(
                select(func.count())
                .select_from(AssessmentAttempt)
                .where(AssessmentAttempt.user_id == race.learner_id)
            ).scalar_one()
        assert attempts == 1
