"""Issue 14, part 3: claim the next project submission to review, over HTTP, with 100,000
submissions pending and 8 reviewers claiming at once (none claimed twice).

Run from the repository root: `python -m benchmarks.bench_reviews`. Creates and drops its own
database on DATABASE_URL's server (or the embedded one) and refreshes benchmarks/RESULTS.md.

PENDING submissions wait in the queue (LEARNERS learners x SKILLS PROJECT skills of one
published tree), oldest first. REVIEWERS admins claim in ROUNDS rounds: in each, every reviewer
sends its claim at the same moment (a barrier), each on its own keep-alive connection to one
uvicorn process, so every claim races the others for the head of the queue and must pass over
the rows the others hold (`FOR UPDATE SKIP LOCKED`) and every claim made before (claimed rows
stay in the queue until their claim ends). The floor is the same statement
(`project_claim`), one transaction each as the reviewer, from REVIEWERS psycopg connections
racing the same way; the two take turns round by round. Every claim's submission is recorded:
the run fails if one was claimed twice.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from sqlalchemy import text
from sqlalchemy.orm import Session

from benchmarks.common import (
    RawPost,
    add_learners,
    libpq_dsn,
    machine,
    percentile,
    published_tree,
    signed_in_user,
    start_server,
    terminating,
    throwaway_database,
    timed,
    today,
    write_results,
)
from skilltree.db import migrate
from skilltree.db.session import create_db_engine
from skilltree.listeners import register_listeners
from skilltree.models import (
    Skill,
    UserRole,
)
from skilltree.ports import free_port

LEARNERS, SKILLS = 1_000, 100
PENDING = LEARNERS * SKILLS
REVIEWERS, ROUNDS, WARMUP = 8, 120, 10
"""Each round times REVIEWERS claims over HTTP and REVIEWERS by the floor, after WARMUP rounds
of each."""
TARGET_MS = 5.0
CLAIM = "SELECT project_claim(%s, now(), false, 60)::text"


def build(url: str) -> list[tuple[str, str]]:
    """PENDING submissions in the queue; (reviewer id, bearer token) of every reviewer."""
    engine = create_db_engine(url)
    try:
        migrate.upgrade(engine)
        with Session(engine) as session:
            _, tree = published_tree(session, "Projects", "projects")
            session.add_all(
                Skill(
                    skill_tree_id=tree.id,
                    name=f"Project {n}",
                    key=f"project-{n}",
                    xp_value=40,
                    completion_policy={"PROJECT": {}},
                )
                for n in range(SKILLS)
            )
            session.flush()
            add_learners(session, LEARNERS)
            # As the learners would have submitted them, one a second, oldest first (written
            # straight: project_submit makes the same rows, one a call).
            session.execute(
                text(
                    "INSERT INTO project_submissions (user_id, id, skill_id, skill_tree_id,"
                    " round, status, content, submitted_at, claimable_at)"
                    " SELECT l.id, new_row_id(), l.skill_id, l.skill_tree_id, 1, 'PENDING',"
                    ' \'{"text": "my work", "links": []}\', l.at, l.at FROM ('
                    "  SELECT u.id, s.id AS skill_id, s.skill_tree_id, now()"
                    "   - make_interval(secs => row_number() OVER (ORDER BY u.id, s.id)) AS at"
                    "  FROM users u CROSS JOIN skills s WHERE u.id LIKE 'learner%') l"
                )
            )
            reviewers = [signed_in_user(session, f"r{n}", UserRole.ADMIN) for n in range(REVIEWERS)]
            session.commit()
            return reviewers
    finally:
        engine.dispose()


def analyze(url: str) -> int:
    """VACUUM ANALYZE the submissions (as after any bulk load); how many are pending."""
    with psycopg.connect(libpq_dsn(url), autocommit=True) as db:
        db.execute("VACUUM ANALYZE project_submissions")
        row = db.execute("SELECT count(*) FROM project_submissions WHERE status = 'PENDING'")
        found = row.fetchone()
    assert found is not None
    return int(found[0])


def race(claims: list[Callable[[], dict[str, Any]]]) -> list[tuple[float, dict[str, Any]]]:
    """Every claim in a thread of its own, all released at once: (ms, answer) of each."""
    barrier = threading.Barrier(len(claims))
    results: list[tuple[float, dict[str, Any]] | None] = [None] * len(claims)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = timed(claims[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(claims))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


def measure(url: str, reviewers: list[tuple[str, str]]) -> tuple[dict[str, list[float]], int]:
    """Rounds of REVIEWERS claims at once, by HTTP and by the floor, taking turns; and how many
    submissions were claimed (each once)."""
    samples: dict[str, list[float]] = {
        "HTTP": [], "SQL": [], "HTTP alone": [], "SQL alone": [], "HTTP me": []
    }  # fmt: skip
    claimed: list[str] = []
    port = free_port()
    with terminating(start_server(url, port)):
        https = [RawPost(port) for _ in reviewers]
        dbs = [psycopg.connect(libpq_dsn(url)) for _ in reviewers]
        try:

            def by_http(i: int) -> Callable[[], dict[str, Any]]:
                headers = {"Authorization": f"Bearer {reviewers[i][1]}"}

                def claim() -> dict[str, Any]:
                    status, answer = https[i].post("/api/v1/reviews/claim", None, headers)
                    assert status == 200, answer
                    return dict(answer)

                return claim

            def by_sql(i: int) -> Callable[[], dict[str, Any]]:
                reviewer, db = reviewers[i][0], dbs[i]

                def claim() -> dict[str, Any]:
                    with db.transaction():
                        db.execute(
                            "SELECT set_config('app.current_user_id', %s, true)", (reviewer,)
                        )
                        row = db.execute(CLAIM, (reviewer,)).fetchone()
                    assert row is not None
                    return dict(json.loads(row[0]))

                return claim

            for n in range(WARMUP + ROUNDS):
                for kind, make in (("HTTP", by_http), ("SQL", by_sql)):
                    answers = race([make(i) for i in range(len(reviewers))])
                    claimed += [answer["id"] for _, answer in answers]
                    if n >= WARMUP:
                        samples[kind] += [ms for ms, _ in answers]
                    # One reviewer alone, for scale: what a claim costs without the race.
                    ms, answer = timed(make(n % len(reviewers)))
                    claimed.append(answer["id"])
                    if n >= WARMUP:
                        samples[f"{kind} alone"].append(ms)
                # What any signed-in request costs here, for scale: GET /me, alone.
                headers = {"Authorization": f"Bearer {reviewers[0][1]}"}
                me_ms, (status, _) = timed(
                    lambda h=headers: https[0].post("/api/v1/me", None, h, "GET")
                )
                assert status == 200
                if n >= WARMUP:
                    samples["HTTP me"].append(me_ms)
        finally:
            for db in dbs:
                db.close()
    assert len(claimed) == len(set(claimed)), "a submission was claimed twice"
    with psycopg.connect(libpq_dsn(url)) as db:
        row = db.execute(
            "SELECT count(*) FROM project_submissions WHERE claimed_by IS NOT NULL"
        ).fetchone()
    assert row is not None
    assert row[0] == len(claimed), (row, len(claimed))
    return samples, len(claimed)


def report(samples: dict[str, list[float]], claims: int, pending: int, where: str) -> str:
    """The markdown section for RESULTS.md."""
    p50 = {name: percentile(values, 0.5) for name, values in samples.items()}
    p95 = {name: percentile(values, 0.95) for name, values in samples.items()}
    rows = [
        f"| {label} | {p50[f'HTTP{key}']:.2f} | {p95[f'HTTP{key}']:.2f} | "
        f"{p50[f'SQL{key}']:.2f} | {p50[f'HTTP{key}'] / p50[f'SQL{key}']:.1f}x | {target} |"
        for label, key, target in (
            (f"{REVIEWERS} reviewers claiming at once", "", f"{TARGET_MS:.0f}"),
            ("one reviewer alone", " alone", ""),
        )
    ]
    met = "met" if p50["HTTP"] <= TARGET_MS else "**not met**"
    return f"""
