"""Read replicas (DATABASE_REPLICA_URL): where a read that tolerates lag is sent.

A `ReplicaSet` holds an engine per streaming replica and a thread that probes them every
REPLICA_CHECK_INTERVAL_MS. Each probe notes the time, reads the primary's WAL insert position
(`pg_current_wal_insert_lsn()`), then each replica's replay position
(`pg_last_wal_replay_lsn()`). A replica has replayed everything that was committed on the
primary before time `s` when its replay position has reached the primary's position read at
`s`: its `fresh_as_of` is the latest such probe time, and its lag is `now - fresh_as_of`. An
idle primary whose position the replica has reached gives a lag of one probe interval at most,
not the age of the last transaction.

A read goes to a replica (round robin) when the replica answered its last probe, is still in
recovery, lags at most REPLICA_MAX_LAG_MS, and, for a signed-in caller, is fresh as of the end
of that caller's last write (`wrote`: read-your-writes by time); otherwise to the primary. A
replica that refuses a connection is marked down at once (`handle_error`), before its next
probe. Nothing of this runs without DATABASE_REPLICA_URL: `replica_set` is then None.

Whose writes: this process's always (its monotonic clock, exact). With REDIS_URL, every API
process's (`SharedWrites`: each write's time on the wall clock, kept in Redis as long as it can
matter, i.e. REPLICA_MAX_LAG_MS and two probes: an older write is replayed on every replica
that serves at all), so a learner whose next request lands on another worker still reads their
own write. Exact between the processes of one machine (one clock); across machines, up to their
clocks' difference. While Redis fails (and for as long as a write missed then could matter), a
signed-in caller's lag-tolerant reads go to the primary: never a replica that may be behind the
caller's own write.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import redis
from sqlalchemy import Engine, event, make_url, text
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import SQLAlchemyError

from skilltree.cache.outage import PAUSE_AFTER_FAILURE, RedisOutage, redis_client
from skilltree.config import Pooler, Settings
from skilltree.db.session import create_db_engine, describe_url

logger = logging.getLogger(__name__)

PRIMARY_POSITION_SQL = "SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn"
REPLICA_POSITION_SQL = (
    "SELECT pg_is_in_recovery(), coalesce(pg_last_wal_replay_lsn() - '0/0'::pg_lsn, 0)"
)
"""Positions as numbers of bytes (`pg_lsn - pg_lsn` is numeric), to compare in Python."""
SNAPSHOT = "REPEATABLE READ"
"""The isolation of every transaction on a replica."""
ON_REPLICA = "skilltree.session.on_replica"
"""session.info key, True on a session that reads a replica (nothing may be written there)."""


@dataclass
class Replica:
    """One replica: its engine and what the last probes found."""

    name: str
    engine: Engine
    up: bool = False
    """Whether it answered the last probe as a server in recovery."""
    fresh_as_of: float | None = None
    """The latest probe time (monotonic) before which everything committed on the primary had
    been replayed here; None until a probe finds one."""
    replayed: int = 0
    """Its replay position at the last probe (bytes)."""
    fresh_as_of_wall: float | None = None
    """`fresh_as_of` on the wall clock (time.time()), to compare with other processes' writes."""

    def lag(self, now: float) -> float:
        """Seconds its data is behind the primary's, as of the probes (inf when unknown)."""
        return float("inf") if self.fresh_as_of is None else max(0.0, now - self.fresh_as_of)


