"""What GET /metrics exposes (Prometheus' text format, through `prometheus_client`).

Every label takes a bounded set of values: requests are counted by route *template*
(`/api/v1/trees/{slug}`, never the path asked for), method (the standard ones, else `other`)
and status; caches by name and hit or miss; progress events by kind. A thousand different slugs
make one series, not a thousand.

Several workers (`skilltree serve --workers N`) count in prometheus_client's multiprocess mode:
the supervisor points PROMETHEUS_MULTIPROC_DIR at a directory of its own before it starts the
workers (serving.py), each worker writes its counters into its own memory-mapped files there, and
whichever worker answers a scrape sums every worker's (gauges of workers that have died are
forgotten: `forget_worker`). Recording a value costs a lock and a write to memory, about a
microsecond; nothing on a request's path reads the database or the files.

What lives in the database (when each background job last succeeded, replication lag) is read
when a scrape asks for it, by `DatabaseCollector`: one short query, not per request.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi.routing import iter_route_contexts
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from skilltree.db.replicas import ReplicaSet
from skilltree.db.session import require_listener

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
"""The variable prometheus_client reads when it is imported: set, every process of the server
writes its values to files in that directory (serving.py sets it for several workers)."""
MULTIPROCESS = bool(os.environ.get(MULTIPROCESS_DIR))
"""Whether this process counts in multiprocess mode (decided, like prometheus_client's own
choice, when the module is imported)."""
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""Prometheus' classic text format, which every Prometheus reads (prometheus_client 0.22 and later
call theirs 1.0.0: the same text while every metric name is a classic one, as ours are)."""
SAMPLE_SECONDS = 1.0
"""How often each worker of several writes its connection pool's gauges down."""

REGISTRY = CollectorRegistry(auto_describe=True)
"""This process's own metrics (in multiprocess mode, the files hold what a scrape shows)."""

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"
"""The route label of a request no route took (a 404 for an unknown path)."""
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "skilltree_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "skilltree_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by method, route template and status.",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
POOL_IN_USE = Gauge(
    "skilltree_db_pool_connections_in_use",
    "Database connections checked out of the API's pools (every worker's, summed).",
    registry=REGISTRY,
    multiprocess_mode="livesum",
)
POOL_WAITING = Gauge(
    "skilltree_db_pool_waiting",
    "Requests waiting for a database connection from the API's pools (every worker's, summed).",
    registry=REGISTRY,
    multiprocess_mode="livesum",
)
POOL_CAPACITY = Gauge(
    "skilltree_db_pool_capacity",
    "Database connections the API's pools may open at most (every worker's, summed).",
    registry=REGISTRY,
    multiprocess_mode="livesum",
)
CACHE_LOOKUPS = Counter(
    "skilltree_cache_lookups",
    "Lookups in each cache of tree documents and graphs, by cache and result (hit or miss).",
    ["cache", "result"],
    registry=REGISTRY,
)
PROGRESS_EVENTS = Counter(
    "skilltree_progress_events",
    "Progress events committed through the API, by kind (ENROLL, START, COMPLETE, SKIP, "
    "ACTIVITY, UNLOCK, ACHIEVEMENT, LEVEL_UP).",
    ["kind"],
    registry=REGISTRY,
)


class CacheCounter:
    """The hit and miss counters of one cache, bound once (a lookup then costs one increment)."""

    def __init__(self, cache: str) -> None:
        self._hit = CACHE_LOOKUPS.labels(cache, "hit")
        self._miss = CACHE_LOOKUPS.labels(cache, "miss")

    def hit(self) -> None:
        """Count a lookup that found what it wanted."""
        self._hit.inc()

    def miss(self) -> None:
        """Count a lookup that did not."""
        self._miss.inc()

    def found(self, found: bool) -> None:
        """Count a lookup: a hit when `found`."""
        (self._hit if found else self._miss).inc()


TREE_DOCUMENTS = CacheCounter("tree_documents")
"""The in-process copies of tree documents (catalog.document_cache)."""
TREE_GRAPHS = CacheCounter("tree_graphs")
"""The in-process copies of trees' graphs (graph.tree_graphs)."""
REDIS_TREES = CacheCounter("redis_tree_documents")
"""Tree documents in Redis (cache.trees), when REDIS_URL is set."""


