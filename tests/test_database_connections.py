"""The engine replaces pooled connections the server has dropped, before a request uses one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from skilltree.app import create_app
from skilltree.db.session import create_db_engine


@pytest.fixture
def app_engine(engine: Engine) -> Iterator[Engine]:
    """An engine of its own on the test database, as `skilltree serve` makes one."""
    own = create_db_engine(engine.url.render_as_string(hide_password=False))
    yield own
    own.dispose()


def pooled_pids(engine: Engine, count: int) -> list[int]:
    """The server pids of `count` connections, left in `engine`'s pool."""
    with ExitStack() as stack:
        connections = [stack.enter_context(engine.connect()) for _ in range(count)]
        return [int(c.execute(text("SELECT pg_backend_pid()")).scalar_one()) for c in connections]


def terminate(engine: Engine, pids: list[int]) -> None:
    """End the server side of `pids` (as a restart or an administrator does), waiting for it."""
    with engine.connect() as admin:
        ended = admin.execute(
            text("SELECT bool_and(pg_terminate_backend(pid, 10000)) FROM unnest(:pids) pid"),
            {"pids": pids},
        ).scalar_one()
    assert ended


@pytest.mark.parametrize("url", ["/api/v1/trees", "/health"])
def test_requests_right_after_the_server_dropped_every_pooled_connection_succeed(
    engine: Engine, app_engine: Engine, url: str
) -> None:
    with TestClient(create_app(app_engine), raise_server_exceptions=False) as client:
        assert client.get(url).status_code == 200
        pids = pooled_pids(app_engine, 3)
        terminate(engine, pids)
        for _ in range(4):
            response = client.get(url)
            assert response.status_code == 200, response.text
    assert not set(pids) & set(pooled_pids(app_engine, 3))


def test_healthy_pooled_connections_are_kept(app_engine: Engine) -> None:
    with TestClient(create_app(app_engine)) as client:
        assert client.get("/api/v1/trees").status_code == 200
        before = set(pooled_pids(app_engine, 3))
        for _ in range(4):
            assert client.get("/api/v1/trees").status_code == 200
        assert set(pooled_pids(app_engine, 3)) == before
