"""A tree's figures for its author, checked against answers computed by hand (conftest)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from skilltree.analytics import repository, service
from tests.analytics.conftest import Kind, World, add_event, at, enrol, fold
from tests.factories import make_category, make_skill, make_tree

NOW = at(4, 12)  # Wednesday 4 March 2026; the 1st is a Sunday, the 2nd starts a week

FUNNEL = {  # key: (unlocked, started, completed, skipped)
    "s1": (3, 2, 2, 0),
    "s2": (2, 0, 1, 1),
    "s3": (2, 1, 0, 0),
}
SERIES = [  # day, enrolments, completions, active learners, cumulative, 7-day average
    ("2026-03-01", 2, 1, 1, 1, 1.0),
    ("2026-03-02", 1, 0, 2, 1, 0.5),
    ("2026-03-03", 0, 2, 1, 3, 1.0),
    ("2026-03-04", 0, 0, 0, 3, 0.75),
]


def _funnel(api: TestClient, world: World) -> dict[str, Any]:
    answer = api.get("/api/v1/analytics/trees/fixed/funnel", headers=world.headers(world.author))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _series(api: TestClient, world: World) -> list[tuple[Any, ...]]:
    answer = api.get(
        "/api/v1/analytics/trees/fixed/completions?from=2026-03-01&to=2026-03-04",
        headers=world.headers(world.author),
    )
    assert answer.status_code == 200, answer.text
    return [
        (
            d["day"],
            d["enrolments"],
            d["completions"],
            d["activeLearners"],
            d["cumulativeCompletions"],
            d["completions7DayAverage"],
        )
        for d in answer.json()["days"]
    ]


@pytest.mark.parametrize("folded", [False, True], ids=["all-in-tail", "all-folded"])
def test_funnel_counts_learners_at_each_stage(
    api: TestClient, world: World, session: Session, folded: bool
) -> None:
    if folded:
        assert fold(session) == 17
    body = _funnel(api, world)
    assert body["enrolments"] == 3
    assert [s["key"] for s in body["skills"]] == ["s1", "s2", "s3"]  # position order
    assert {
        s["key"]: (s["unlocked"], s["started"], s["completed"], s["skipped"])
        for s in body["skills"]
    } == FUNNEL
    assert body["freshness"]["foldedThrough"] >= 0


@pytest.mark.parametrize("folded", [False, True], ids=["all-in-tail", "all-folded"])
def test_completions_per_day_are_zero_filled(
    api: TestClient, world: World, session: Session, folded: bool
) -> None:
    if folded:
        fold(session)
    assert _series(api, world) == SERIES


def test_a_learner_active_on_a_day_in_both_the_folded_part_and_the_tail_counts_once(
    api: TestClient, world: World, session: Session
) -> None:
    from tests.analytics.conftest import Kind, add_event

    fold(session)
    l1 = world.learners["l1"]
    # l1 was active on the 2nd (folded); more activity that day, and on the 4th, in the tail
    add_event(session, l1, Kind.ACTIVITY, at(2, 20), skill=world.skills["s3"])
    add_event(session, l1, Kind.COMPLETE, at(4, 8), skill=world.skills["s3"], xp=10)
    series = _series(api, world)
    assert series[1][3] == 2  # still l1 and l2 on the 2nd
    assert series[3][1:5] == (0, 1, 1, 4)
    assert {s["key"]: s["completed"] for s in _funnel(api, world)["skills"]}["s3"] == 1


def test_the_series_defaults_to_the_last_30_days(api: TestClient, world: World) -> None:
    answer = api.get(
        "/api/v1/analytics/trees/fixed/completions", headers=world.headers(world.author)
    )
    assert answer.status_code == 200
    assert len(answer.json()["days"]) == 30


@pytest.mark.parametrize(
    "query",
    ["from=2026-03-05&to=2026-03-01", "from=2025-01-01&to=2026-03-01"],
    ids=["from-after-to", "too-long"],
)
def test_a_bad_range_is_a_400_naming_from(api: TestClient, world: World, query: str) -> None:
    answer = api.get(
        f"/api/v1/analytics/trees/fixed/completions?{query}", headers=world.headers(world.author)
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["loc"] == ["query", "from"]


def test_a_malformed_date_is_a_422(api: TestClient, world: World) -> None:
    answer = api.get(
        "/api/v1/analytics/trees/fixed/completions?from=yesterday",
        headers=world.headers(world.author),
    )
    assert answer.status_code == 422


def test_learners_page_with_percent_most_progress_first(api: TestClient, world: World) -> None:
    path = "/api/v1/analytics/trees/fixed/learners?pageSize=2"
    first = api.get(path, headers=world.headers(world.author)).json()
    second = api.get(path + "&page=2", headers=world.headers(world.author)).json()
    l1, l2, l3 = (world.learners[k].id for k in ("l1", "l2", "l3"))
    assert first["total"] == second["total"] == 3
    assert [(r["userId"], round(r["progressPercent"], 2)) for r in first["items"]] == [
        (l2, 66.67),
        (l1, 33.33),
    ]
    assert [r["userId"] for r in second["items"]] == [l3]
    assert second["items"][0]["skillsPerDay"] is None  # never started


def test_learners_sorted_by_latest_activity(api: TestClient, world: World) -> None:
    answer = api.get(
        "/api/v1/analytics/trees/fixed/learners?sort=activity", headers=world.headers(world.author)
    ).json()
    assert [r["userId"] for r in answer["items"]] == [
        world.learners[k].id for k in ("l2", "l1", "l3")
    ]


def test_stalls_rank_started_and_unfinished_skills(session: Session, world: World) -> None:
    # l1 started s3 (120 min estimated) on the 2nd at 09:30; two hours later:
    stalled = service.stalls(session, "fixed", world.author, now=at(2, 11, 30))
    assert [(s.name, s.stalled, s.median_minutes, s.median_to_estimate) for s in stalled] == [
        ("S3", 1, 120.0, 1.0)
    ]
    assert stalled[0].median_spent_minutes == 20
    # the progress engine's difficulty fields of that row
    assert (stalled[0].stuck, stalled[0].median_engagement) == (1, 0.4)


def test_time_to_complete_percentiles(api: TestClient, world: World) -> None:
    answer = api.get(
        "/api/v1/analytics/trees/fixed/time-to-complete", headers=world.headers(world.author)
    )
    body = answer.json()
    times = {t["key"]: t for t in body["skills"]}
    assert [t["key"] for t in body["skills"]] == ["s1", "s2", "s3"]  # position order
    # s1: l1 took 60 min, l2 1,440 min (started the 2nd 00:10, completed the 3rd 00:10)
    assert times["s1"]["completed"] == 2
    assert times["s1"]["p50Minutes"] == pytest.approx(750)
    assert times["s1"]["p95Minutes"] == pytest.approx(60 + 0.95 * 1380)
    assert times["s1"]["p50SpentMinutes"] == pytest.approx(72.5)
    assert times["s2"]["completed"] == 1
    assert times["s2"]["p50Minutes"] == 0  # completed without starting
    assert times["s3"] == times["s3"] | {"completed": 0, "p50Minutes": None, "p95Minutes": None}


def test_tree_cohorts_count_enrolment_weeks_and_activity_in_this_tree_only(
    session: Session, world: World
) -> None:
    # l3 enrolled first in another tree (the week before) and is active there in week 2: a
    # tree's cohort is the week of enrolling in it, its retention activity in it.
    l3 = world.learners["l3"]
    other = make_tree(session, make_category(session), created_by=world.author.id)
    elsewhere = make_skill(session, other, key="x1", name="X1")
    enrol(session, l3, other, datetime(2026, 2, 20, 9, tzinfo=UTC))
    add_event(session, l3, Kind.START, at(3, 9), skill=elsewhere)
    cohorts = service.tree_cohorts(session, "fixed", world.author, now=NOW, weeks=2).cohorts
    assert [(c.week, c.learners) for c in cohorts] == [
        (date(2026, 2, 23), 2),  # l1 and l2 enrolled on Sunday the 1st
        (date(2026, 3, 2), 1),  # l3
    ]
    first, second = cohorts
    # l1 active on the 1st and the 2nd, l2 from the 2nd
    assert [(w.weeks_after, w.active, w.retention) for w in first.weeks] == [
        (0, 1, 0.5),
        (1, 2, 1.0),
    ]
    assert [(w.weeks_after, w.active, w.retention) for w in second.weeks] == [(0, 0, 0.0)]


def test_tree_cohorts_over_the_api_name_every_week(api: TestClient, world: World) -> None:
    answer = api.get(
        "/api/v1/analytics/trees/fixed/cohorts?weeks=3", headers=world.headers(world.author)
    )
    assert answer.status_code == 200, answer.text
    cohorts = answer.json()["cohorts"]
    # the last 3 weeks as of today, each with a week for itself and every week since
    assert [len(c["weeks"]) for c in cohorts] == [3, 2, 1]
    assert (
        api.get(
            "/api/v1/analytics/trees/fixed/cohorts?weeks=53", headers=world.headers(world.author)
        ).status_code
        == 422
    )


def test_inactive_skills_are_left_out(api: TestClient, world: World, session: Session) -> None:
    world.skills["s3"].is_active = False
    session.flush()
    assert [s["key"] for s in _funnel(api, world)["skills"]] == ["s1", "s2"]


def test_a_read_folds_first_when_the_tail_is_long(
    api: TestClient, world: World, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from skilltree.analytics import repository

    newest = session.execute(text("SELECT max(id) FROM progress_events")).scalar_one()
    monkeypatch.setattr(repository, "TAIL_FOLD_THRESHOLD", 1_000_000)
    assert _funnel(api, world)["freshness"]["foldedThrough"] < newest  # short tail: no fold
    monkeypatch.setattr(repository, "TAIL_FOLD_THRESHOLD", 5)
    body = _funnel(api, world)
    assert body["freshness"]["foldedThrough"] == newest
    assert {
        s["key"]: (s["unlocked"], s["started"], s["completed"], s["skipped"])
        for s in body["skills"]
    } == FUNNEL


def test_analytics_reads_are_planned_for_their_own_values(session: Session, world: World) -> None:
    """From a statement's sixth run psycopg prepares it, and PostgreSQL may then keep a generic
    plan: completions.sql's took 3.2 s where the plan for its values took 33 ms
    (benchmarks/bench_analytics.py). Every analytics read plans with its values."""
    for _ in range(7):
        repository.completions(session, world.tree.id, date(2026, 1, 1), date(2026, 1, 30), 0)
    setting = session.scalar(text("SELECT current_setting('plan_cache_mode')"))
    assert setting == "force_custom_plan"