# ---- requests ---------------------------------------------------------------------------------


def route_templates(app: object) -> dict[int, str]:
    """Each route of `app` (by the identity of the route object a request's scope names: one
    object whatever prefix includes it; routes live as long as their app) with its whole
    template, prefix included."""
    templates: dict[int, str] = {}
    for context in iter_route_contexts(getattr(app, "routes", [])):
        template = context.path_format or context.path or UNMATCHED
        if isinstance(context.original_route, Mount):
            template = f"{context.path}/{{path}}"
        templates.setdefault(id(context.original_route), template)
    return templates


def route_label(scope: Scope, templates: dict[int, str]) -> str:
    """The whole template of the route that took the request (`/api/v1/trees/{slug}`), or
    `unmatched`: never the path itself, whose values are unbounded."""
    route = scope.get("route")
    if route is None:
        return UNMATCHED
    template = templates.get(id(route))
    if template is None:
        templates.update(route_templates(scope.get("app")))
        template = templates.setdefault(id(route), UNMATCHED)
    return template


class RequestMetrics:
    """ASGI middleware counting every HTTP request and timing it, by method, route template and
    status (a request that raised past every handler counts as 500)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._templates: dict[int, str] = {}
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "other"
            count, latency = self._children(method, route_label(scope, self._templates), status)
            count.inc()
            latency.observe(time.perf_counter() - started)

    def _children(self, method: str, route: str, status: int) -> tuple[Any, Any]:
        key = (method, route, status)
        found = self._series.get(key)
        if found is None:
            with self._lock:
                found = self._series.setdefault(
                    key,
                    (
                        REQUESTS.labels(method, route, str(status)),
                        LATENCY.labels(method, route, str(status)),
                    ),
                )
        return found


# ---- the database pool ------------------------------------------------------------------------

_engines: weakref.WeakSet[Engine] = weakref.WeakSet()
_sampler: list[threading.Thread] = []
_sampler_lock = threading.Lock()


def watch_pool(engine: Engine) -> None:
    """Report `engine`'s pool in the pool gauges; with several workers, each writes them down
    every SAMPLE_SECONDS (a thread of its own: nothing on the request path)."""
    _engines.add(engine)
    sample_pools()
    if MULTIPROCESS:
        with _sampler_lock:
            if not _sampler:
                sampler = threading.Thread(target=_sample_forever, name="pool-gauges", daemon=True)
                sampler.start()
                _sampler.append(sampler)


def sample_pools() -> None:
    """Write the watched pools' connections in use, waiters and capacity to the gauges."""
    in_use = waiting = capacity = 0
    for engine in list(_engines):
        pool = engine.pool
        in_use += _number(pool, "checkedout")
        waiting += int(getattr(pool, "waiting", 0))
        capacity += _number(pool, "size") + max(0, int(getattr(pool, "max_overflow", 0)))
    POOL_IN_USE.set(in_use)
    POOL_WAITING.set(waiting)
    POOL_CAPACITY.set(capacity)


def _number(pool: object, method: str) -> int:
    measure = getattr(pool, method, None)
    return int(measure()) if callable(measure) else 0


def _sample_forever() -> None:
    while True:
        time.sleep(SAMPLE_SECONDS)
        sample_pools()


# ---- progress events --------------------------------------------------------------------------

_PENDING_EVENTS = "skilltree.metrics.progress_events"


def count_events_after_commit(session: Session, kinds: Iterable[tuple[str, int]]) -> None:
    """Count these progress events (kind, how many) once `session`'s transaction commits."""
    require_listener("after_commit", count_committed_events)
    pending: dict[str, int] = session.info.setdefault(_PENDING_EVENTS, {})
    for kind, number in kinds:
        if number:
            pending[kind] = pending.get(kind, 0) + number


def count_committed_events(session: Session) -> None:
    """Every session's `after_commit` (skilltree.listeners): count what was pending."""
    pending: dict[str, int] | None = session.info.pop(_PENDING_EVENTS, None)
    for kind, number in (pending or {}).items():
        PROGRESS_EVENTS.labels(kind).inc(number)


def drop_pending_events(session: Session) -> None:
    """Every session's `after_rollback` (skilltree.listeners): nothing happened."""
    session.info.pop(_PENDING_EVENTS, None)


# ---- what the database knows ------------------------------------------------------------------

