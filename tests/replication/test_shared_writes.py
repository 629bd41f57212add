"""Read-your-writes across API processes (REDIS_URL): a learner whose write went through one
process reads it back through another, even from a replica that has not replayed it yet; while
Redis fails, signed-in reads go to the primary, never to a replica that may be behind."""

from __future__ import annotations

import math
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis

from skilltree.db.replicas import ReplicaSet, SharedWrites, create_replica_set
from skilltree.ports import free_port
from tests.api import bearer
from tests.cache.fixtures import REDIS_URL, TEST_TIMEOUT_MS
from tests.cache.fixtures import redis_client as redis_client
from tests.replication.conftest import Replicated
from tests.replication.test_read_replicas import (
    client,
    learner,
    my_xp,
    paused,
    published_tree,
    until_the_replica_serves,
)


@pytest.fixture
def prefix(redis_client: redis.Redis) -> Iterator[str]:
    """A key prefix of this test's own on the test Redis, its keys deleted afterwards."""
    mine = f"skilltree-test-{secrets.token_hex(4)}:"
    yield mine
    keys = list(redis_client.scan_iter(match=f"{mine}*"))
    if keys:
        redis_client.delete(*keys)


@contextmanager
def process(replicated: Replicated, shared: SharedWrites) -> Iterator[ReplicaSet]:
    """What one API process routes by: its own ReplicaSet (probed when the test says), sharing
    the learners' writes through `shared`."""
    replicas = create_replica_set(
        replicated.primary,
        [replicated.replica_url()],
        max_lag_ms=60_000,
        interval_ms=10,
        shared=shared,
    )
    try:
        yield replicas
    finally:
        replicas.stop()


def shared_writes(prefix: str, url: str = REDIS_URL) -> SharedWrites:
    return SharedWrites.from_url(url, prefix=prefix, timeout_ms=TEST_TIMEOUT_MS)


def test_a_write_through_one_process_is_read_back_through_another(
    replicated: Replicated, prefix: str
) -> None:
    tree, skill_id = published_tree(replicated.primary)
    user, token = learner(replicated.primary)
    other, _ = learner(replicated.primary)
    replicated.caught_up()
    with (
        process(replicated, shared_writes(prefix)) as first,
        process(replicated, shared_writes(prefix)) as second,
        client(replicated.primary, first) as writes,
        client(replicated.primary, second) as reads,
    ):
        until_the_replica_serves(second, user.id)
        with paused(replicated):
            enrolled = writes.post(f"/api/v1/trees/{tree.slug}/enroll", headers=bearer(token))
            assert enrolled.status_code in (200, 201), enrolled.text
            done = writes.post(
                f"/api/v1/skills/{skill_id}/complete",
                json={"method": "MANUAL"},
                headers=bearer(token),
            )
            assert done.status_code == 200, done.text
            second.probe()
            # The second process never saw the write; its replica has not replayed it: the
            # learner's reads through it go to the primary, and show what they did.
            assert second.engine_for(user.id) is replicated.primary
            earned = my_xp(reads, token)
            assert earned > 0
            # Another learner's reads still go to the replica.
            assert second.engine_for(other.id) is not replicated.primary
        replicated.caught_up()
        until_the_replica_serves(second, user.id)  # replayed: the replica serves them again
        assert my_xp(reads, token) == earned


def test_a_later_write_is_never_replaced_by_an_earlier_one(prefix: str) -> None:
    shared = shared_writes(prefix)
    try:
        shared.wrote("maya", 2_000.0, 5.0)
        shared.wrote("maya", 1_000.0, 5.0)  # another process's, arriving late
        assert shared.last_write("maya") == 2_000.0
        assert shared.last_write("someone else") is None
        # Kept only as long as it can matter (the window: lag bound and two probes).
        ttl = shared.client.pttl(shared.key("maya"))
        assert 0 < ttl <= 5_000
    finally:
        shared.close()


def test_while_redis_fails_signed_in_reads_go_to_the_primary(
    replicated: Replicated, prefix: str
) -> None:
    user, _ = learner(replicated.primary)
    replicated.caught_up()
    dead = shared_writes(prefix, f"redis://127.0.0.1:{free_port()}/0")
    with process(replicated, dead) as replicas:
        until_the_replica_serves(replicas)  # anonymous reads: Redis is not asked
        assert dead.last_write(user.id) == math.inf  # a write of theirs may be unknown
        assert replicas.engine_for(user.id) is replicated.primary
        replicas.wrote(user.id)  # recorded nowhere else: never an error for the request
        assert replicas.engine_for() is not replicated.primary
