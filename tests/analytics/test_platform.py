"""Platform analytics for admins: active learners per day, week and month; weekly cohorts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from skilltree.analytics import repository, service
from skilltree.models import ProgressEventKind
from tests.analytics.conftest import World, add_event, at, fold

NOW = at(4, 12)  # Wednesday 4 March 2026; the 1st is a Sunday, the 2nd starts a week


@pytest.mark.parametrize("folded", [False, True], ids=["all-in-tail", "all-folded"])
def test_active_learners_per_day_week_and_month(
    session: Session, world: World, folded: bool
) -> None:
    if folded:
        fold(session)
    active = service.platform_active(session, world.admin, now=NOW, days=4, weeks=2, months=1)
    assert [(p.first_day.day, p.active_learners) for p in active.daily] == [
        (1, 1),  # l1
        (2, 2),  # l1, l2
        (3, 1),  # l2
        (4, 0),
    ]
    assert [(p.first_day, p.last_day, p.active_learners) for p in active.weekly] == [
        (date(2026, 2, 23), date(2026, 3, 1), 1),
        (date(2026, 3, 2), date(2026, 3, 8), 2),
    ]
    assert [(p.first_day, p.last_day, p.active_learners) for p in active.monthly] == [
        (date(2026, 3, 1), date(2026, 3, 31), 2)
    ]


def test_weekly_cohorts_with_retention(session: Session, world: World) -> None:
    cohorts = service.cohorts(session, world.admin, now=NOW, weeks=2).cohorts
    assert [(c.week, c.learners) for c in cohorts] == [
        (date(2026, 2, 23), 2),  # l1 and l2 enrolled on Sunday the 1st
        (date(2026, 3, 2), 1),  # l3
    ]
    first, second = cohorts
    assert [(w.weeks_after, w.active, w.retention) for w in first.weeks] == [
        (0, 1, 0.5),
        (1, 2, 1.0),
    ]
    assert [(w.weeks_after, w.active, w.retention) for w in second.weeks] == [(0, 0, 0.0)]


def _executed(plan: dict[str, Any]) -> Iterator[tuple[str, int]]:
    """(relation, loops) of every scan the plan ran."""
    if "Relation Name" in plan:
        yield str(plan["Relation Name"]), int(plan.get("Actual Loops", 0))
    for child in plan.get("Plans", []):
        yield from _executed(child)


def test_the_tail_reads_no_month_before_the_first_period(session: Session, world: World) -> None:
    # The history's months (migration 0049): March's events move out of the default partition.
    for month in ("2025-06-01", "2026-02-01", "2026-03-01"):
        session.execute(text("SELECT progress_history_add_month(:m)"), {"m": month})
    add_event(
        session, world.learners["l3"], ProgressEventKind.ACTIVITY, at(1, 9) - timedelta(days=270)
    )
    parameters = {"now": NOW, "days": 4, "weeks": 2, "months": 1, "folded_through": 0}
    explained = session.connection().exec_driver_sql(
        "EXPLAIN (ANALYZE, FORMAT JSON) " + repository.query("platform_active"), parameters
    )
    scans = dict(_executed(explained.scalar_one()[0]["Plan"]))
    assert scans.get("progress_events_2026_03", 0) > 0
    assert scans.get("progress_events_2025_06", 0) == 0  # pruned, or never run
    active = service.platform_active(session, world.admin, now=NOW, days=4, weeks=2, months=1)
    assert [p.active_learners for p in active.daily] == [1, 2, 1, 0]


def test_the_completions_probes_read_no_month_outside_the_range(
    session: Session, world: World
) -> None:
    for month in ("2025-06-01", "2026-02-01", "2026-03-01"):
        session.execute(text("SELECT progress_history_add_month(:m)"), {"m": month})
    parameters = {
        "tree_id": world.tree.id,
        "first_day": date(2026, 3, 1),
        "last_day": date(2026, 3, 4),
        "folded_through": 0,
    }
    explained = session.connection().exec_driver_sql(
        "EXPLAIN (ANALYZE, FORMAT JSON) " + repository.query("completions"), parameters
    )
    scans = dict(_executed(explained.scalar_one()[0]["Plan"]))
    assert scans.get("progress_events_2026_03", 0) > 0
    assert "progress_events_2025_06" not in scans  # left out when planning
    assert "progress_events_2026_02" not in scans


def test_analytics_reads_run_without_jit(session: Session, world: World) -> None:
    service.platform_active(session, world.admin, now=NOW, days=4, weeks=2, months=1)
    assert session.execute(text("SHOW jit")).scalar_one() == "off"
