"""Tree documents in Redis, shared by every API process: cache-aside, addressed by version.

A document is kept in the hash `<prefix>tree:<tree id>` under the field `<structure_version>`, so a
reader asks for exactly the version the database has just told it (the version is bumped by triggers
on any change to the tree, by any writer: db/schema/graph.sql). A copy of an older version is never
asked for again, whatever was or was not deleted: freshness does not depend on invalidation.
Authoring writes still delete their tree's hash once their transaction has committed
(`forget_after_commit`), so old versions do not linger until the hash expires.

Only committed documents are stored (made by read-only requests), so a version always names one
content. Redis is an accelerator, never a dependency: any failure or timeout (50 ms by default)
makes the caller read the database, logs one warning per minute at most, and leaves Redis alone
for a few seconds so that a dead server costs the next requests nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

import redis
from sqlalchemy.orm import Session

from skilltree.cache.outage import RedisOutage, redis_client
from skilltree.config import Settings, get_settings
from skilltree.db.session import require_listener

logger = logging.getLogger("skilltree.cache")

TTL_SECONDS = 24 * 60 * 60
"""A tree's hash expires a day after its last new version was stored."""


class TreeStore:
    """Tree documents (JSON bytes) in Redis by tree id and structure version; never raises."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        *,
        ttl_seconds: int = TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self._ttl = ttl_seconds
        self._outage = RedisOutage(clock, logger, "Redis cache", "serving trees from the database")

    @classmethod
    def from_url(cls, url: str, *, prefix: str, timeout_ms: int) -> TreeStore:
        """A store on the Redis at `url`, every connect and read bounded by `timeout_ms`, no
        retries (the database is the fallback, not a second try)."""
        client = redis_client(url, timeout_ms)
        return cls(client, prefix)

    def key(self, tree_id: str) -> str:
        """The hash holding tree `tree_id`'s documents, one field per version."""
        return f"{self.prefix}tree:{tree_id}"

    def get(self, tree_id: str, version: int) -> bytes | None:
        """The document of tree `tree_id` at `version`; None when absent or Redis fails."""
        if self.paused:
            return None
        try:
            found = self.client.hget(self.key(tree_id), str(version))
        except (redis.RedisError, OSError) as exc:
            self._failed(exc)
            return None
        return found if isinstance(found, bytes) else None

    def put(self, tree_id: str, version: int, document: bytes) -> None:
        """Keep `document` (committed data only) as tree `tree_id`'s at `version`."""
        if self.paused:
            return
        key = self.key(tree_id)
        try:
            with self.client.pipeline(transaction=False) as pipe:
                pipe.hset(key, str(version), document)
                pipe.expire(key, self._ttl)
                pipe.execute()
        except (redis.RedisError, OSError) as exc:
            self._failed(exc)

    def forget(self, tree_ids: Iterable[str]) -> None:
        """Delete every stored version of these trees."""
        keys = [self.key(tree_id) for tree_id in tree_ids]
        if not keys or self.paused:
            return
        try:
            self.client.delete(*keys)
        except (redis.RedisError, OSError) as exc:
            self._failed(exc)

    @property
    def paused(self) -> bool:
        """Whether Redis failed recently and is left alone for now."""
        return self._outage.paused

    def _failed(self, exc: BaseException) -> None:
        self._outage.failed(exc)


_configured: list[TreeStore | None] = []
_configured_lock = threading.Lock()


def store_from_settings(settings: Settings) -> TreeStore | None:
    """The store REDIS_URL names (None when unset)."""
    if not settings.redis_url:
        return None
    return TreeStore.from_url(
        settings.redis_url, prefix=settings.redis_key_prefix, timeout_ms=settings.redis_timeout_ms
    )


def tree_store() -> TreeStore | None:
    """The process's store: made from the settings on first use, or the one `use_store` set."""
    with _configured_lock:
        if not _configured:
            _configured.append(store_from_settings(get_settings()))
        return _configured[0]


def use_store(store: TreeStore | None) -> TreeStore | None:
    """Make `store` the process's store (None: no Redis); returns the previous one."""
    previous = tree_store()
    with _configured_lock:
        _configured[:] = [store]
    return previous


_PENDING = "skilltree.cache.trees_changed"


def forget_after_commit(session: Session, tree_id: str) -> None:
    """Delete tree `tree_id`'s stored documents once `session`'s transaction commits (nothing
    if it rolls back)."""
    require_listener("after_commit", forget_committed)
    pending: set[str] = session.info.setdefault(_PENDING, set())
    pending.add(tree_id)


def forget_committed(session: Session) -> None:
    """Every session's `after_commit` (skilltree.listeners): what `forget_after_commit` asked."""
    changed: set[str] | None = session.info.pop(_PENDING, None)
    store = tree_store() if changed else None
    if store is not None and changed:
        store.forget(changed)


def drop_pending(session: Session) -> None:
    """Every session's `after_rollback` (skilltree.listeners): nothing changed, nothing to do."""
    session.info.pop(_PENDING, None)
