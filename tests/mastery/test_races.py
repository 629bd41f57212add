"""Two submits of one review attempt at once, on real connections: one grade, one review."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from skilltree.assessments import service as assessments
from skilltree.assessments.schemas import Attempt, QuestionBank, SubmitRequest
from skilltree.db.rls import act_as_learner
from skilltree.mastery import service
from skilltree.models import User, UserRole
from tests.assessments.conftest import RIGHT, bank
from tests.committed import committed_rows
from tests.factories import make_category, make_skill, make_tree, make_user
from tests.locks import Writer, wait_until_blocked

LATER = datetime.now(UTC) + timedelta(days=3)


def submit(learner_id: str, attempt_id: str) -> Callable[[Session], Attempt]:
    def work(session: Session) -> Attempt:
        act_as_learner(session, learner_id)
        learner = session.get(User, learner_id)
        assert learner is not None
        return assessments.submit_attempt(
            session, learner, attempt_id, SubmitRequest.model_validate({"answers": RIGHT})
        )

    return work


def test_two_racing_submits_of_a_review_grade_and_review_once(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with committed_rows(engine) as session:
        author = make_user(session, UserRole.AUTHOR)
        learner = make_user(session)
        tree = make_tree(session, make_category(session), created_by=author.id)
        skill = make_skill(session, tree, xp_value=40, completion_policy={"ASSESSMENT": {}})
        assessments.put_bank(session, skill.id, QuestionBank.model_validate(bank()), author)
        act_as_learner(session, learner.id)
        started = assessments.start_attempt(session, learner, skill.id)
        assessments.submit_attempt(
            session, learner, started.id, SubmitRequest.model_validate({"answers": RIGHT})
        )
        # Due by then: the review attempt is started and submitted three days on.
        for module in (service, assessments):
            monkeypatch.setattr(module, "_now", lambda: LATER)
        review = assessments.start_attempt(session, learner, skill.id)
        assert review.review is True
        session.commit()

        first = Writer(engine, submit(learner.id, review.id), hold=True).start()
        assert first.worked.wait(20)
        second = Writer(engine, submit(learner.id, review.id)).start()
        wait_until_blocked(engine, second.pid)  # on the learner the first one holds
        graded: Attempt = first.finish()
        again: Attempt = second.finish()
        assert (first.error, second.error) == (None, None)
        assert (graded.repeated, again.repeated) == (False, True)
        assert graded.mastery is not None
        assert again.mastery is not None
        assert graded.mastery.level == again.mastery.level == "MASTERED"
        assert again.mastery.due_at == graded.mastery.due_at
        with Session(engine) as check:
            reviews, cards = check.execute(
                text(
                    "SELECT (SELECT count(*) FROM mastery_reviews WHERE user_id = :u),"
                    " (SELECT reviews FROM skill_mastery WHERE user_id = :u)"
                ),
                {"u": learner.id},
            ).one()
            xp = check.execute(
                text("SELECT total_xp FROM user_profiles WHERE user_id = :u"), {"u": learner.id}
            ).scalar_one()
        assert (reviews, cards) == (1, 1)
        assert xp == 40  # the completion's, once
