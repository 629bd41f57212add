"""Issue 14, part 4: one time-on-content heartbeat, over HTTP.

Run from the repository root: `python -m benchmarks.bench_heartbeats`. Creates and drops its own
database on DATABASE_URL's server (or the embedded one) and refreshes benchmarks/RESULTS.md.

A published tree of SKILLS skills, each with MODULES content modules; two learners have opened
module 1 of skill 1 (the first heartbeat, which starts the skill, is not timed). Then each
heartbeat adds the time since the last one (within the gap and the module's cap), the skill's
minutes and the profile's hours learned: `POST /api/v1/skills/{id}/modules/1/heartbeat` over one
keep-alive connection to one uvicorn process for one learner; the floor is the same write by
hand-written SQL for the other learner through psycopg, in a transaction as the learner (the
module's row locked, its seconds grown by the bounded gap, the profile's hours learned grown by
as much). The two take turns. For scale, `GET /api/v1/me` (what any signed-in request costs)
takes turns with them.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from sqlalchemy.orm import Session

from benchmarks.common import (
    RawPost,
    libpq_dsn,
    machine,
    percentile,
    published_tree,
    signed_in_user,
    start_server,
    terminating,
    throwaway_database,
    time_interleaved,
    today,
    write_results,
)
from skilltree.config import get_settings
from skilltree.db import migrate
from skilltree.db.session import create_db_engine
from skilltree.listeners import register_listeners
from skilltree.models import Skill
from skilltree.ports import free_port

SKILLS, MODULES = 100, 5
MODULE_MINUTES = 100_000
"""Each module's estimate: its cap (twice that) is never reached, so every heartbeat adds time."""
RUNS, WARMUP = 600, 60

FLOOR = """
WITH last AS (
    SELECT seconds_spent, last_heartbeat_at FROM user_skill_module_progress
    WHERE user_id = %(user)s AND skill_id = %(skill)s AND module_id = '1' FOR UPDATE
), added AS (
    SELECT least(greatest(0, extract(epoch FROM now() - last_heartbeat_at)), %(gap)s,
                 greatest(0, %(cap)s - seconds_spent)) AS seconds FROM last
), beat AS (
    UPDATE user_skill_module_progress p
    SET seconds_spent = p.seconds_spent + added.seconds,
        last_heartbeat_at = greatest(p.last_heartbeat_at, now()), heartbeats = p.heartbeats + 1
    FROM added
    WHERE p.user_id = %(user)s AND p.skill_id = %(skill)s AND p.module_id = '1'
    RETURNING p.seconds_spent
)
UPDATE user_profiles SET hours_learned = hours_learned + (SELECT seconds FROM added) / 3600.0
WHERE user_id = %(user)s
RETURNING (SELECT seconds_spent FROM beat)
"""


def build(url: str) -> tuple[str, list[tuple[str, str]]]:
    """The tree; the skill timed, and (learner id, bearer token) of the two learners."""
    engine = create_db_engine(url)
    try:
        migrate.upgrade(engine)
        with Session(engine) as session:
            _, tree = published_tree(session, "Reading", "reading")
            modules = [
                {"title": f"Part {n}", "type": "article", "estimatedMinutes": MODULE_MINUTES,
                 "resources": []}
                for n in range(1, MODULES + 1)
            ]  # fmt: skip
            skills = [
                Skill(
                    skill_tree_id=tree.id, name=f"Skill {n}", key=f"skill-{n}", xp_value=10,
                    content={"type": "structured", "modules": modules},
                )
                for n in range(SKILLS)
            ]  # fmt: skip
            session.add_all(skills)
            learners = [signed_in_user(session, f"l{n}") for n in range(2)]
            session.commit()
            return skills[0].id, learners
    finally:
        engine.dispose()


def measure(url: str, skill_id: str, learners: list[tuple[str, str]]) -> dict[str, list[float]]:
    """HTTP, the floor and GET /me, taking turns."""
    (_, token), (floor_user, floor_token) = learners
    path = f"/api/v1/skills/{skill_id}/modules/1/heartbeat"
    headers = {"Authorization": f"Bearer {token}"}
    settings = get_settings()
    values = {
        "user": floor_user,
        "skill": skill_id,
        "gap": settings.content_heartbeat_max_seconds,
        "cap": int(settings.content_module_time_factor * MODULE_MINUTES * 60),
    }
    port = free_port()
    with terminating(start_server(url, port)), psycopg.connect(libpq_dsn(url)) as db:
        http = RawPost(port)
        for who in (headers, {"Authorization": f"Bearer {floor_token}"}):
            status, opened = http.post(path, None, who)  # opens the module, starts the skill
            assert status == 200, opened

        def by_http() -> None:
            status, beat = http.post(path, None, headers)
            assert status == 200, beat
            assert beat["addedSeconds"] > 0, beat

        def by_sql() -> None:
            with db.transaction():
                db.execute("SELECT set_config('app.current_user_id', %s, true)", (floor_user,))
                row = db.execute(FLOOR, values).fetchone()
            assert row is not None
            assert row[0] > 0, row

        def me() -> None:
            status, _ = http.post("/api/v1/me", None, headers, "GET")
            assert status == 200

        return time_interleaved(
            {"HTTP": by_http, "SQL": by_sql, "me": me}, runs=RUNS, warmup=WARMUP
        )


def report(samples: dict[str, list[float]], where: str) -> str:
    """The markdown section for RESULTS.md."""
    p50 = {name: percentile(values, 0.5) for name, values in samples.items()}
    p95 = {name: percentile(values, 0.95) for name, values in samples.items()}
    return f"""
## Time on content (issue 14, part 4): a heartbeat

`python -m benchmarks.bench_heartbeats`, {today()}, on {where}.

A published tree of {SKILLS} skills of {MODULES} content modules each; a learner who opened a
module sends heartbeats: `POST /api/v1/skills/{{id}}/modules/1/heartbeat` (the time since the
last one, bounded by the gap and the module's cap, added to the module, the skill's minutes and
the profile's hours learned, with the engine's checks: the learner locked, the skill visible and
started, a TIME_BASED completion looked for) over one keep-alive connection to one uvicorn
process. The floor is the same write by hand-written SQL through psycopg for another learner, in
a transaction as the learner: the module's row locked, its seconds grown by the bounded gap, the
profile's hours learned by as much. {RUNS} of each after {WARMUP} warm-up ones, taking turns
with `GET /api/v1/me`, what any signed-in request costs here.

| heartbeat | p50 ms | p95 ms |
| --- | ---: | ---: |
| HTTP `POST .../heartbeat` | {p50["HTTP"]:.2f} | {p95["HTTP"]:.2f} |
| floor (SQL) | {p50["SQL"]:.2f} | {p95["SQL"]:.2f} |
| HTTP / floor | {p50["HTTP"] / p50["SQL"]:.1f}x | |
| HTTP `GET /me`, for scale | {p50["me"]:.2f} | {p95["me"]:.2f} |

The issue sets no target for heartbeats; the load average at the start (above) is the machine's
share.
"""


def main() -> None:
    """Build, time, print the table and refresh RESULTS.md."""
    register_listeners()
    with throwaway_database("heartbeats") as url:
        skill_id, learners = build(url)
        where = machine(url)
        samples = measure(url, skill_id, learners)
    section = report(samples, where)
    print(section)
    write_results("bench_heartbeats", section)


if __name__ == "__main__":
    main()
