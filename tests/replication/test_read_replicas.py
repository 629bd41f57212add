"""Read replicas on a real streaming replica (tests/replication/conftest.py): lag-tolerant reads
go to it, a learner's own writes are read back from the primary until the replica has replayed
them, and a replica that is down or lags past the bound serves nothing."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from skilltree.app import create_app
from skilltree.cli import app as cli
from skilltree.db.pgbouncer import PgBouncer, pgbouncer_binary
from skilltree.db.replicas import ReplicaSet, create_replica_set, replica_name
from skilltree.db.standby import TEST_REPLICA_NAME
from skilltree.metrics import exposition
from skilltree.models import SkillTree, User, UserRole
from skilltree.ports import free_port
from tests import databases
from tests.api import bearer
from tests.factories import make_category, make_skill, make_token, make_tree, make_user
from tests.operations.conftest import AUTHORIZED, series, value
from tests.replication.conftest import Replicated
from tests.services import service_missing

pytestmark = pytest.mark.usefixtures("metrics_token")


@contextmanager
def routed(replicated: Replicated, *urls: str, max_lag_ms: int = 60_000) -> Iterator[ReplicaSet]:
    """A ReplicaSet over `urls` (the test's replica by default) that probes only when the test
    calls `probe()`, so that each routing decision follows from what the test did."""
    replicas = create_replica_set(
        replicated.primary,
        list(urls) or [replicated.replica_url()],
        max_lag_ms=max_lag_ms,
        interval_ms=10,
    )
    try:
        yield replicas
    finally:
        replicas.stop()


@contextmanager
def client(primary: Engine, replicas: ReplicaSet) -> Iterator[TestClient]:
    with TestClient(create_app(primary, replicas)) as answering:
        yield answering


@contextmanager
def paused(replicated: Replicated) -> Iterator[None]:
    replicated.pause_replay()
    try:
        yield
    finally:
        replicated.resume_replay()


def until_the_replica_serves(replicas: ReplicaSet, learner: str | None = None) -> None:
    """Probe until reads (`learner`'s) go to a replica: on a primary that keeps writing (other
    tests' databases share the server), a probe may read a position the replica reaches a moment
    later; the next probes place it."""
    deadline = time.monotonic() + 60
    while replicas.engine_for(learner) is replicas.primary:
        assert time.monotonic() < deadline, f"no replica serves: {replicas.lags()}"
        replicas.probe()


def published_tree(primary: Engine) -> tuple[SkillTree, str]:
    with Session(primary, expire_on_commit=False) as session:
        tree = make_tree(session, make_category(session))
        skill = make_skill(session, tree)
        session.commit()
        return tree, skill.id


def learner(primary: Engine) -> tuple[User, str]:
    with Session(primary, expire_on_commit=False) as session:
        user = make_user(session)
        token = make_token(session, user)
        session.commit()
        return user, token


def rename(primary: Engine, tree: SkillTree, name: str) -> None:
    with Session(primary) as session:
        session.get_one(SkillTree, tree.id).name = name
        session.commit()


def tree_name(api: TestClient, slug: str, headers: dict[str, str] | None = None) -> str:
    answer = api.get(f"/api/v1/trees/{slug}", headers=headers or {})
    assert answer.status_code == 200, answer.text
    name: str = answer.json()["name"]
    return name


def my_xp(api: TestClient, token: str) -> int:
    answer = api.get("/api/v1/leaderboard?limit=100", headers=bearer(token))
    assert answer.status_code == 200, answer.text
    me = answer.json()["me"]
    return int(me["totalXp"]) if me else 0


def xp_on_board(api: TestClient, username: str) -> int:
    answer = api.get("/api/v1/leaderboard?limit=100")
    assert answer.status_code == 200, answer.text
    found = [e["totalXp"] for e in answer.json()["entries"] if e["username"] == username]
    return int(found[0]) if found else 0


def test_anonymous_catalog_reads_come_from_the_replica_signed_in_ones_from_the_primary(
    replicated: Replicated,
) -> None:
    tree, _ = published_tree(replicated.primary)
    _, token = learner(replicated.primary)
    replicated.caught_up()
    with routed(replicated) as replicas, client(replicated.primary, replicas) as api:
        until_the_replica_serves(replicas)
        assert tree_name(api, tree.slug) == tree.name
        with paused(replicated):
            rename(replicated.primary, tree, "Renamed on the primary")
            replicas.probe()  # behind now, but well within the bound
            assert replicas.engine_for() is not replicated.primary
            # Anonymous: the replica, which has not replayed the rename.
            assert tree_name(api, tree.slug) == tree.name
            # Signed in, the catalog shows the caller's progress: always the primary.
            assert tree_name(api, tree.slug, bearer(token)) == "Renamed on the primary"
        replicated.caught_up()
        assert tree_name(api, tree.slug) == "Renamed on the primary"


def test_a_learners_reads_after_their_own_write_come_from_the_primary_until_replayed(
    replicated: Replicated,
) -> None:
    tree, skill_id = published_tree(replicated.primary)
    user, token = learner(replicated.primary)
    replicated.caught_up()
    with routed(replicated) as replicas, client(replicated.primary, replicas) as api:
        until_the_replica_serves(replicas, user.id)  # no write of theirs yet
        with paused(replicated):
            enrolled = api.post(f"/api/v1/trees/{tree.slug}/enroll", headers=bearer(token))
            assert enrolled.status_code in (200, 201), enrolled.text
            done = api.post(
                f"/api/v1/skills/{skill_id}/complete",
                json={"method": "MANUAL"},
                headers=bearer(token),
            )
            assert done.status_code == 200, done.text
            replicas.probe()
            # Their own XP, right after the completion: read from the primary.
            assert replicas.engine_for(user.id) is replicated.primary
            earned = my_xp(api, token)
            assert earned > 0
            # Anyone else reads the leaderboard from the replica, which has not replayed it.
            assert replicas.engine_for() is not replicated.primary
            assert xp_on_board(api, user.username) == 0
        replicated.caught_up()
        # Replayed: their reads go to the replica again, and it shows what they did.
        until_the_replica_serves(replicas, user.id)
        assert my_xp(api, token) == earned
        assert xp_on_board(api, user.username) == earned


def test_the_funnel_is_read_from_a_replica_in_one_snapshot(replicated: Replicated) -> None:
    """The funnel reads the aggregates' watermark, then the aggregates and the events after it:
    on a replica without a lock (migration 0050) and without folding, as of the replica's
    replay, and the same figures as the primary's once it has caught up."""
    tree, skill_id = published_tree(replicated.primary)
    _, token = learner(replicated.primary)
    with Session(replicated.primary, expire_on_commit=False) as session:
        admin = make_user(session, role=UserRole.ADMIN)
        admin_token = make_token(session, admin)
        session.commit()
    replicated.caught_up()
    path = f"/api/v1/analytics/trees/{tree.slug}/funnel"
    with routed(replicated) as replicas, client(replicated.primary, replicas) as api:
        until_the_replica_serves(replicas, admin.id)
        before = api.get(path, headers=bearer(admin_token))
        assert before.status_code == 200, before.text
        assert before.json()["enrolments"] == 0
        with paused(replicated):
            assert api.post(f"/api/v1/trees/{tree.slug}/enroll", headers=bearer(token)).is_success
            done = api.post(f"/api/v1/skills/{skill_id}/complete", json={}, headers=bearer(token))
            assert done.status_code == 200, done.text
            assert replicas.engine_for(admin.id) is not replicated.primary
            behind = api.get(path, headers=bearer(admin_token))
            assert behind.status_code == 200, behind.text
            assert behind.json()["enrolments"] == 0  # the replica has not replayed it
        replicated.caught_up()
        until_the_replica_serves(replicas, admin.id)
        after = api.get(path, headers=bearer(admin_token)).json()
        assert after["enrolments"] == 1
        (skill,) = [s for s in after["skills"] if s["skillId"] == skill_id]
        assert skill["completed"] == 1
    with TestClient(create_app(replicated.primary)) as primary_only:
        on_primary = primary_only.get(path, headers=bearer(admin_token)).json()
    assert on_primary["skills"] == after["skills"]


def test_a_replica_lagging_past_the_bound_serves_no_reads(replicated: Replicated) -> None:
    tree, _ = published_tree(replicated.primary)
    replicated.caught_up()
    with (
        routed(replicated, max_lag_ms=200) as replicas,
        client(replicated.primary, replicas) as api,
    ):
        until_the_replica_serves(replicas)
        with paused(replicated):
            rename(replicated.primary, tree, "Renamed while the replica lags")
            name = replica_name(replicated.replica_url())
            # Polled until the probes place it past the bound (200 ms behind the primary).
            while replicas.lags()[name][1] <= 0.2:
                replicas.probe()
            assert replicas.engine_for() is replicated.primary
            assert tree_name(api, tree.slug) == "Renamed while the replica lags"
            scrape = series(api.get("/metrics", headers=AUTHORIZED).text)
            assert value(scrape, "skilltree_replica_up", replica=name) == 1
            assert value(scrape, "skilltree_replica_lag_seconds", replica=name) > 0.2
        replicated.caught_up()
        # The lag grows with time between probes (none runs unless the test probes): polled,
        # probe then scrape, until a scrape finds it back within the bound.
        deadline = time.monotonic() + 60
        while True:
            until_the_replica_serves(replicas)
            scrape = series(api.get("/metrics", headers=AUTHORIZED).text)
            if value(scrape, "skilltree_replica_lag_seconds", replica=name) <= 0.2:
                break
            assert time.monotonic() < deadline, replicas.lags()


def test_a_replica_that_is_down_serves_no_reads(replicated: Replicated) -> None:
    tree, _ = published_tree(replicated.primary)
    nowhere = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/{replicated.database}"
    with routed(replicated, nowhere) as replicas, client(replicated.primary, replicas) as api:
        replicas.probe()
        assert replicas.engine_for() is replicated.primary
        assert tree_name(api, tree.slug) == tree.name
        scrape = series(api.get("/metrics", headers=AUTHORIZED).text)
        assert value(scrape, "skilltree_replica_up", replica=replica_name(nowhere)) == 0


def test_of_two_replicas_one_down_the_other_serves(replicated: Replicated) -> None:
    nowhere = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/{replicated.database}"
    with routed(replicated, nowhere, replicated.replica_url()) as replicas:
        until_the_replica_serves(replicas)
        live = replicas.replicas[1].engine
        assert {replicas.engine_for() for _ in range(4)} == {live}


def test_without_replicas_nothing_is_probed_or_routed(replicated: Replicated) -> None:
    app = create_app(replicated.primary)
    assert app.state.replicas is None


def test_behind_pgbouncer_each_learner_reads_the_replica_as_themselves(
    replicated: Replicated,
) -> None:
    # One server connection for every client: the learners' transactions take turns on it, so a
    # setting that outlived its transaction, or a statement prepared on it, would show.
    if pgbouncer_binary() is None:
        service_missing("PgBouncer", "pgbouncer not installed (Debian: apt-get install pgbouncer)")
    people = [learner(replicated.primary) for _ in range(2)]
    replicated.caught_up()
    with PgBouncer(replicated.replica_url(), pool_size=1) as bouncer:
        replicas = create_replica_set(
            replicated.primary,
            [bouncer.url(replicated.database)],
            max_lag_ms=60_000,
            interval_ms=10,
            pooler="pgbouncer",
        )
        try:
            with client(replicated.primary, replicas) as api:
                until_the_replica_serves(replicas)
                for _ in range(8):  # psycopg would prepare from the 5th run of a statement
                    for user, token in people:
                        answer = api.get("/api/v1/leaderboard", headers=bearer(token))
                        assert answer.status_code == 200, answer.text
                        assert answer.json()["me"]["username"] == user.username
                    assert api.get("/api/v1/leaderboard").json()["me"] is None
        finally:
            replicas.stop()


def test_the_primarys_view_of_the_replica_agrees_doctor_and_metrics(
    replicated: Replicated, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the primary says of the replica (pg_stat_replication): `skilltree db doctor` on the
    # primary and GET /metrics' skilltree_replication_lag_* name it alike; on the replica itself
    # the doctor reports its own replay (role `replica`).
    replicated.caught_up()
    primary_url = replicated.primary.url.render_as_string(hide_password=False)
    databases.forget_engine()
    try:
        for url, role, name in (
            (primary_url, "primary", TEST_REPLICA_NAME),
            (replicated.replica_url(), "replica", "this server"),
        ):
            monkeypatch.setenv("DATABASE_URL", url)
            databases.forget_engine()
            result = CliRunner().invoke(
                cli, ["db", "doctor", "--json", "--no-record", "--min-cache-hit-ratio", "0"]
            )
            assert result.exit_code in (0, 1), result.output
            rows = json.loads(result.stdout)["replication"]
            # A set: another module's replica (or another worker's) may be streaming too.
            assert {(r["role"], r["replica"]) for r in rows if r["replica"] == name} == {
                (role, name)
            }
    finally:
        databases.forget_engine()
    scrape = series(exposition(replicated.primary).decode())
    assert (
        "skilltree_replication_lag_bytes",
        frozenset({("replica", TEST_REPLICA_NAME)}),
    ) in scrape


def marked_routes(app: FastAPI) -> dict[str, APIRoute]:
    """The routes marked `replica_reads`, by their whole path template."""
    return {
        str(context.path_format): context.original_route
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
        and hasattr(context.original_route.endpoint, "__skilltree_replica_reads__")
    }


def test_only_reads_are_marked_for_replicas(replicated: Replicated) -> None:
    routes = marked_routes(create_app(replicated.primary))
    assert len(routes) == 19
    assert all(route.methods == {"GET"} for route in routes.values()), routes


def test_every_marked_endpoint_answers_from_a_replica(replicated: Replicated) -> None:
    # A marked endpoint that wrote anything would fail on the replica (read-only transactions):
    # each one, as an admin (who may see every analytics answer), from the replica.
    tree, skill_id = published_tree(replicated.primary)
    with Session(replicated.primary, expire_on_commit=False) as session:
        admin = make_user(session, role=UserRole.ADMIN)
        token = make_token(session, admin)
        session.commit()
    replicated.caught_up()
    with routed(replicated) as replicas, client(replicated.primary, replicas) as api:
        until_the_replica_serves(replicas, admin.id)
        for template in marked_routes(api.app):  # type: ignore[arg-type]
            path = template.replace("{slug}", tree.slug).replace("{skill_id}", skill_id)
            for headers in ({}, bearer(token)):
                answer = api.get(path, params={"q": "skill"}, headers=headers)
                # 404: a skill without a question bank has no item analysis; 401 anonymous.
                assert answer.status_code in (200, 401, 404), (path, answer.text)
        assert replicas.engine_for(admin.id) is not replicated.primary


def test_a_replica_that_goes_away_is_left_at_its_first_refusal(replicated: Replicated) -> None:
    # The replica reached through a PgBouncer of the test's own, which then stops: the request
    # that meets the refusal answers 503, and the next ones read the primary without waiting for
    # a probe.
    if pgbouncer_binary() is None:
        service_missing("PgBouncer", "pgbouncer not installed (Debian: apt-get install pgbouncer)")
    replicated.caught_up()
    bouncer = PgBouncer(replicated.replica_url(), pool_size=2).start()
    try:
        replicas = create_replica_set(
            replicated.primary,
            [bouncer.url(replicated.database)],
            max_lag_ms=60_000,
            interval_ms=10,
            pooler="pgbouncer",
        )
        with client(replicated.primary, replicas) as api:
            until_the_replica_serves(replicas)
            assert api.get("/api/v1/leaderboard").status_code == 200
            bouncer.stop()
            refused = api.get("/api/v1/leaderboard")
            assert refused.status_code == 503, refused.text
            assert refused.headers["Retry-After"] == "1"
            assert replicas.engine_for() is replicated.primary  # no probe since
            assert api.get("/api/v1/leaderboard").status_code == 200
        replicas.stop()
    finally:
        bouncer.stop()
