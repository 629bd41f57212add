"""Redis for the cache tests: the machine's real server, a key prefix of its own per test (keys
deleted afterwards), and servers that fail in the two ways a cache server fails."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator

import pytest
import redis

from skilltree.cache.trees import TreeStore, use_store
from skilltree.catalog import service as catalog_service
from skilltree.graph import service as graph_service
from skilltree.ports import free_port
from tests.services import service_missing

REDIS_URL = os.environ.get("SKILLTREE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TEST_TIMEOUT_MS = 1000
"""Generous: the shared test machine can be slow; the failure tests use the real default."""


@pytest.fixture(scope="session")
def redis_client() -> Iterator[redis.Redis]:
    """A client of the test Redis; without one the test is skipped (failed under
    SKILLTREE_REQUIRE_SERVICES=1)."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=5)
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        client.close()
        service_missing(
            "Redis",
            f"no Redis answers at {REDIS_URL} ({type(exc).__name__}); set "
            "SKILLTREE_TEST_REDIS_URL to use another",
        )
    yield client
    client.close()


@pytest.fixture
def redis_store(redis_client: redis.Redis) -> Iterator[TreeStore]:
    """A store on the test Redis under a key prefix of this test's own, emptied afterwards."""
    prefix = f"skilltree-test-{os.getpid()}-{secrets.token_hex(4)}:"
    store = TreeStore.from_url(REDIS_URL, prefix=prefix, timeout_ms=TEST_TIMEOUT_MS)
    yield store
    store.client.close()
    keys = list(redis_client.scan_iter(match=f"{prefix}*"))
    if keys:
        redis_client.delete(*keys)


def forget_in_process_copies() -> None:
    """Empty this process's document and graph caches (as in a freshly started process)."""
    catalog_service.DOCUMENTS.clear()
    graph_service.GRAPHS.clear()


@pytest.fixture
def installed_store(redis_store: TreeStore) -> Iterator[TreeStore]:
    """`redis_store` as the process's store for the test, in-process caches emptied."""
    forget_in_process_copies()
    previous = use_store(redis_store)
    yield redis_store
    use_store(previous)
    forget_in_process_copies()


@pytest.fixture
def closed_port_url() -> str:
    """A Redis URL on a port where nothing listens (connections are refused)."""
    return f"redis://127.0.0.1:{free_port()}/0"


@pytest.fixture
def silent_server_url() -> Iterator[str]:
    """A Redis URL on a socket that accepts connections and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
