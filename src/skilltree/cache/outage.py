"""Redis is an accelerator, never a dependency: after a failure it is left alone for a moment,
and the log says so at most once a minute (the tree cache and the sign-in throttle alike)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

WARNING_INTERVAL = 60.0
"""Seconds between two warnings about Redis failing, at least."""
PAUSE_AFTER_FAILURE = 5.0
"""Seconds Redis is left alone after a failure: a dead server costs one timeout per pause."""


class RedisOutage:
    """When Redis last failed for one user of it: `paused` while it is left alone, and one
    warning on `logger` per WARNING_INTERVAL saying what happens meanwhile (`instead`)."""

    def __init__(
        self, clock: Callable[[], float], logger: logging.Logger, what: str, instead: str
    ) -> None:
        self._clock = clock
        self._logger = logger
        self._what = what
        self._instead = instead
        self._lock = threading.Lock()
        self._paused_until = float("-inf")
        self._warned_at = float("-inf")

    @property
    def paused(self) -> bool:
        """Whether Redis failed recently and is left alone for now."""
        return self._clock() < self._paused_until

    def failed(self, exc: BaseException) -> None:
        """Redis just failed with `exc`: leave it alone for a while, warn unless done lately."""
        now = self._clock()
        with self._lock:
            self._paused_until = now + PAUSE_AFTER_FAILURE
            warn = now - self._warned_at >= WARNING_INTERVAL
            if warn:
                self._warned_at = now
        if warn:
            self._logger.warning(
                "%s unavailable, %s (next warning in %.0f s at the earliest): %s: %s",
                self._what,
                self._instead,
                WARNING_INTERVAL,
                type(exc).__name__,
                exc,
            )


def redis_client(url: str, timeout_ms: int) -> redis.Redis:
    """A client of the Redis at `url`, every connect and read bounded by `timeout_ms`, with no
    retries (what Redis accelerates has another way, not a second try)."""
    timeout = timeout_ms / 1000
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        health_check_interval=0,
    )
