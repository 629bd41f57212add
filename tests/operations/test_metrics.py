"""GET /metrics: what it counts, with labels of bounded cardinality, in one process and summed
over several workers."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from skilltree.app import create_app
from skilltree.cli import app as cli
from skilltree.db.session import CountingQueuePool
from skilltree.db.standby import TEST_REPLICATION_NAMES
from skilltree.metrics import REGISTRY, count_events_after_commit
from skilltree.models import UserRole
from skilltree.serving import CONNECTIONS_PER_WORKER
from tests import databases
from tests.committed import committed_rows
from tests.factories import make_category, make_person, make_skill, make_tree
from tests.operations.conftest import AUTHORIZED, Series, series, value
from tests.test_workers import STARTUP_TIMEOUT, Served, started

TREE_ROUTE = "/api/v1/trees/{slug}"


def scrape(client: TestClient) -> Series:
    response = client.get("/metrics", headers=AUTHORIZED)
    assert response.status_code == 200, response.text
    return series(response.text)


def routes(found: Series) -> set[str]:
    return {
        dict(labels)["route"] for name, labels in found if name == "skilltree_http_requests_total"
    }


def test_a_thousand_slugs_are_one_route_and_the_series_stay_bounded(
    client: TestClient, metrics_token: str
) -> None:
    for n in range(10):
        assert client.get(f"/api/v1/trees/no-such-tree-{n}").status_code == 404
    before = scrape(client)
    for n in range(10, 1_000):
        assert client.get(f"/api/v1/trees/no-such-tree-{n}").status_code == 404
    after = scrape(client)

    counted = {"method": "GET", "route": TREE_ROUTE, "status": "404"}
    assert (
        value(after, "skilltree_http_requests_total", **counted)
        - value(before, "skilltree_http_requests_total", **counted)
        == 990
    )
    assert not any("no-such-tree" in route for route in routes(after))
    # Only the scrape's own series may be new (its count at its status): nothing per slug.
    assert len(after) - len(before) <= 20
    buckets = [k for k in after if k[0] == "skilltree_http_request_duration_seconds_bucket"]
    assert {dict(labels)["route"] for _, labels in buckets} == routes(after)


def test_unknown_paths_and_methods_fold_into_one_label_each(
    client: TestClient, metrics_token: str
) -> None:
    for n in range(50):
        client.get(f"/nowhere/{n}")
        client.request(f"X{n}", "/api/v1/trees")
    found = scrape(client)
    assert "unmatched" in routes(found)
    assert not any(r.startswith("/nowhere") for r in routes(found))
    methods = {
        dict(labels)["method"] for name, labels in found if name.startswith("skilltree_http")
    }
    assert not any(m.startswith("X") for m in methods)
    assert (
        value(
            found,
            "skilltree_http_requests_total",
            method="other",
            route="/api/v1/trees",
            status="405",
        )
        >= 50
    )


def test_the_pool_gauges_count_connections_in_use(
    client: TestClient, metrics_token: str, engine: Engine
) -> None:
    # The test's own transaction holds one of the engine's connections.
    found = scrape(client)
    assert value(found, "skilltree_db_pool_connections_in_use") >= 1
    assert value(found, "skilltree_db_pool_capacity") >= engine.pool.size()
    assert value(found, "skilltree_db_pool_waiting") == 0


def test_a_caller_waiting_for_a_connection_is_counted(engine: Engine) -> None:
    small = create_engine(
        engine.url, poolclass=CountingQueuePool, pool_size=1, max_overflow=0, pool_timeout=60
    )
    pool = small.pool
    assert isinstance(pool, CountingQueuePool)
    got = threading.Event()

    def wait_for_one() -> None:
        with small.connect():
            got.set()

    try:
        with small.connect():
            assert pool.waiting == 0  # an idle connection was there, or one could be opened
            waiter = threading.Thread(target=wait_for_one)
            waiter.start()
            polls = threading.Event()
            for _ in range(6000):  # poll, up to 60 s, until the thread waits for the pool
                if pool.waiting:
                    break
                polls.wait(0.01)
            assert (pool.waiting, got.is_set()) == (1, False)
        waiter.join(60)
        assert (got.is_set(), pool.waiting) == (True, 0)
    finally:
        small.dispose()


def test_cache_hits_and_misses_per_cache(engine: Engine, metrics_token: str) -> None:
    with committed_rows(engine) as session:
        tree = make_tree(session, make_category(session))
        skill = make_skill(session, tree)
        session.commit()
        with TestClient(create_app(engine)) as client:
            before = scrape(client)
            for _ in range(3):
                assert client.get(f"/api/v1/trees/{tree.slug}").status_code == 200
            # The document's build keeps the tree's graph too (the same statement reads it):
            # the prerequisites find it there.
            assert client.get(f"/api/v1/skills/{skill.id}/prerequisites").status_code == 200
            after = scrape(client)

    def delta(cache: str, result: str) -> float:
        labels = {"cache": cache, "result": result}
        return value(after, "skilltree_cache_lookups_total", **labels) - value(
            before, "skilltree_cache_lookups_total", **labels
        )

    # The first read builds the document and keeps it, the next two are served from it.
    assert (delta("tree_documents", "miss"), delta("tree_documents", "hit")) == (1, 2)
    assert (delta("tree_graphs", "miss"), delta("tree_graphs", "hit")) == (0, 1)


def test_committed_progress_events_are_counted_by_kind(engine: Engine, metrics_token: str) -> None:
    with committed_rows(engine) as session:
        learner = make_person(session, UserRole.LEARNER)
        tree = make_tree(session, make_category(session))
        skill = make_skill(session, tree)
        session.commit()
        with TestClient(create_app(engine)) as client:
            before = scrape(client)
            enrolled = client.post(f"/api/v1/trees/{tree.slug}/enroll", headers=learner.headers)
            assert enrolled.status_code == 200, enrolled.text
            completed = client.post(
                f"/api/v1/skills/{skill.id}/complete", json={}, headers=learner.headers
            )
            assert completed.status_code == 200, completed.text
            again = client.post(
                f"/api/v1/skills/{skill.id}/complete", json={}, headers=learner.headers
            )
            assert again.status_code in {200, 409}  # nothing new either way
            after = scrape(client)

    def delta(kind: str) -> float:
        return value(after, "skilltree_progress_events_total", kind=kind) - value(
            before, "skilltree_progress_events_total", kind=kind
        )

    assert (delta("ENROLL"), delta("COMPLETE")) == (1, 1)
    assert delta("ACHIEVEMENT") == len(completed.json()["achievements"])


def test_events_of_a_rolled_back_transaction_are_not_counted(engine: Engine) -> None:
    def skips() -> float:
        return REGISTRY.get_sample_value("skilltree_progress_events_total", {"kind": "SKIP"}) or 0

    before = skips()
    with Session(engine) as session:
        session.execute(text("SELECT 1"))
        count_events_after_commit(session, [("SKIP", 3)])
        session.rollback()
    assert skips() == before
    with Session(engine) as session:
        session.execute(text("SELECT 1"))
        count_events_after_commit(session, [("SKIP", 2)])
        session.commit()
    assert skips() == before + 2


@pytest.fixture
def no_job_runs(engine: Engine) -> Iterator[None]:
    """The test database's job_runs emptied before the test (earlier tests ran the commands,
    which commit to it) and after it."""
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM job_runs"))
    yield
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM job_runs"))


def test_each_background_job_says_when_it_last_succeeded(
    engine: Engine, metrics_token: str, no_job_runs: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with TestClient(create_app(engine)) as client:
        assert (
            value(scrape(client), "skilltree_job_last_success_timestamp_seconds", job="fold") == 0
        )
        databases.forget_engine()
        monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
        try:
            for command in (
                ["analytics", "fold"],
                ["analytics", "refresh-times"],
                ["db", "housekeeping"],
            ):
                result = CliRunner().invoke(cli, command)
                assert result.exit_code == 0, result.output
        finally:
            databases.forget_engine()
        with engine.connect() as conn:
            now = conn.execute(text("SELECT extract(epoch FROM now())::float8")).scalar_one()
        found = scrape(client)
    for job in ("fold", "refresh-times", "housekeeping"):
        at = value(found, "skilltree_job_last_success_timestamp_seconds", job=job)
        assert now - 600 < at <= now, job
        assert value(found, "skilltree_job_last_success_duration_seconds", job=job) >= 0
    # No replica streams from the test server (but the read-replica tests' own, or their
    # pg_basebackup, perhaps running at the same time in another process): no other series.
    assert not any(
        name.startswith("skilltree_replication_lag")
        and dict(labels)["replica"] not in TEST_REPLICATION_NAMES
        for name, labels in found
    )


def test_several_workers_each_answer_with_every_workers_counts(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    settings = {
        "DATABASE_URL": url,
        "ACCESS_LOG": "true",
        "REDIS_URL": None,
        "METRICS_TOKEN": AUTHORIZED["Authorization"].removeprefix("Bearer "),
        "PROMETHEUS_MULTIPROC_DIR": None,
    }
    with started(Served("serve", 2, settings), 2) as served:
        workers = served.connection_per_worker(2)  # one /health on each worker, or more
        for connection in workers.values():
            for _ in range(5):
                status, _, _ = served.call(connection, "GET", "/ready")
                assert status == 200
        seen = []
        for connection in workers.values():
            connection.request("GET", "/metrics?probe=scrape", headers=AUTHORIZED)
            response = connection.getresponse()
            assert response.status == 200
            found = series(response.read().decode())
            seen.append(
                value(
                    found,
                    "skilltree_http_requests_total",
                    method="GET",
                    route="/ready",
                    status="200",
                )
            )
            # Both workers' pools, summed (the supervisor has none).
            assert value(found, "skilltree_db_pool_capacity") == 2 * CONNECTIONS_PER_WORKER
        assert seen == [10, 10]  # each worker's scrape sums both workers' requests

        # A worker killed outright is replaced: its counts still count, its gauges are gone.
        killed = next(iter(workers))
        os.kill(killed, signal.SIGKILL)
        # The supervisor looks every half second; a loaded machine may keep it waiting longer.
        served.wait_for(rf"Child process \[{killed}\] died", STARTUP_TIMEOUT)
        served.wait_for("Application startup complete", STARTUP_TIMEOUT)
        # A new connection (the kept-alive ones may have timed out meanwhile): either worker.
        scraper = served.connect()
        scraper.request("GET", "/metrics?probe=after", headers=AUTHORIZED)
        response = scraper.getresponse()
        assert response.status == 200
        found = series(response.read().decode())
        assert value(found, "skilltree_db_pool_capacity") == 2 * CONNECTIONS_PER_WORKER
        ready = {"method": "GET", "route": "/ready", "status": "200"}
        assert value(found, "skilltree_http_requests_total", **ready) == 10
