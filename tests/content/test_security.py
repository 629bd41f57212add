"""What the API's role may do with learners' module rows, in SQL: read its learner's own, write
none (only the content functions do)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.orm import Session

from skilltree.db.rls import act_as_learner
from tests.content.conftest import Course
from tests.factories import Person


@pytest.mark.parametrize(
    "query",
    [
        "UPDATE user_skill_module_progress SET seconds_spent = 100000",
        "DELETE FROM user_skill_module_progress",
        "INSERT INTO user_skill_module_progress (user_id, skill_id, module_id, opened_at,"
        " last_heartbeat_at, seconds_spent) VALUES (:me, :skill, 'x', now(), now(), 99999)",
    ],
)
def test_the_api_role_writes_no_module_time(
    session: Session, client: TestClient, course: Course, learner: Person, query: str
) -> None:
    assert course.beat(client, course.intro, "2", learner).status_code == 200
    act_as_learner(session, learner.id)
    with pytest.raises((ProgrammingError, DBAPIError)), session.begin_nested():
        session.execute(text(query), {"me": learner.id, "skill": course.intro.id})


def test_a_learner_reads_only_their_own_module_rows(
    session: Session, client: TestClient, course: Course, learner: Person, author: Person
) -> None:
    course.beat(client, course.intro, "2", learner)
    course.beat(client, course.intro, "2", author)
    act_as_learner(session, learner.id)
    owners = session.execute(text("SELECT user_id FROM user_skill_module_progress")).scalars()
    assert set(owners) == {learner.id}
