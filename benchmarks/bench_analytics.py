"""Issue 5, analytics: each query on 10,000 learners x a 1,000-skill tree against its SQL floor.

Run from the repository root: `python -m benchmarks.bench_analytics`. Uses the kept database of
`benchmarks/analytics_dataset.py` on DATABASE_URL's server (or the embedded one), building it
the first time (minutes), and refreshes benchmarks/RESULTS.md.

Every path is timed through the API in-process (FastAPI TestClient, signed in as the tree's
author, the platform's admin or a learner) against its floor: the same named .sql file run
through plain psycopg as the API's role with the same rights. Before timing, a tail of fresh
events (after the aggregates' watermark) is written, so that the exact-read path (aggregates +
tail) is what is measured; it is deleted afterwards, leaving the data set as it was. The full
recounts the aggregates replace are timed too, a few times only.
"""

from __future__ import annotations

import secrets
import sys
import time
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from fastapi.testclient import TestClient

from benchmarks.analytics_dataset import (
    ADMIN_ID,
    AUTHOR_ID,
    LEARNERS,
    SKILLS,
    SLUG,
    TREE_ID,
    ensure_dataset,
)
from benchmarks.common import (
    libpq_dsn,
    machine,
    percentile,
    time_calls,
    time_interleaved,
    today,
    write_results,
)
from skilltree.accounts.service import token_digest
from skilltree.analytics import repository
from skilltree.app import create_app
from skilltree.db.session import create_db_engine
from skilltree.listeners import register_listeners

TAIL_EVENTS = 5_000
LEARNER_ID = "bl00042"
FAST_RUNS, SLOW_RUNS, FOLDED_RUNS, WARMUP = 100, 3, 30, 3
TARGETS_MS = {"funnel": 2000.0, "learners": 200.0, "completions": 500.0}

Timer = Callable[[], object]


def _tokens(conn: psycopg.Connection[tuple[Any, ...]]) -> dict[str, str]:
    """A live bearer token for the author, the admin and one learner."""
    tokens = {}
    for user in (AUTHOR_ID, ADMIN_ID, LEARNER_ID):
        token = secrets.token_urlsafe(16)
        conn.execute(
            "INSERT INTO user_sessions (id, user_id, token_hash, expires_at)"
            " VALUES (%s, %s, %s, now() + interval '1 hour')",
            (secrets.token_hex(12), user, token_digest(token)),
        )
        tokens[user] = token
    return tokens


def _write_tail(conn: psycopg.Connection[tuple[Any, ...]]) -> int:
    """TAIL_EVENTS fresh events today (activity and completions of random learners); returns
    the first id written."""
    row = conn.execute(
        """
        WITH written AS (
            INSERT INTO progress_events (user_id, kind, skill_tree_id, skill_id, xp_delta)
            SELECT 'bl' || lpad((1 + (g * 7919) %% %(learners)s)::text, 5, '0'),
                   (ARRAY['ACTIVITY', 'COMPLETE', 'START', 'UNLOCK'])[1 + g %% 4]
                       ::"ProgressEventKind",
                   %(tree)s, 'bs' || lpad(((g * 31) %% %(skills)s)::text, 4, '0'), 10
            FROM generate_series(1, %(events)s) g
            RETURNING id
        )
        SELECT min(id) FROM written
        """,
        {"learners": LEARNERS, "skills": SKILLS, "tree": TREE_ID, "events": TAIL_EVENTS},
    ).fetchone()
    assert row is not None
    return int(row[0])


def floor_query(
    conn: psycopg.Connection[tuple[Any, ...]], user: str, name: str, parameters: Mapping[str, Any]
) -> Timer:
    """The named query through plain psycopg, as the API's role for `user` (one transaction,
    as a request runs)."""
    query = repository.query(name)

    def run() -> object:
        with conn.transaction():
            conn.execute(
                "SELECT set_config('role', 'skilltree_app', true),"
                " set_config('app.current_user_id', %s, true)",
                (user,),
            )
            conn.execute(repository.CUSTOM_PLANS)  # as the API plans them
            if "%(folded_through)s" not in query:
                return conn.execute(query, parameters).fetchall()
            through = conn.execute("SELECT folded_through FROM analytics_watermark()").fetchone()
            assert through is not None
            return conn.execute(query, {**parameters, "folded_through": through[0]}).fetchall()

    return run


def api_get(client: TestClient, path: str, token: str) -> Timer:
    headers = {"Authorization": f"Bearer {token}"}

    def run() -> object:
        answer = client.get(path, headers=headers)
        answer.raise_for_status()
        return answer

    return run


