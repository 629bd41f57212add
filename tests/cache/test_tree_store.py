"""Tree documents in Redis: kept per version, forgotten after a commit, and never an error when
Redis is down or silent (the caller reads the database; one warning a minute at most)."""

from __future__ import annotations

import logging
import socket

import pytest
import redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from skilltree.cache import outage, trees
from skilltree.cache.trees import TreeStore
from skilltree.config import Settings


def test_a_document_is_found_only_at_its_version(redis_store: TreeStore) -> None:
    redis_store.put("tree-a", 3, b'{"name":"v3"}')
    assert redis_store.get("tree-a", 3) == b'{"name":"v3"}'
    assert redis_store.get("tree-a", 4) is None
    assert redis_store.get("tree-b", 3) is None


def test_stored_documents_expire(redis_store: TreeStore) -> None:
    redis_store.put("tree-a", 1, b"{}")
    ttl = redis_store.client.ttl(redis_store.key("tree-a"))
    assert 0 < ttl <= trees.TTL_SECONDS


def test_forget_deletes_every_version_of_the_trees_named(redis_store: TreeStore) -> None:
    for version in (1, 2):
        redis_store.put("tree-a", version, b"{}")
    redis_store.put("tree-b", 1, b"{}")
    redis_store.forget(["tree-a"])
    assert redis_store.get("tree-a", 1) is None
    assert redis_store.get("tree-a", 2) is None
    assert redis_store.get("tree-b", 1) == b"{}"


def test_a_tree_is_forgotten_when_the_transaction_commits_and_not_before(
    engine: Engine, installed_store: TreeStore
) -> None:
    installed_store.put("tree-a", 1, b"{}")
    with Session(engine) as session:
        trees.forget_after_commit(session, "tree-a")
        session.connection()  # a transaction to commit
        assert installed_store.get("tree-a", 1) == b"{}"
        session.commit()
    assert installed_store.get("tree-a", 1) is None


def test_a_rolled_back_transaction_forgets_nothing(
    engine: Engine, installed_store: TreeStore
) -> None:
    installed_store.put("tree-a", 1, b"{}")
    with Session(engine) as session:
        trees.forget_after_commit(session, "tree-a")
        session.connection()
        session.rollback()
        session.commit()  # a later commit of the same session: the rolled-back intent is gone
    assert installed_store.get("tree-a", 1) == b"{}"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def failing_store(url: str, clock: Clock) -> TreeStore:
    """A store on `url` with the default timeout and a hand-moved clock."""
    store = TreeStore.from_url(url, prefix="skilltree-test:", timeout_ms=50)
    return TreeStore(store.client, store.prefix, clock=clock)


def warnings_in(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "skilltree.cache"]


def test_a_closed_port_is_a_miss_and_one_warning_a_minute(
    closed_port_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    store = failing_store(closed_port_url, clock)
    caplog.set_level(logging.WARNING, logger="skilltree.cache")
    assert store.get("tree-a", 1) is None
    clock.now += outage.PAUSE_AFTER_FAILURE  # asks Redis again, fails again
    store.put("tree-a", 1, b"{}")
    store.forget(["tree-a"])
    clock.now += outage.PAUSE_AFTER_FAILURE
    assert store.get("tree-a", 1) is None
    assert len(warnings_in(caplog)) == 1
    assert "serving trees from the database" in warnings_in(caplog)[0]
    clock.now += outage.WARNING_INTERVAL
    assert store.get("tree-a", 1) is None
    assert len(warnings_in(caplog)) == 2


class Untouchable:
    """A Redis client that must not be used."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"Redis was asked ({name}) while it should be left alone")


def test_after_a_failure_redis_is_left_alone_for_a_while(closed_port_url: str) -> None:
    clock = Clock()
    store = failing_store(closed_port_url, clock)
    assert store.get("tree-a", 1) is None
    store.client = Untouchable()  # type: ignore[assignment]
    clock.now += outage.PAUSE_AFTER_FAILURE - 0.1
    assert store.get("tree-a", 1) is None
    store.put("tree-a", 1, b"{}")
    store.forget(["tree-a"])


def test_a_server_that_never_answers_is_a_miss_after_one_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """What bounds the wait: every connect and read times out after 50 ms, and a timed-out
    request is not tried again (the server saw one connection)."""
    caplog.set_level(logging.WARNING, logger="skilltree.cache")
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        store = failing_store(f"redis://127.0.0.1:{server.getsockname()[1]}/0", Clock())
        assert store.get("tree-a", 1) is None
        assert "TimeoutError" in warnings_in(caplog)[0]
        server.setblocking(False)
        server.accept()[0].close()
        with pytest.raises(BlockingIOError):  # no second connection waits
            server.accept()
    settings = store.client.connection_pool.connection_kwargs
    assert settings["socket_connect_timeout"] == settings["socket_timeout"] == 0.05


def test_redis_errors_never_escape(redis_store: TreeStore) -> None:
    redis_store.client.set(redis_store.key("tree-a"), b"not a hash")
    assert redis_store.get("tree-a", 1) is None  # WRONGTYPE: a miss
    redis_store.put("tree-a", 1, b"{}")  # WRONGTYPE too: nothing raised
    with pytest.raises(redis.ResponseError):
        redis_store.client.hget(redis_store.key("tree-a"), "1")


def test_the_store_follows_the_settings() -> None:
    assert trees.store_from_settings(Settings(redis_url=None)) is None
    store = trees.store_from_settings(
        Settings(redis_url="redis://127.0.0.1:1/0", redis_key_prefix="p:", redis_timeout_ms=20)
    )
    assert store is not None
    assert store.key("t") == "p:tree:t"
    assert store.client.connection_pool.connection_kwargs["socket_timeout"] == 0.02


def test_a_malformed_redis_url_stops_the_start() -> None:
    with pytest.raises(ValueError, match="scheme"):
        trees.store_from_settings(Settings(redis_url="http://127.0.0.1:6379"))
