"""Two deliveries of one webhook-id at once, on real connections: one completion, XP once; the
second waits for the first and answers its outcome."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from skilltree.db.rls import act_as_learner
from skilltree.integrations import service
from skilltree.integrations.schemas import ExternalCompletion, IntegrationCreate
from skilltree.models import (
    IntegrationDelivery,
    ProgressEvent,
    ProgressEventKind,
    UserProfile,
    UserRole,
)
from tests.committed import committed_rows
from tests.factories import make_category, make_skill, make_tree, make_user
from tests.integrations.conftest import body_of, new_webhook_id, signed_headers
from tests.locks import Writer, wait_until_blocked


@dataclass
class Race:
    integration_id: str
    learner_id: str
    skill_id: str
    secret: str


@pytest.fixture
def race(engine: Engine) -> Iterator[Race]:
    """Committed rows: an author's tree with an EXTERNAL skill, its integration, a learner."""
    with committed_rows(engine) as session:
        author = make_user(session, UserRole.AUTHOR)
        learner = make_user(session)
        tree = make_tree(session, make_category(session), created_by=author.id)
        skill = make_skill(session, tree, xp_value=40, completion_policy={"EXTERNAL": {}})
        made = service.create(session, IntegrationCreate(name="CI", tree_slug=tree.slug), author)
        session.commit()
        yield Race(made.integration.id, learner.id, skill.id, made.secret)


def deliver(
    race: Race, body: bytes, headers: dict[str, str]
) -> Callable[[Session], ExternalCompletion]:
    def work(session: Session) -> ExternalCompletion:
        act_as_learner(session, None)  # as a request: the role, no learner until verified
        return service.receive(session, race.integration_id, headers, body, tolerance_seconds=300)

    return work


def test_two_deliveries_of_one_webhook_id_racing_complete_once(engine: Engine, race: Race) -> None:
    body = body_of({"userId": race.learner_id, "skillId": race.skill_id})
    headers = signed_headers(race.secret, body, new_webhook_id())
    first = Writer(engine, deliver(race, body, headers), hold=True).start()
    assert first.worked.wait(20)
    second = Writer(engine, deliver(race, body, headers)).start()
    wait_until_blocked(engine, second.pid)  # on the delivery the first one has not committed
    done: ExternalCompletion = first.finish()
    again: ExternalCompletion = second.finish()
    assert first.error is None
    assert second.error is None
    assert (done.repeated, again.repeated) == (False, True)
    assert again.outcome == done.outcome
    assert done.outcome.xp_awarded == 40
    with Session(engine) as session:
        xp = session.scalar(
            select(UserProfile.total_xp).where(UserProfile.user_id == race.learner_id)
        )
        completions = session.scalar(
            select(func.count()).where(
                ProgressEvent.user_id == race.learner_id,
                ProgressEvent.skill_id == race.skill_id,
                ProgressEvent.kind == ProgressEventKind.COMPLETE,
            )
        )
        deliveries = session.scalar(
            select(func.count()).where(IntegrationDelivery.user_id == race.learner_id)
        )
    assert (xp, completions, deliveries) == (40, 1, 1)