## Project reviews (issue 14, part 3): claim the next submission

`python -m benchmarks.bench_reviews`, {today()}, on {where}.

{pending:,} submissions pending ({LEARNERS:,} learners x {SKILLS} PROJECT skills), claimed oldest
first. {REVIEWERS} reviewers (admins) claim in rounds, all {REVIEWERS} claims of a round sent at
once (a barrier), each on its own keep-alive connection to one uvicorn process (`POST
/api/v1/reviews/claim`); the floor is the same statement (`project_claim`) from {REVIEWERS} psycopg
connections racing the same way, one transaction each as the reviewer. HTTP and floor take
turns, {ROUNDS} rounds each after {WARMUP} warm-up rounds; after each round one reviewer claims
alone, for scale. Claims stay in the queue's head while they last, so later claims pass over
every earlier one (inside the index) and over those in flight (`SKIP LOCKED`).
{claims:,} claims were made, no submission claimed twice (checked in the run and in the table).

| claim | HTTP p50 ms | HTTP p95 ms | floor (SQL) p50 ms | HTTP / floor | target p50 ms |
| --- | ---: | ---: | ---: | ---: | ---: |
{chr(10).join(rows)}

For scale, what any signed-in request costs in the same turns: `GET /me` (the bearer token
checked, the account read) alone, p50 {p50["HTTP me"]:.2f} ms.

Target ({TARGET_MS:.0f} ms p50 with {REVIEWERS} at once): {met}. With {REVIEWERS} requests at once
on one process (and 2 cores), a claim's time includes waiting for the others' turns: the
"alone" row is what one claim costs. The load average at the start (above) is the machine's
share.
"""


def main() -> None:
    """Build, time, print the table and refresh RESULTS.md."""
    register_listeners()
    with throwaway_database("reviews") as url:
        reviewers = build(url)
        pending = analyze(url)
        where = machine(url)
        samples, claims = measure(url, reviewers)
    section = report(samples, claims, pending, where)
    print(section)
    write_results("bench_reviews", section)


if __name__ == "__main__":
    main()