RECOUNT_FUNNEL = """
SELECT skill_id, count(*) FILTER (WHERE kind = 'UNLOCK'), count(*) FILTER (WHERE kind = 'START'),
       count(*) FILTER (WHERE kind = 'COMPLETE'), count(*) FILTER (WHERE kind = 'SKIP')
FROM progress_events WHERE skill_tree_id = %(tree)s GROUP BY skill_id
"""
# What every time-to-complete read ran before the snapshot (and what a refresh runs): the
# grouped percentile pass over the tree's COMPLETED rows.
RECOUNT_TIMES = """
SELECT skill_id, count(*),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM completed_at
           - coalesce(started_at, completed_at)) / 60),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM completed_at
           - coalesce(started_at, completed_at)) / 60),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY time_spent_minutes),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY time_spent_minutes)
FROM user_skill_progress WHERE skill_tree_id = %(tree)s AND status = 'COMPLETED'
GROUP BY skill_id
"""
RECOUNT_DAYS = """
SELECT (occurred_at AT TIME ZONE 'UTC')::date, count(*) FILTER (WHERE kind = 'ENROLL'),
       count(*) FILTER (WHERE kind = 'COMPLETE'),
       count(DISTINCT user_id) FILTER (WHERE kind IN ('START', 'COMPLETE', 'SKIP', 'ACTIVITY'))
FROM progress_events
WHERE skill_tree_id = %(tree)s AND occurred_at >= %(first)s::timestamp AT TIME ZONE 'UTC'
GROUP BY 1
"""


def measure(url: str) -> tuple[dict[str, dict[str, list[float]]], dict[str, Any]]:
    """Timings per path ('floor', 'api', or 'recount'), and facts about the run."""
    engine = create_db_engine(url)
    facts: dict[str, Any] = {}
    try:
        with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
            began = time.monotonic()
            with conn.transaction():
                facts["folded_on_start"] = conn.execute("SELECT analytics_fold()").fetchone()
            facts["fold_seconds"] = time.monotonic() - began
            # The time-to-complete snapshot, recomputed as `refresh-times` does (a fresh one
            # for this run, whatever the kept data set held).
            facts["refresh_seconds"] = time_calls(
                lambda: conn.execute(
                    "SELECT analytics_refresh_skill_times(%s)", (TREE_ID,)
                ).fetchone(),
                runs=2,
                warmup=0,
            )
            tokens = _tokens(conn)
            client = TestClient(create_app(engine))  # one app serves every path
            first_tail = _write_tail(conn)
            facts["tail"] = TAIL_EVENTS
            now = datetime.now(UTC)
            first, last = now.date() - timedelta(days=29), now.date()
            try:
                timings = _time_paths(conn, client, tokens, first, last, now)
                with conn.transaction():
                    conn.execute("SET LOCAL max_parallel_workers_per_gather = 0")
                    timings["funnel"]["recount"] = time_calls(
                        lambda: conn.execute(RECOUNT_FUNNEL, {"tree": TREE_ID}).fetchall(),
                        runs=2,
                        warmup=0,
                    )
                    timings["time to complete"]["recount"] = time_calls(
                        lambda: conn.execute(RECOUNT_TIMES, {"tree": TREE_ID}).fetchall(),
                        runs=2,
                        warmup=0,
                    )
                    timings["completions"]["recount"] = time_calls(
                        lambda: conn.execute(
                            RECOUNT_DAYS, {"tree": TREE_ID, "first": first}
                        ).fetchall(),
                        runs=2,
                        warmup=0,
                    )
                # The same reads once a fold has taken the tail in (what cron keeps them at).
                began = time.monotonic()
                with conn.transaction():
                    conn.execute("SELECT analytics_fold()")
                facts["tail_fold_seconds"] = time.monotonic() - began
                # What cron's `refresh-times` does next: the check (the tail has completions,
                # so the tree is due), then the tree's refresh.
                began = time.monotonic()
                with conn.transaction():
                    due = conn.execute("SELECT analytics_skill_times_check()").fetchall()
                facts["check_seconds"] = time.monotonic() - began
                facts["due"] = [row[0] for row in due]
                began = time.monotonic()
                for (tree_id,) in due:
                    conn.execute("SELECT analytics_refresh_skill_times(%s)", (tree_id,))
                facts["tail_refresh_seconds"] = time.monotonic() - began
                began = time.monotonic()
                with conn.transaction():
                    conn.execute("SELECT analytics_skill_times_check()").fetchall()
                facts["quiet_check_seconds"] = time.monotonic() - began
                folded_paths = _paths(conn, client, tokens, first, last, now)
                calls = {
                    f"{name} (tail folded)|{side}": timer
                    for name in ("funnel", "completions", "platform active", "time to complete")
                    for side, timer in zip(("floor", "api"), folded_paths[name], strict=True)
                }
                for key, values in time_interleaved(calls, runs=FOLDED_RUNS, warmup=1).items():
                    name, side = key.split("|")
                    timings.setdefault(name, {})[side] = values
                facts["rows"] = conn.execute(
                    "SELECT (SELECT count(*) FROM user_skill_progress),"
                    " (SELECT count(*) FROM progress_events)"
                ).fetchone()
            finally:
                conn.execute("DELETE FROM progress_events WHERE id >= %s", (first_tail,))
                conn.execute(
                    "DELETE FROM user_sessions WHERE user_id = ANY(%s)",
                    ([AUTHOR_ID, ADMIN_ID, LEARNER_ID],),
                )
    finally:
        engine.dispose()
    return timings, facts


