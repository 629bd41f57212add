"""The partitioned event history (migration 0049): `progress_events` in monthly partitions under
the schema `progress_history`, a default one for months without theirs, and months detached
into `progress_archive`. Housekeeping prepares the months ahead and empties the default
partition; `skilltree db history` lists, archives and restores months.

Every step runs as the tables' owner, one month a transaction, with a short lock timeout:
attaching and detaching wait for no learner for long, and no learner queues behind them for
long (a step that cannot have its locks fails and the next run does it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine, text

from skilltree.db.session import unit_of_work

LOCK_TIMEOUT = "2s"
DEFAULT = "progress_events_default"
AHEAD_MONTHS = 2
"""Months after the current one that have their partition made ahead."""

_MONTHS = """
SELECT c.relname, n.nspname, c.reltuples::bigint, pg_total_relation_size(c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname IN ('progress_history', 'progress_archive') AND c.relkind = 'r'
ORDER BY c.relname, n.nspname
"""


@dataclass(frozen=True)
class Month:
    """A partition of the history: its table, where it is, about how many events it holds."""

    table: str
    archived: bool
    rows: int
    bytes: int

    @property
    def first_day(self) -> date | None:
        """The month's first day (None for the default partition)."""
        if self.table == DEFAULT:
            return None
        year, month = self.table.removeprefix("progress_events_").split("_")
        return date(int(year), int(month), 1)


def is_partitioned(engine: Engine) -> bool:
    """Whether the database's history is partitioned (migrated to 0049 or later)."""
    with engine.connect() as connection:
        return bool(
            connection.execute(
                text("SELECT to_regclass('progress_history.progress_events_default') IS NOT NULL")
            ).scalar_one()
        )


def months(engine: Engine) -> list[Month]:
    """Every partition, live or archived, by name (row counts are the planner's estimates)."""
    with engine.connect() as connection:
        rows = connection.execute(text(_MONTHS)).all()
    return [
        Month(str(r[0]), r[1] == "progress_archive", max(int(r[2]), 0), int(r[3])) for r in rows
    ]


def _add_month(engine: Engine, month: date, restore: bool = False) -> bool:
    with unit_of_work(engine) as session:
        session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
        return bool(
            session.execute(
                text("SELECT progress_history_add_month(:month, :restore)"),
                {"month": month, "restore": restore},
            ).scalar_one()
        )


def _month_after(month: date, months_later: int) -> date:
    index = month.year * 12 + month.month - 1 + months_later
    return date(index // 12, index % 12 + 1, 1)


def prepare(engine: Engine, now: datetime) -> list[date]:
    """Give the current month and the AHEAD_MONTHS after it their partitions, and every month
    whose events wait in the default partition theirs (moving them in); the months added."""
    current = date(now.year, now.month, 1)
    wanted = {_month_after(current, k) for k in range(AHEAD_MONTHS + 1)}
    with engine.connect() as connection:
        waiting = connection.execute(
            text(
                "SELECT DISTINCT date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date"
                " FROM progress_history.progress_events_default"
            )
        ).scalars()
        wanted.update(waiting)
    return [month for month in sorted(wanted) if _add_month(engine, month)]


@dataclass(frozen=True)
class Archived:
    """What an archive run did: the months detached, and those kept for holding events the
    analytics have not folded yet (`skilltree analytics fold`, then archive again)."""

    months: list[date]
    unfolded: list[date]


class _Unfolded(Exception):
    """A month holding events the fold has not taken in yet (its detaching is rolled back)."""


def archive(engine: Engine, retention_months: int, now: datetime) -> Archived:
    """Detach every month ending before the last `retention_months` (the current one counted)
    into `progress_archive`. Learners' XP, streaks and the analytics' aggregates are stored
    apart from the events and stay as they are."""
    cutoff = _month_after(date(now.year, now.month, 1), -(retention_months - 1))
    done, unfolded = [], []
    for month in months(engine):
        first = month.first_day
        if month.archived or first is None or first >= cutoff:
            continue
        try:
            with unit_of_work(engine) as session:
                session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
                table = f'progress_history."{month.table}"'
                session.execute(text(f"ALTER TABLE progress_events DETACH PARTITION {table}"))
                # Read once detached: no event can come in any more.
                newest = session.execute(text(f"SELECT max(id) FROM {table}")).scalar_one()
                folded = session.execute(
                    text("SELECT folded_through FROM analytics_fold_state")
                ).scalar_one()
                if newest is not None and newest > folded:
                    raise _Unfolded
                session.execute(text(f"ALTER TABLE {table} SET SCHEMA progress_archive"))
        except _Unfolded:
            unfolded.append(first)
            continue
        done.append(first)
    return Archived(done, unfolded)


def restore(engine: Engine, month: date | None) -> list[date]:
    """Attach the archived `month` again (every archived month when None); the months
    attached."""
    archived = [m.first_day for m in months(engine) if m.archived and m.first_day is not None]
    chosen = [m for m in archived if m is not None and (month is None or m == month)]
    return [m for m in chosen if _add_month(engine, m, restore=True)]
