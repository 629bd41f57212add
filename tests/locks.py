"""Racing writers on real connections, ordered by conditions PostgreSQL reports, never by time.

A `Writer` runs one unit of work on a connection of its own, in a thread, and commits it, at
once or when released. `wait_until_blocked` returns once a writer's backend waits for a lock
(`pg_stat_activity.wait_event_type = 'Lock'`): the proof that it reached the lock the test is
about, rather than a pause long enough on a quiet machine.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

TIMEOUT = 20.0
"""Seconds a test waits for a condition before failing (a busy machine is slow, not wrong)."""

_LOCK_WAIT = text("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid")


def wait_until_blocked(engine: Engine, pid: int, timeout: float = TIMEOUT) -> None:
    """Return once backend `pid` waits for a lock; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    with engine.connect() as connection:
        while True:
            # Each poll in a transaction of its own: pg_stat_activity is read once per transaction.
            blocked = connection.execute(_LOCK_WAIT, {"pid": pid}).scalar()
            connection.rollback()
            if blocked:
                return
            assert time.monotonic() < deadline, f"backend {pid} never waited for a lock"
            time.sleep(0.002)  # the next poll, not a guess at how long the writer takes


_WAITING_FOR = text("SELECT pid FROM pg_stat_activity WHERE :holder = ANY(pg_blocking_pids(pid))")


def wait_until_waiting_for(engine: Engine, holder: int, timeout: float = TIMEOUT) -> int:
    """The backend that waits for a lock backend `holder` holds, once there is one (a connection
    the test does not own: another process's); fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    with engine.connect() as connection:
        while True:
            waiting = connection.execute(_WAITING_FOR, {"holder": holder}).scalar()
            connection.rollback()
            if waiting is not None:
                return int(waiting)
            assert time.monotonic() < deadline, f"no backend ever waited for backend {holder}"
            time.sleep(0.002)  # the next poll, not a guess at how long the other takes


class Writer:
    """`work(session)` on a connection and transaction of its own, in a thread, then committed:
    at once, or with `hold=True` only once `release()` is called. `error` is what it raised."""

    def __init__(
        self, engine: Engine, work: Callable[[Session], Any], *, hold: bool = False
    ) -> None:
        self.session = Session(engine, expire_on_commit=False)
        self.pid: int = self.session.scalar(text("SELECT pg_backend_pid()"))  # type: ignore[assignment]
        self.result: Any = None
        self.error: BaseException | None = None
        self.worked = threading.Event()
        """Set once `work` returned or raised (the transaction still open when `hold`)."""
        self._work = work
        self._released = threading.Event()
        if not hold:
            self._released.set()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Writer:
        """Start the work; returns the writer."""
        self._thread.start()
        return self

    def release(self) -> None:
        """Let a held writer commit."""
        self._released.set()

    def finish(self, timeout: float = TIMEOUT) -> Any:
        """Release, wait for the commit (or the failure) and return what `work` returned."""
        self.release()
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"writer {self.pid} did not finish"
        self.session.close()
        return self.result

    def _run(self) -> None:
        try:
            try:
                self.result = self._work(self.session)
            finally:
                self.worked.set()
            self._released.wait(TIMEOUT)
            self.session.commit()
        except BaseException as exc:
            self.error = exc
            self.session.rollback()
