"""Serving the API: uvicorn in WORKERS processes, the access log off the event loop, and a
shutdown that refuses new connections while the requests in flight finish.

Each worker builds its own app through `APP_FACTORY`, so each has its own engine (connection
pool), thread pool and in-process caches: the workers share nothing but PostgreSQL and Redis.
The caches stay exact across them because every read checks a cached tree document or graph
against the tree's version in the database (catalog.document_cache, graph.tree_graphs): a change
made through one worker is served by every worker from its next read on. Their metrics are the
exception: with several workers each writes them to files in a directory the supervisor hands
them (`shared_metrics`), so that whichever answers GET /metrics sums every worker's.
"""

from __future__ import annotations

import contextlib
import copy
import ctypes
import logging
import multiprocessing
import os
import queue
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine, text
from uvicorn.config import LOGGING_CONFIG, STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess

from skilltree.config import Settings
from skilltree.db.session import POOL_OVERFLOW, POOL_SIZE

APP_FACTORY = "skilltree.serving:worker_app"
"""What each worker imports and calls to build its app."""
ACCESS_LOG_FORMAT = '%(asctime)s [%(process)d] %(client_addr)s "%(request_line)s" %(status_code)s'
"""One line per request: when, which worker (its pid), who, what, and the status."""
CONNECTIONS_PER_WORKER = POOL_SIZE + POOL_OVERFLOW
ACCESS_LOG_CAPACITY = 10_000
"""Access-log lines a worker keeps waiting for its output at most (a few megabytes)."""
CLOSE_TIMEOUT_SECONDS = 5.0
PR_SET_PDEATHSIG = 1
"""Linux's prctl option: the signal a process receives when its parent dies."""
WORKER_HEALTHCHECK_SECONDS = 60
"""A worker that does not answer the supervisor's ping within this is killed and replaced."""


class QueuedAccessLog(logging.Handler):
    """The access log's handler: the event loop formats each line and queues it, a thread of the
    worker writes the lines out (one flush per burst). A slow or stuck reader of the output then
    never holds up requests: past `capacity` lines waiting, new ones are dropped and counted, and
    the count is written once the output moves again."""

    def __init__(self, stream: TextIO | None = None, capacity: int = ACCESS_LOG_CAPACITY) -> None:
        super().__init__()
        self.dropped = 0
        self._counting = threading.Lock()
        self._stream = stream or sys.stdout
        self._lines: queue.Queue[str | None] = queue.Queue(capacity)
        self._writer = threading.Thread(target=self._write, name="access-log", daemon=True)
        self._writer.start()

    def emit(self, record: logging.LogRecord) -> None:
        """Queue the line of `record` (dropped when `capacity` lines already wait)."""
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        try:
            self._lines.put_nowait(line)
        except queue.Full:
            with self._counting:
                self.dropped += 1

    def _write(self) -> None:
        while (line := self._lines.get()) is not None:
            if self.dropped:
                with self._counting:
                    dropped, self.dropped = self.dropped, 0
                self._stream.write(f"{dropped} access-log lines dropped: output too slow\n")
            self._stream.write(line + "\n")
            if self._lines.empty():
                self._stream.flush()
        self._stream.flush()

    def close(self) -> None:
        """Write the lines still queued, then stop the thread (later calls do nothing; a
        stuck output is waited for CLOSE_TIMEOUT_SECONDS at most)."""
        if self._writer.is_alive():
            # A queue still full after the timeout means a stuck output: the stop mark is not
            # queued, and the join below waits CLOSE_TIMEOUT_SECONDS at most for the writer.
            with contextlib.suppress(queue.Full):
                self._lines.put(None, timeout=CLOSE_TIMEOUT_SECONDS)
            self._writer.join(CLOSE_TIMEOUT_SECONDS)
        super().close()


def log_config(access_log: bool) -> dict[str, Any]:
    """uvicorn's logging configuration, with ours for the access log when it is on."""
    config = copy.deepcopy(LOGGING_CONFIG)
    if access_log:
        config["formatters"]["access"] |= {"fmt": ACCESS_LOG_FORMAT, "use_colors": False}
        config["handlers"]["access"] = {"()": QueuedAccessLog, "formatter": "access"}
    return config


def worker_app() -> FastAPI:
    """The app of one worker (uvicorn calls this in each process): its own engine and caches;
    at shutdown, once the last request has been answered, the access log is written out and
    the database connections are closed."""
    from skilltree.app import create_app
    from skilltree.gc_tuning import tune_collector

    _stop_with_the_supervisor()
    app = create_app()
    tune_collector()  # once, with everything the worker keeps for good built
    app_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(served: Any) -> AsyncIterator[Any]:
        async with app_lifespan(served) as state:
            yield state
        for handler in logging.getLogger("uvicorn.access").handlers:
            handler.close()
        if app.state.replicas is not None:
            app.state.replicas.stop()
        app.state.engine.dispose()

    app.router.lifespan_context = lifespan
    return app


