"""Who sees which analytics: authors their trees, admins everything, learners their own; and
PostgreSQL refuses the same reads when the API's checks are bypassed."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from skilltree.db.rls import act_as_learner, act_as_owner
from skilltree.models import User
from tests.analytics.conftest import World, fold

TREE_PATHS = [
    "/api/v1/analytics/trees/fixed/funnel",
    "/api/v1/analytics/trees/fixed/completions",
    "/api/v1/analytics/trees/fixed/learners",
    "/api/v1/analytics/trees/fixed/stalls",
    "/api/v1/analytics/trees/fixed/time-to-complete",
    "/api/v1/analytics/trees/fixed/cohorts",
]
PLATFORM_PATHS = ["/api/v1/analytics/platform/active", "/api/v1/analytics/platform/cohorts"]


@pytest.mark.parametrize("path", TREE_PATHS)
def test_the_author_and_admins_see_a_tree(api: TestClient, world: World, path: str) -> None:
    for user in (world.author, world.admin):
        assert api.get(path, headers=world.headers(user)).status_code == 200


@pytest.mark.parametrize("path", TREE_PATHS)
def test_another_author_or_a_learner_is_forbidden(api: TestClient, world: World, path: str) -> None:
    for user in (world.other_author, world.learners["l1"]):
        answer = api.get(path, headers=world.headers(user))
        assert answer.status_code == 403
        assert answer.json()["code"] == "Forbidden"


@pytest.mark.parametrize("path", TREE_PATHS)
def test_someone_elses_draft_looks_missing(
    api: TestClient, world: World, session: Session, path: str
) -> None:
    world.tree.is_published = False
    session.flush()
    assert api.get(path, headers=world.headers(world.other_author)).status_code == 404
    assert api.get(path, headers=world.headers(world.author)).status_code == 200


@pytest.mark.parametrize("path", [*TREE_PATHS, *PLATFORM_PATHS, "/api/v1/analytics/me/calendar"])
def test_signed_out_is_a_401(api: TestClient, world: World, path: str) -> None:
    assert api.get(path).status_code == 401


@pytest.mark.parametrize("path", PLATFORM_PATHS)
def test_only_admins_see_the_platform(api: TestClient, world: World, path: str) -> None:
    assert api.get(path, headers=world.headers(world.admin)).status_code == 200
    for user in (world.author, world.learners["l1"]):
        assert api.get(path, headers=world.headers(user)).status_code == 403


def _as(session: Session, user: User, query: str, **parameters: object) -> int:
    act_as_learner(session, user.id)
    try:
        return int(session.execute(text(query), parameters).scalar_one())
    finally:
        act_as_owner(session)


@pytest.mark.parametrize(
    "relation",
    ["analytics_enrolments", "analytics_skill_progress", "analytics_tree_events"],
)
def test_the_database_shows_a_tree_only_to_its_author_and_admins(
    session: Session, world: World, relation: str
) -> None:
    query = f"SELECT count(*) FROM {relation} WHERE skill_tree_id = :tree"
    everyone = _as(session, world.admin, query, tree=world.tree.id)
    assert everyone > 0
    assert _as(session, world.author, query, tree=world.tree.id) == everyone
    assert _as(session, world.other_author, query, tree=world.tree.id) == 0
    assert _as(session, world.learners["l1"], query, tree=world.tree.id) == 0


def test_the_database_hides_the_aggregates_of_others_trees(session: Session, world: World) -> None:
    fold(session)
    for table in ("analytics_skill_counts", "analytics_tree_days"):
        query = f"SELECT count(*) FROM {table} WHERE skill_tree_id = :tree"
        assert _as(session, world.author, query, tree=world.tree.id) > 0
        assert _as(session, world.other_author, query, tree=world.tree.id) == 0
    query = "SELECT count(*) FROM analytics_platform_periods"
    assert _as(session, world.admin, query) > 0
    assert _as(session, world.author, query) == 0
    assert _as(session, world.admin, "SELECT count(*) FROM analytics_platform_events") > 0
    assert _as(session, world.author, "SELECT count(*) FROM analytics_platform_events") == 0


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE analytics_enrolments SET progress_percent = 0",
        "DELETE FROM analytics_tree_events",
        "UPDATE analytics_skill_counts SET completed = 0",
        "UPDATE analytics_fold_state SET folded_through = 0",
        # the time-to-complete snapshot (0017): read, never written, by the API role
        "UPDATE analytics_skill_times SET completed = 0",
        "DELETE FROM analytics_time_snapshots",
        "INSERT INTO analytics_time_snapshots (skill_tree_id) VALUES ('x')",
        "SELECT analytics_skill_times_check()",
    ],
)
def test_the_api_role_cannot_write_through_analytics(
    session: Session, world: World, statement: str
) -> None:
    act_as_learner(session, world.admin.id)
    with pytest.raises(ProgrammingError, match="permission denied"), session.begin_nested():
        session.execute(text(statement))
    act_as_owner(session)


def test_median_pace_is_an_aggregate_callable_by_learners(session: Session, world: World) -> None:
    act_as_learner(session, world.learners["l1"].id)
    # Under 5 enrolments the median says nothing (it would reveal another learner's pace).
    median = session.execute(
        text("SELECT analytics_median_pace(:tree, now())"), {"tree": world.tree.id}
    ).scalar_one()
    act_as_owner(session)
    assert median is None
