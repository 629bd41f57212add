"""Engine and unit of work. Services only flush; the caller of `unit_of_work` commits."""

from __future__ import annotations

import select
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection, QueuePool

from skilltree.config import Pooler, Settings, get_settings
from skilltree.errors import DatabaseUnavailable


def sqlalchemy_url(url: str) -> str:
    """`url` with the psycopg 3 driver, whatever PostgreSQL scheme it was given with."""
    parsed = make_url(url)
    if parsed.drivername in {"postgres", "postgresql", "postgresql+psycopg2", "postgresql+psycopg"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def database_url(settings: Settings | None = None) -> str:
    """The configured DATABASE_URL, or the embedded server's (started on demand)."""
    settings = settings or get_settings()
    if settings.database_url:
        return sqlalchemy_url(settings.database_url)
    from skilltree.db.embedded import embedded_url

    return embedded_url(settings.skilltree_data_dir, archiving=settings.embedded_archiving)


def describe_url(url: str) -> str:
    """Where `url` points, for messages: host, port and database, never the password."""
    parsed = make_url(url)
    host = parsed.host or parsed.query.get("host") or "localhost"
    if isinstance(host, tuple):
        host = host[0]
    port = parsed.port or 5432
    return f"host={host} port={port} database={parsed.database}"


POOL_SIZE, POOL_OVERFLOW = 10, 10
"""Connections an engine keeps open, and how many more it may open under load: an API process
holds at most their sum (each worker of `skilltree serve` has its own engine)."""


class CountingQueuePool(QueuePool):
    """SQLAlchemy's QueuePool, which also counts the callers waiting for a connection (GET
    /metrics): those that found no idle one. Taking an idle connection costs one more length
    check of its queue."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._max_overflow_setting = int(kwargs.get("max_overflow", 10))
        self._waiting = 0
        self._waiting_lock = threading.Lock()

    @property
    def waiting(self) -> int:
        """Callers waiting for a connection now (one being opened, or freed by another)."""
        return self._waiting

    @property
    def max_overflow(self) -> int:
        """Connections the pool may open beyond its size."""
        return self._max_overflow_setting

    def _do_get(self) -> ConnectionPoolEntry:
        if self.checkedin():
            return super()._do_get()
        with self._waiting_lock:
            self._waiting += 1
        try:
            return super()._do_get()
        finally:
            with self._waiting_lock:
                self._waiting -= 1


def create_db_engine(url: str, pooler: Pooler | None = None) -> Engine:
    """An engine for `url` (psycopg 3) whose pool replaces the connections the server dropped
    before handing them out (`_refuse_dropped`). `pooler` (by default DATABASE_POOLER) says what
    `url` reaches: behind PgBouncer the connections prepare no statements (`connect_options`)."""
    engine = create_engine(
        sqlalchemy_url(url),
        poolclass=CountingQueuePool,
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
        connect_args=connect_options(pooler or get_settings().database_pooler),
    )
    event.listen(engine, "checkout", _refuse_dropped)
    return engine


def connect_options(pooler: Pooler) -> dict[str, object]:
    """psycopg's connection options for a server reached through `pooler`.

    psycopg prepares a statement on the server once a connection has run it 5 times, and runs it
    by name from then on. PgBouncer in transaction mode hands each transaction whichever server
    connection is free: there the name is unknown ("prepared statement "_pg3_0" does not exist")
    or another client's ("already exists"), and the request fails. So behind it, none (PgBouncer
    before 1.22 cannot carry them; docs/operations.md#pgbouncer). Everything else a request sets
    is local to its transaction (db/rls.py)."""
    return {"prepare_threshold": None} if pooler == "pgbouncer" else {}


def _refuse_dropped(
    dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry, proxy: PoolProxiedConnection
) -> None:
    # A pooled connection is idle, and the server sends nothing on an idle connection unless it
    # is ending it: "terminating connection" then end of file, after a restart, a failover,
    # pg_terminate_backend or an idle timeout. So anything waiting to be read means the
    # connection is not worth using: DisconnectionError makes the pool drop it and hand out a
    # new one, before any statement of the request has run on it. A poll of the socket costs
    # no round trip (pool_pre_ping's SELECT 1 costs one on every checkout: docs/operations.md).
    if dbapi_connection.closed or _readable(dbapi_connection.fileno()):
        raise DisconnectionError("the server has closed this pooled connection")


def _readable(fd: int) -> bool:
    if not hasattr(select, "poll"):  # Windows
        return bool(select.select([fd], [], [], 0)[0])
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


def check_connection(engine: Engine) -> None:
    """Raise DatabaseUnavailable, naming the server (not the password), if it cannot be reached."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseUnavailable(
            f"cannot connect to PostgreSQL at {describe_url(str(engine.url))}: {reason}"
        ) from exc


@lru_cache
def get_engine() -> Engine:
    """The process-wide engine for the configured database."""
    settings = get_settings()
    return create_db_engine(database_url(settings), settings.database_pooler)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions on `engine` that keep loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(engine: Engine | None = None) -> Iterator[Session]:
    """One transaction: commits when the block succeeds, rolls back when it raises."""
    with session_factory(engine or get_engine()).begin() as session:
        yield session


def require_listener(identifier: str, listener: Callable[..., None]) -> None:
    """RuntimeError unless every session runs `listener` on `identifier`: work scheduled for it
    would silently never happen (`skilltree.listeners.register_listeners`, at start)."""
    if not event.contains(Session, identifier, listener):
        raise RuntimeError(
            f"{listener.__module__}.{listener.__name__} does not listen to sessions' "
            f"{identifier}: call skilltree.listeners.register_listeners() at start"
        )