def _paths(
    conn: psycopg.Connection[tuple[Any, ...]],
    client: TestClient,
    tokens: dict[str, str],
    first: date,
    last: date,
    now: datetime,
) -> dict[str, tuple[Timer, Timer]]:
    """Every quick path: (floor, API)."""
    author, admin, learner = tokens[AUTHOR_ID], tokens[ADMIN_ID], tokens[LEARNER_ID]
    tree = f"/api/v1/analytics/trees/{SLUG}"
    fast: dict[str, tuple[Timer, Timer]] = {
        "funnel": (
            floor_query(conn, AUTHOR_ID, "funnel", {"tree_id": TREE_ID}),
            api_get(client, f"{tree}/funnel", author),
        ),
        "learners": (
            floor_query(conn, AUTHOR_ID, "learners", {"tree_id": TREE_ID, "sort": "progress",
                                                 "limit": 50, "offset": 4950, "now": now}),
            api_get(client, f"{tree}/learners?page=100&pageSize=50", author),
        ),
        "completions": (
            floor_query(conn, AUTHOR_ID, "completions",
                   {"tree_id": TREE_ID, "first_day": first, "last_day": last}),
            api_get(client,
                 f"{tree}/completions?from={first}&to={last}", author),
        ),
        "calendar": (
            floor_query(conn, LEARNER_ID, "calendar",
                   {"user_id": LEARNER_ID, "zone": "Pacific/Kiritimati", "now": now, "days": 365}),
            api_get(client, "/api/v1/analytics/me/calendar", learner),
        ),
        "pace": (
            floor_query(conn, LEARNER_ID, "pace",
                   {"user_id": LEARNER_ID, "tree_id": TREE_ID, "now": now}),
            api_get(client,
                 f"/api/v1/analytics/me/trees/{SLUG}/pace", learner),
        ),
        "platform active": (
            floor_query(conn, ADMIN_ID, "platform_active",
                   {"now": now, "days": 30, "weeks": 12, "months": 6}),
            api_get(client, "/api/v1/analytics/platform/active", admin),
        ),
        "stalls": (
            floor_query(conn, AUTHOR_ID, "stalls", {"tree_id": TREE_ID, "now": now, "limit": 20}),
            api_get(client, f"{tree}/stalls", author),
        ),
        "time to complete": (
            floor_query(conn, AUTHOR_ID, "time_to_complete", {"tree_id": TREE_ID}),
            api_get(client, f"{tree}/time-to-complete", author),
        ),
    }  # fmt: skip
    return fast


def _time_paths(
    conn: psycopg.Connection[tuple[Any, ...]],
    client: TestClient,
    tokens: dict[str, str],
    first: date,
    last: date,
    now: datetime,
) -> dict[str, dict[str, list[float]]]:
    admin = tokens[ADMIN_ID]
    fast = _paths(conn, client, tokens, first, last, now)
    slow: dict[str, tuple[Timer, Timer]] = {
        "cohorts": (
            floor_query(conn, ADMIN_ID, "cohorts", {"now": now, "weeks": 12}),
            api_get(client, "/api/v1/analytics/platform/cohorts", admin),
        ),
    }
    calls = {f"{name}|{side}": timer for name, pair in fast.items()
             for side, timer in zip(("floor", "api"), pair, strict=True)}  # fmt: skip
    samples = time_interleaved(calls, runs=FAST_RUNS, warmup=WARMUP)
    for name, (floor, api) in slow.items():
        samples[f"{name}|floor"] = time_calls(floor, runs=SLOW_RUNS, warmup=1)
        samples[f"{name}|api"] = time_calls(api, runs=SLOW_RUNS, warmup=0)
    timings: dict[str, dict[str, list[float]]] = {}
    for key, values in samples.items():
        name, side = key.split("|")
        timings.setdefault(name, {})[side] = values
    return timings


def verdict(name: str, p50: float) -> str:
    """'met' or 'not met' against the issue's target for `name`, or '' without one."""
    target = TARGETS_MS.get(name.split(" (")[0])
    if target is None:
        return "—"
    return f"≤ {target:,.0f} ms: {'met' if p50 <= target else '**not met**'}"


