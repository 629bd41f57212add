"""Services that write all or nothing, and run again when PostgreSQL aborts them for a conflict.

A service decorated with `atomic` runs in a savepoint of the caller's transaction: when it raises,
none of its writes stay and the caller's transaction is still usable. When PostgreSQL picks it as
a deadlock victim (40P01) or reports a serialization failure (40001), it is run again from the
start, a few times. Under READ COMMITTED (ours) each statement sees a fresh snapshot, so rerunning
the savepoint is rerunning the unit of work: its reads see what the winner committed. Conflicting
that many times in a row is a Conflict (409: the client may send the request again), not a 500.
`rerun_on_conflict` is the same policy for work that makes its own savepoint (a progress event
sends it in the round trip of its one statement: progress.repository).
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from skilltree.db.constraints import sqlstate
from skilltree.errors import Conflict

P = ParamSpec("P")
T = TypeVar("T")

ATTEMPTS = 4
"""How many times conflicting work runs before it is given up as a Conflict."""
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
"""deadlock_detected, serialization_failure."""


def is_conflict(error: DBAPIError) -> bool:
    """Whether PostgreSQL aborted the work only because of a concurrent transaction."""
    return sqlstate(error) in RETRYABLE_SQLSTATES


def rerun_on_conflict(attempt: Callable[[], T]) -> T:
    """`attempt()`, run again after a deadlock or a serialization failure (up to ATTEMPTS runs,
    with a short random pause between them; then Conflict). `attempt` must leave nothing of
    itself behind when it raises: it runs in a savepoint it rolls back (`atomic` below)."""
    run = 1
    while True:
        try:
            return attempt()
        except DBAPIError as error:
            if not is_conflict(error):
                raise
            if run >= ATTEMPTS:
                raise Conflict(
                    "Other changes kept conflicting with this request; send it again."
                ) from error
        # Random, growing pauses so the same transactions do not collide again in step.
        time.sleep(random.uniform(0.005, 0.02) * run)
        run += 1


def atomic(service: Callable[Concatenate[Session, P], T]) -> Callable[Concatenate[Session, P], T]:
    """`service(session, ...)` all or nothing, in a savepoint, rerun after a deadlock or a
    serialization failure (`rerun_on_conflict`)."""

    @functools.wraps(service)
    def run(session: Session, /, *args: P.args, **kwargs: P.kwargs) -> T:
        def attempt() -> T:
            with session.begin_nested():
                return service(session, *args, **kwargs)

        return rerun_on_conflict(attempt)

    return run
