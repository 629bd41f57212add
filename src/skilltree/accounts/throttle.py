"""Sign-in throttling: failed sign-ins are counted per account and per client address over a
moving window (the `limits` library); past either limit, sign-in answers 429 with Retry-After,
whatever password comes next.

With REDIS_URL the counts live in Redis, shared by every API process; without it, in the process.
Redis failing (down, or slower than REDIS_TIMEOUT_MS) never opens the door: the counting goes on
in the process, with one warning a minute at most, and Redis is left alone for a few seconds so
that a dead server does not cost every sign-in a timeout.

Keys hold no email or name: an account is its user id, or (no such user) a hash of the login
name, so an unknown name is throttled exactly as a real one and the answers tell nothing of
which accounts exist.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from collections.abc import Callable
from typing import TypeVar

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from skilltree.cache.outage import RedisOutage
from skilltree.config import Settings
from skilltree.errors import TooManyAttempts

logger = logging.getLogger("skilltree.accounts")

IPV6_PREFIX = 64
"""An IPv6 client is counted by its /64: one host is commonly given a whole /64."""

_T = TypeVar("_T")


def account_key(user_id: str | None, login_name: str) -> str:
    """The account a sign-in tries: its user's id, or a hash of the (normalised) name it gave."""
    if user_id is not None:
        return f"user:{user_id}"
    return "name:" + hashlib.sha256(login_name.encode()).hexdigest()[:32]


def address_key(host: str | None) -> str | None:
    """The client address a sign-in is counted against (None: unknown, not counted)."""
    if not host:
        return None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host  # not an IP (test clients): counted as given
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/{IPV6_PREFIX}", strict=False))
    return str(address)


class LoginThrottle:
    """Counts of failed sign-ins per account and per address; `check` refuses past a limit."""

    def __init__(
        self,
        storage: Storage,
        *,
        per_account: int,
        per_address: int,
        window_seconds: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limiter = MovingWindowRateLimiter(storage)
        self._local = (
            self._limiter
            if isinstance(storage, MemoryStorage)
            else MovingWindowRateLimiter(MemoryStorage())
        )
        self._account = RateLimitItemPerSecond(per_account, window_seconds, namespace="account")
        self._address = RateLimitItemPerSecond(per_address, window_seconds, namespace="address")
        self._outage = RedisOutage(
            clock, logger, "Redis", "counting failed sign-ins in this process only"
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginThrottle:
        """In Redis when REDIS_URL is set (keys under REDIS_KEY_PREFIX), else in the process."""
        storage: Storage
        if settings.redis_url:
            timeout = settings.redis_timeout_ms / 1000
            storage = RedisStorage(
                settings.redis_url,
                key_prefix=f"{settings.redis_key_prefix}login-failures",
                wrap_exceptions=True,
                socket_connect_timeout=timeout,
                socket_timeout=timeout,
            )
        else:
            storage = MemoryStorage()
        return cls(
            storage,
            per_account=settings.login_failures_per_account,
            per_address=settings.login_failures_per_address,
            window_seconds=settings.login_failure_window_seconds,
        )

    def retry_after(self, *, account: str | None = None, address: str | None = None) -> int:
        """Seconds until the account and the address (those given) may try again (0: now)."""
        waits = [0.0]
        for item, key in self._limits(account, address):
            stats = self._call(lambda limiter: limiter.get_window_stats(item, key))  # noqa: B023
            if stats.remaining <= 0:
                waits.append(stats.reset_time - time.time())
        return max(0, math.ceil(max(waits)))

    def check(self, *, account: str | None = None, address: str | None = None) -> None:
        """TooManyAttempts if the account or the address (those given) failed too often lately."""
        wait = self.retry_after(account=account, address=address)
        if wait > 0:
            raise TooManyAttempts(retry_after=wait)

    def failed(self, *, account: str, address: str | None) -> None:
        """Count a failed sign-in against the account and the address."""
        for item, key in self._limits(account, address):
            self._call(lambda limiter: limiter.hit(item, key))  # noqa: B023

    def succeeded(self, *, account: str) -> None:
        """Forget the account's failures (its address's still count: one could be an attacker's
        own account, signed into between guesses at others)."""
        self._call(lambda limiter: limiter.clear(self._account, account))

    def _limits(self, account: str | None, address: str | None) -> list[tuple[RateLimitItem, str]]:
        keys: list[tuple[RateLimitItem, str]] = []
        if account is not None:
            keys.append((self._account, account))
        if address is not None:
            keys.append((self._address, address))
        return keys

    def _call(self, operation: Callable[[MovingWindowRateLimiter], _T]) -> _T:
        # Redis, unless it failed a moment ago; on failure, the process's own counts.
        if self._limiter is not self._local and not self._outage.paused:
            try:
                return operation(self._limiter)
            except StorageError as exc:
                self._failed(exc.storage_error)
        return operation(self._local)

    def _failed(self, exc: BaseException) -> None:
        self._outage.failed(exc)