JOB_RUNS_SQL = """
SELECT job, extract(epoch FROM succeeded_at)::float8, seconds
FROM job_runs ORDER BY job
"""
REPLICATION_SQL = """
SELECT coalesce(nullif(application_name, ''), client_addr::text, pid::text),
       extract(epoch FROM replay_lag)::float8,
       (pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn))::float8
FROM pg_stat_replication
WHERE NOT pg_is_in_recovery()
ORDER BY 1
"""


class DatabaseCollector(Collector):
    """Read at scrape time: when each background job last succeeded (job_runs, written by the
    commands that run them) and how far each streaming replica of the database is behind
    (pg_stat_replication: no replica, no series). A database that does not answer gives
    `skilltree_database_up 0` and nothing else from it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        """The metrics read from the database now."""
        up = GaugeMetricFamily("skilltree_database_up", "Whether the database answered the scrape.")
        last = GaugeMetricFamily(
            "skilltree_job_last_success_timestamp_seconds",
            "When each background job (analytics fold, analytics refresh-times, db housekeeping) "
            "last succeeded, in seconds since the epoch; absent until it first has.",
            labels=["job"],
        )
        took = GaugeMetricFamily(
            "skilltree_job_last_success_duration_seconds",
            "How long each background job's last successful run took.",
            labels=["job"],
        )
        lag = GaugeMetricFamily(
            "skilltree_replication_lag_seconds",
            "How long ago each streaming replica had replayed what the primary has (absent when "
            "there is no replica).",
            labels=["replica"],
        )
        behind = GaugeMetricFamily(
            "skilltree_replication_lag_bytes",
            "How many bytes of WAL each streaming replica has still to replay.",
            labels=["replica"],
        )
        try:
            with self.engine.connect() as conn:
                jobs = conn.execute(text(JOB_RUNS_SQL)).all()
                replicas = conn.execute(text(REPLICATION_SQL)).all()
        except SQLAlchemyError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        for job, at, seconds in jobs:
            last.add_metric([job], at)
            took.add_metric([job], seconds)
        for name, seconds, lag_bytes in replicas:
            lag.add_metric([name], seconds or 0.0)
            if lag_bytes is not None:
                behind.add_metric([name], lag_bytes)
        yield from (last, took, lag, behind)


class ReplicaCollector(Collector):
    """What the answering process's read routing knows of each DATABASE_REPLICA_URL replica
    (db/replicas.py): whether it answered its last probe, and how far its data is behind the
    primary's, as measured by the probes (+Inf until a probe has placed it)."""

    def __init__(self, replicas: ReplicaSet) -> None:
        self.replicas = replicas

    def collect(self) -> Iterator[Metric]:
        """The replicas' state now (no query: the probe thread measured it)."""
        up = GaugeMetricFamily(
            "skilltree_replica_up",
            "Whether each read replica answered its last probe as a server in recovery.",
            labels=["replica"],
        )
        lag = GaugeMetricFamily(
            "skilltree_replica_lag_seconds",
            "How far each read replica's data is behind the primary's, as the answering process "
            "measured it; above REPLICA_MAX_LAG_MS it serves no reads.",
            labels=["replica"],
        )
        for name, (answered, seconds) in sorted(self.replicas.lags().items()):
            up.add_metric([name], 1 if answered else 0)
            lag.add_metric([name], seconds)
        yield from (up, lag)


def exposition(engine: Engine, replicas: ReplicaSet | None = None) -> bytes:
    """Every metric as Prometheus' text format: this process's (or, with several workers, every
    worker's, from their files), the database's, and the read replicas' when there are."""
    sample_pools()
    registry = CollectorRegistry(auto_describe=False)
    if MULTIPROCESS:
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Registered(REGISTRY))
    registry.register(DatabaseCollector(engine))
    if replicas is not None:
        registry.register(ReplicaCollector(replicas))
    return generate_latest(registry)


class _Registered(Collector):
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterable[Metric]:
        return self.registry.collect()


def forget_worker(pid: int) -> None:
    """Drop the gauges of worker `pid`, which has exited (its counters still count); called by
    the supervisor, which set PROMETHEUS_MULTIPROC_DIR after importing this module."""
    if os.environ.get(MULTIPROCESS_DIR):
        mark_process_dead(pid)  # type: ignore[no-untyped-call]
