"""The process-wide SQLAlchemy events: every `Session` of the process runs them, so they are
registered once, here, by each entry point at its start (the app factory, the CLI, the tests'
conftest, the benchmarks), never on the import of the module that defines them.

Work scheduled for one of them (`begin_as_learner`, `forget_after_commit`,
`analyze_catalog_after_commit`) is refused with a RuntimeError while it is not registered:
a learner's switch or a cache's cleanup that silently never happens is worse than an error.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

from skilltree import metrics
from skilltree.cache import trees as trees_cache
from skilltree.db import rls
from skilltree.treefile import repository as treefile_repository

SESSION_LISTENERS: tuple[tuple[str, Callable[..., None]], ...] = (
    # A transaction begins as the learner `begin_as_learner` named (row-level security).
    ("after_begin", rls.switch_at_begin),
    # Redis copies of the trees a committed transaction changed are deleted.
    ("after_commit", trees_cache.forget_committed),
    ("after_rollback", trees_cache.drop_pending),
    # The planner's statistics are refreshed after a committed import.
    ("after_commit", treefile_repository.analyze_committed),
    ("after_rollback", treefile_repository.forget_analyze),
    # The progress events a committed transaction recorded are counted (GET /metrics).
    ("after_commit", metrics.count_committed_events),
    ("after_rollback", metrics.drop_pending_events),
)
_lock = threading.Lock()


def register_listeners() -> None:
    """Make every session of the process run `SESSION_LISTENERS` (again: nothing more)."""
    with _lock:
        for identifier, listener in SESSION_LISTENERS:
            if not event.contains(Session, identifier, listener):
                event.listen(Session, identifier, listener)