@dataclass
class ReplicaSet:
    """The primary's engine, the replicas' and the probe thread (`start`, `stop`)."""

    primary: Engine
    replicas: list[Replica]
    max_lag: float
    """Seconds a replica may lag and still serve reads."""
    interval: float
    """Seconds between probes."""
    shared: SharedWrites | None = None
    """Every process's writes (REDIS_URL), or None: this process's only."""
    _positions: deque[tuple[float, float, int]] = field(default_factory=deque)
    _last_write: dict[str, float] = field(default_factory=dict)
    _turn: itertools.count[int] = field(default_factory=itertools.count)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    # ---- routing ---------------------------------------------------------------------------

    def engine_for(self, learner: str | None = None) -> Engine:
        """Where a read that tolerates lag goes: a usable replica (for `learner`, one that has
        replayed their last write), else the primary."""
        now = time.monotonic()
        since = self._last_write.get(learner) if learner is not None else None
        usable = [
            replica
            for replica in self.replicas
            if replica.up
            and replica.fresh_as_of is not None
            and now - replica.fresh_as_of <= self.max_lag
            and (since is None or replica.fresh_as_of >= since)
        ]
        if usable and learner is not None and self.shared is not None:
            # Another process's write: on the wall clock (inf: not known, so none is safe).
            since_wall = self.shared.last_write(learner)
            if since_wall is not None:
                usable = [r for r in usable if (r.fresh_as_of_wall or 0.0) >= since_wall]
        if not usable:
            return self.primary
        return usable[next(self._turn) % len(usable)].engine

    def wrote(self, learner: str) -> None:
        """`learner`'s write has just committed on the primary: their reads stay there until a
        replica has replayed it (in every process, with SharedWrites)."""
        self._last_write[learner] = time.monotonic()
        if self.shared is not None:
            self.shared.wrote(learner, time.time(), self.max_lag + 2 * self.interval)

    # ---- probing ---------------------------------------------------------------------------

    def probe(self) -> None:
        """Read the primary's position, then each replica's, and update what routing knows."""
        started, started_wall = time.monotonic(), time.time()
        try:
            with self.primary.connect() as conn:
                position = int(conn.execute(text(PRIMARY_POSITION_SQL)).scalar_one())
        except SQLAlchemyError:
            position = None  # the primary's own failures are the requests' to report
        if position is not None:
            self._positions.append((started, started_wall, position))
        for replica in self.replicas:
            self._probe_replica(replica)
        self._forget_old(time.monotonic())

    def _probe_replica(self, replica: Replica) -> None:
        try:
            with replica.engine.connect() as conn:
                in_recovery, replayed = conn.execute(text(REPLICA_POSITION_SQL)).one()
        except SQLAlchemyError:
            replica.up = False
            return
        replica.up = bool(in_recovery)  # a promoted replica has left the primary's timeline
        replica.replayed = int(replayed)
        for at, at_wall, position in reversed(self._positions):
            if position <= replica.replayed:
                if replica.fresh_as_of is None or at > replica.fresh_as_of:
                    replica.fresh_as_of, replica.fresh_as_of_wall = at, at_wall
                break

    def _forget_old(self, now: float) -> None:
        # Positions older than the bound (and one before them) cannot make a replica usable;
        # nor can writes older than it: a usable replica is fresh as of a later time.
        horizon = now - self.max_lag - 2 * self.interval
        while len(self._positions) > 1 and self._positions[1][0] < horizon:
            self._positions.popleft()
        for learner, at in list(self._last_write.items()):
            if at < horizon:
                self._last_write.pop(learner, None)

    def start(self) -> ReplicaSet:
        """Probe once now, then every `interval` in a daemon thread."""
        self.probe()
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="replica-probe", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.probe()

    def stop(self) -> None:
        """Stop probing and close the replicas' connections."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        for replica in self.replicas:
            replica.engine.dispose()
        if self.shared is not None:
            self.shared.close()

    def lags(self) -> dict[str, tuple[bool, float]]:
        """Each replica's name, whether it is up, and its lag in seconds (GET /metrics)."""
        now = time.monotonic()
        return {replica.name: (replica.up, replica.lag(now)) for replica in self.replicas}


