"""Background jobs say when they last succeeded (table job_runs, migration 0037), so GET /metrics
can tell an operator that cron stopped running one, whichever host runs it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text

FOLD = "fold"
REFRESH_TIMES = "refresh-times"
HOUSEKEEPING = "housekeeping"
JOBS = (FOLD, REFRESH_TIMES, HOUSEKEEPING)
"""The background jobs: `analytics fold`, `analytics refresh-times`, `db housekeeping`."""

_RECORD = text(
    """
    INSERT INTO job_runs (job, succeeded_at, seconds) VALUES (:job, now(), :seconds)
    ON CONFLICT (job) DO UPDATE SET succeeded_at = excluded.succeeded_at,
                                    seconds = excluded.seconds
    """
)


def record_success(engine: Engine, job: str, seconds: float) -> None:
    """Write down that `job` has just succeeded, after `seconds`."""
    with engine.begin() as conn:
        conn.execute(_RECORD, {"job": job, "seconds": max(0.0, seconds)})


@contextmanager
def recorded(engine: Engine, job: str) -> Iterator[None]:
    """Run the block as `job`: when it succeeds (raises nothing), its success is recorded."""
    started = time.monotonic()
    yield
    record_success(engine, job, time.monotonic() - started)
