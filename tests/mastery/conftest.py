"""A learner with completed skills to review: `graded` (a question bank, ASSESSMENT), `manual`
(MANUAL, no bank), on a clock the tests move (the services' `_now`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from skilltree.assessments import service as assessments
from skilltree.assessments.schemas import Attempt, QuestionBank, SubmitRequest
from skilltree.db.rls import act_as_learner, act_as_owner
from skilltree.mastery import service
from skilltree.mastery.schemas import Recall, ReviewOutcome, SelfReview
from skilltree.models import Skill, SkillTree, User, UserRole
from skilltree.progress import service as progress_service
from skilltree.progress.schemas import CompleteRequest
from tests.assessments.conftest import RIGHT, bank
from tests.factories import make_category, make_skill, make_tree, make_user

WRONG = {"single": "p", "multi": ["span"], "number": "7", "text": "no", "order": []}
"""Answers that score 0."""
MOSTLY = RIGHT | {"order": []}
"""Answers that score 5/6 (83.33: GOOD)."""


@dataclass
class Clock:
    """The time the services see: moved by the tests, never by waiting."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def later(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    found = Clock()
    for module in (service, assessments, progress_service):
        monkeypatch.setattr(module, "_now", lambda: found.now)
    return found


@dataclass
class Course:
    """`learner` with `graded` (bank, ASSESSMENT) and `manual` (MANUAL) in `tree`, not completed."""

    session: Session
    clock: Clock
    learner: User
    tree: SkillTree
    graded: Skill
    manual: Skill

    def act(self) -> None:
        act_as_learner(self.session, self.learner.id)

    def complete_manual(self) -> None:
        self.act()
        progress_service.complete(self.session, self.learner, self.manual.id, CompleteRequest())

    def attempt(self, answers: dict[str, object]) -> Attempt:
        """Start and submit an attempt at `graded` (a review once it is completed)."""
        self.act()
        started = assessments.start_attempt(self.session, self.learner, self.graded.id)
        return assessments.submit_attempt(
            self.session,
            self.learner,
            started.id,
            SubmitRequest.model_validate({"answers": answers}),
        )

    def recall(self, recall: Recall) -> ReviewOutcome:
        self.act()
        return service.self_review(
            self.session, self.learner, self.manual.id, SelfReview(recall=recall)
        )

    def card(self, skill: Skill) -> dict[str, object] | None:
        act_as_owner(self.session)
        row = (
            self.session.execute(
                text(
                    "SELECT level, evidence, verified, due_at, last_reviewed_at, reviews, lapses"
                    " FROM skill_mastery WHERE user_id = :u AND skill_id = :s"
                ),
                {"u": self.learner.id, "s": skill.id},
            )
            .mappings()
            .first()
        )
        self.act()
        return None if row is None else dict(row)


def make_course(session: Session, clock: Clock) -> Course:
    author = make_user(session, UserRole.AUTHOR)
    learner = make_user(session)
    tree = make_tree(session, make_category(session), created_by=author.id)
    graded = make_skill(session, tree, xp_value=40, completion_policy={"ASSESSMENT": {}})
    manual = make_skill(session, tree, xp_value=10, completion_policy={"MANUAL": {}})
    assessments.put_bank(
        session, graded.id, QuestionBank.model_validate(bank(passingScore=60)), author
    )
    return Course(session, clock, learner, tree, graded, manual)


@pytest.fixture
def course(session: Session, clock: Clock) -> Course:
    return make_course(session, clock)
