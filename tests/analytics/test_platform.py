"""Platform analytics for admins: active learners per day, week and month; weekly cohorts."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from skilltree.analytics import service
from tests.analytics.conftest import World, at, fold

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