def report(timings: dict[str, dict[str, list[float]]], facts: dict[str, Any], where: str) -> str:
    """The markdown section for RESULTS.md."""
    lines = []
    for name, sides in timings.items():
        floor, api = sides["floor"], sides["api"]
        api_p50, floor_p50 = percentile(api, 0.5), percentile(floor, 0.5)
        lines.append(
            f"| {name} | {len(api)} | {floor_p50:,.1f} | {api_p50:,.1f} "
            f"| {percentile(api, 0.95):,.1f} | {api_p50 / floor_p50:.2f}x "
            f"| {verdict(name, api_p50)} |"
        )
    recounts = {
        name: percentile(sides["recount"], 0.5)
        for name, sides in timings.items()
        if "recount" in sides
    }
    progress_rows, events = facts["rows"]
    refresh = percentile(facts["refresh_seconds"], 0.5) / 1000
    fold_note = (
        f"the run began by folding {facts['folded_on_start'][0]:,} events into the aggregates "
        f"({facts['fold_seconds']:.1f} s)"
    )
    return f"""
## Analytics (issue 5): {LEARNERS:,} learners x a {SKILLS:,}-skill tree

`python -m benchmarks.bench_analytics`, {today()}, on {where}.

The kept data set of `benchmarks/analytics_dataset.py`: {LEARNERS:,} learners enrolled in one
tree of {SKILLS:,} skills, {progress_rows:,} `user_skill_progress` rows (every skill of every
learner, LOCKED ones included) and {events:,} `progress_events` over the last year. Before timing,
{facts["tail"]:,} fresh events were written after the aggregates' watermark, so every read below
counts a real tail on top of the folded aggregates (and is exact); {fold_note}. API: FastAPI
in-process (TestClient) with a bearer token, one transaction per request; floor: the same
`src/skilltree/analytics/*.sql` through plain psycopg as the API's role with the same rights
(the watermark read included where the query counts a tail). Fast paths: {FAST_RUNS} runs each,
taking turns; slow ones {SLOW_RUNS} runs.

| path | runs | floor p50 ms | API p50 ms | API p95 ms | API / floor | target (issue 5) |
| --- | ---: | ---: | ---: | ---: | ---: | --- |
{chr(10).join(lines)}

The *(tail folded)* rows are the same reads after `analytics_fold()` took the
{facts["tail"]:,}-event tail in ({facts["tail_fold_seconds"]:.2f} s), as a fold from cron every
few minutes keeps them; {FOLDED_RUNS} runs each.

What the aggregates save: recounting the funnel from the audit trail takes
{recounts["funnel"]:,.0f} ms and the 30-day series {recounts["completions"]:,.0f} ms
(p50 of 2, one core, no parallel workers). What the time-to-complete snapshot saves: the grouped
percentile pass every read used to run takes {recounts["time to complete"]:,.0f} ms (same
conditions); `analytics_refresh_skill_times()` runs it and stores the result in {refresh:.1f} s
(p50 of 2, parallel workers allowed). After the tail was folded, `analytics_skill_times_check()`
found {len(facts["due"])} tree due in {facts["check_seconds"] * 1000:,.0f} ms (the events since
the snapshot, through their primary key), its refresh took {facts["tail_refresh_seconds"]:.1f} s,
and a check with nothing new {facts["quiet_check_seconds"] * 1000:,.0f} ms.

- *funnel*, *completions*, *platform active*: folded aggregates (`analytics_skill_counts`,
  `analytics_tree_days`, `analytics_platform_periods`) plus the tail after the watermark counted
  through the events' primary key: the cost follows the tail, not the history.
- *learners*: page 100 of 50 by progress (`user_skill_tree_progress`, percent kept by the
  progress engine), with the total.
- *stalls*: one index range per skill over the learners IN_PROGRESS (`idx_skill_user_status`).
- *cohorts*: every learner's first enrolment, then one index probe per cohort learner and week.
- *time to complete*: the tree's snapshot (`analytics_skill_times`, one row per skill) and its
  freshness, with whether a COMPLETE or ACTIVITY event came after it (the tail's first such
  event; none after the refresh in the *(tail folded)* row). The snapshot is recomputed by
  `skilltree analytics refresh-times` (the refresh above), not on the read; see
  docs/analytics.md.
"""


def main() -> None:
    """Build or reuse the data, time every path, print the table and refresh RESULTS.md."""
    register_listeners()
    url = ensure_dataset()
    timings, facts = measure(url)
    section = report(timings, facts, machine(url))
    print(section)
    write_results("bench_analytics", section)


if __name__ == "__main__":
    main()