def _stop_with_the_supervisor() -> None:
    # A worker whose supervisor is killed outright (SIGKILL, OOM) would go on serving, holding
    # the port, so that the next start fails: on Linux the kernel sends the worker SIGTERM (a
    # graceful stop) when the supervisor dies. Elsewhere, and in a single process, nothing to do.
    supervisor = multiprocessing.parent_process()
    if supervisor is None or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
        return
    if os.getppid() != supervisor.pid:  # it died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


class DrainingWorkers(Multiprocess):
    """uvicorn's supervisor of worker processes, which also closes its own copy of the listening
    socket when it stops: once the workers have closed theirs, a new connection is refused at
    once instead of waiting in the socket's backlog for a process that will never accept it."""

    def terminate_all(self) -> None:
        """Stop listening, then ask every worker to finish its requests and exit."""
        for sock in self.sockets:
            sock.close()
        super().terminate_all()

    def started(self) -> bool:
        """Whether every worker started (none failed while building its app)."""
        return all(process.exitcode != STARTUP_FAILURE for process in self.processes)

    def keep_subprocess_alive(self) -> None:
        """Replace the workers that died, and forget their gauges in GET /metrics."""
        self._forgetting_replaced(super().keep_subprocess_alive)

    def restart_all(self) -> None:
        """Replace every worker (SIGHUP), forgetting the old ones' gauges."""
        self._forgetting_replaced(super().restart_all)

    def _forgetting_replaced(self, replace: Callable[[], None]) -> None:
        from skilltree import metrics

        before = {process.pid for process in self.processes}
        replace()
        for pid in before - {process.pid for process in self.processes}:
            if pid is not None:
                metrics.forget_worker(pid)


def run(settings: Settings, *, host: str, port: int, workers: int) -> bool:
    """Serve until SIGTERM or SIGINT, then drain: stop accepting connections, let the requests
    in flight finish (within SHUTDOWN_TIMEOUT_SECONDS) and exit. False if the app did not start."""
    signal.signal(signal.SIGTERM, _exit_cleanly)
    config = uvicorn.Config(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        log_config=log_config(settings.access_log),
        access_log=settings.access_log,
        timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
        # A worker answers the supervisor's pings once it has imported the CLI again (spawned
        # processes do): seconds on a busy machine, and uvicorn's 5 s then kills and respawns it.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )
    if workers == 1:
        server = uvicorn.Server(config)
        server.run()
        return server.started
    with shared_metrics():
        supervisor = DrainingWorkers(config, sockets=[config.bind_socket()])
        supervisor.run()
        return supervisor.started()


@contextlib.contextmanager
def shared_metrics() -> Iterator[Path]:
    """The directory where the workers write their metrics, for whichever answers GET /metrics
    to sum (prometheus_client's multiprocess mode; skilltree.metrics): PROMETHEUS_MULTIPROC_DIR
    when it is set (it must then be emptied before every start), else a new directory removed
    when the workers have stopped."""
    from skilltree.metrics import MULTIPROCESS_DIR

    configured = os.environ.get(MULTIPROCESS_DIR)
    if configured:
        yield Path(configured)
        return
    directory = Path(tempfile.mkdtemp(prefix="skilltree-metrics-"))
    os.environ[MULTIPROCESS_DIR] = str(directory)
    try:
        yield directory
    finally:
        os.environ.pop(MULTIPROCESS_DIR, None)
        shutil.rmtree(directory, ignore_errors=True)


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    # A single worker re-raises SIGTERM once it has drained (uvicorn restores this handler
    # first): stopping when asked to is a success, exit code 0, as with several workers.
    raise SystemExit(0)


def start_warnings(settings: Settings, engine: Engine, workers: int) -> list[str]:
    """What may go wrong with `workers` processes on this database and Redis, in words."""
    found = []
    needed = workers * CONNECTIONS_PER_WORKER
    with engine.connect() as conn:
        limit: int = conn.execute(
            text(
                "SELECT current_setting('max_connections')::int"
                " - current_setting('superuser_reserved_connections')::int"
            )
        ).scalar_one()
    if needed > limit:
        found.append(
            f"{workers} workers may open {needed} database connections"
            f" ({CONNECTIONS_PER_WORKER} each), more than the server accepts"
            f" (max_connections less superuser_reserved_connections: {limit}): lower WORKERS,"
            " raise max_connections or connect through PgBouncer (docs/operations.md)"
        )
    if workers > 1 and not settings.redis_url:
        found.append(
            f"without REDIS_URL each of the {workers} workers counts failed sign-ins on its own,"
            f" so a client may try up to {workers} times LOGIN_FAILURES_PER_ACCOUNT"
            " (docs/security.md)"
        )
    return found