class SharedWrites:
    """When each learner last wrote, in Redis, for every API process's routing (REDIS_URL):
    a key per learner holding the write's wall-clock time, expiring once it no longer matters.
    Never raises: while Redis fails, `last_write` says a write may be unknown (inf)."""

    def __init__(
        self, client: redis.Redis, prefix: str, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.client = client
        self.prefix = prefix
        self._clock = clock
        self._outage = RedisOutage(
            clock, logger, "Redis (read-your-writes)", "signed-in reads go to the primary"
        )
        self._unsure_until = float("-inf")
        self._window = 0.0

    @classmethod
    def from_url(cls, url: str, *, prefix: str, timeout_ms: int) -> SharedWrites:
        """On the Redis at `url`, every connect and read bounded by `timeout_ms`, no retries."""
        client = redis_client(url, timeout_ms)
        return cls(client, prefix)

    def key(self, learner: str) -> str:
        return f"{self.prefix}wrote:{learner}"

    def wrote(self, learner: str, at: float, window: float) -> None:
        """`learner` wrote at wall-clock time `at`; it matters for `window` seconds."""
        self._window = max(self._window, window)
        if self._outage.paused:
            return
        try:
            # A later write's time only (GT): two workers' writes may arrive out of order.
            ttl_ms = max(1, math.ceil(window * 1000))
            pipe = self.client.pipeline(transaction=False)
            pipe.zadd(self.key(learner), {"at": at}, gt=True)
            pipe.pexpire(self.key(learner), ttl_ms)
            pipe.execute()
        except (redis.RedisError, OSError) as exc:
            self._failed(exc)

    def last_write(self, learner: str) -> float | None:
        """When `learner` last wrote through any process (wall clock), None when not lately;
        inf when that cannot be known (Redis failing, or failed within a write's window)."""
        if self._outage.paused or self._clock() < self._unsure_until:
            return math.inf
        try:
            at = self.client.zscore(self.key(learner), "at")
        except (redis.RedisError, OSError) as exc:
            self._failed(exc)
            return math.inf
        return None if at is None else float(at)

    def _failed(self, exc: BaseException) -> None:
        # A write recorded nowhere while Redis failed matters for a window after it recovers.
        self._outage.failed(exc)
        self._unsure_until = self._clock() + self._window + PAUSE_AFTER_FAILURE

    def close(self) -> None:
        self.client.close()


def replica_urls(settings: Settings) -> list[str]:
    """The URLs of DATABASE_REPLICA_URL (comma-separated), in order."""
    return [url.strip() for url in (settings.database_replica_url or "").split(",") if url.strip()]


def replica_name(url: str) -> str:
    """A replica's label (GET /metrics): host and port, never the user or password."""
    parsed = make_url(url)
    host = parsed.host or parsed.query.get("host") or "localhost"
    if isinstance(host, tuple):
        host = host[0]
    return f"{host}:{parsed.port or 5432}"


def create_replica_set(
    primary: Engine,
    urls: list[str],
    *,
    max_lag_ms: int,
    interval_ms: int,
    pooler: Pooler = "none",
    shared: SharedWrites | None = None,
) -> ReplicaSet:
    """A ReplicaSet over `urls` (not started), or ValueError naming a URL given twice."""
    names = [replica_name(url) for url in urls]
    if len(set(names)) != len(names):
        raise ValueError("DATABASE_REPLICA_URL names a replica twice")
    replicas = []
    for name, url in zip(names, urls, strict=True):
        # One snapshot a request (REPEATABLE READ: a read-only transaction never fails for
        # it): replay cannot move what a request read first (the analytics' watermark, say)
        # under its later statements.
        engine = create_db_engine(url, pooler).execution_options(isolation_level=SNAPSHOT)
        replica = Replica(name, engine)
        event.listen(replica.engine, "handle_error", _mark_down(replica))
        replicas.append(replica)
    return ReplicaSet(primary, replicas, max_lag_ms / 1000, interval_ms / 1000, shared)


def replica_set(primary: Engine, settings: Settings) -> ReplicaSet | None:
    """The started ReplicaSet of DATABASE_REPLICA_URL, or None when it is unset."""
    urls = replica_urls(settings)
    if not urls:
        return None
    shared = None
    if settings.redis_url:
        shared = SharedWrites.from_url(
            settings.redis_url,
            prefix=settings.redis_key_prefix,
            timeout_ms=settings.redis_timeout_ms,
        )
    return create_replica_set(
        primary,
        urls,
        max_lag_ms=settings.replica_max_lag_ms,
        interval_ms=settings.replica_check_interval_ms,
        pooler=settings.database_pooler,
        shared=shared,
    ).start()


def _mark_down(replica: Replica) -> Callable[[ExceptionContext], None]:
    def handle_error(context: ExceptionContext) -> None:
        # A refused connection or a dropped one: no more reads until a probe finds it again.
        if context.is_disconnect or context.connection is None:
            replica.up = False

    return handle_error


def describe_replicas(urls: list[str]) -> str:
    """Where the replicas are, for messages (never a password)."""
    return ", ".join(describe_url(url) for url in urls)
