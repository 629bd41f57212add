"""Issue 14, part 6: the reviews due for a learner with 1,000 mastered skills, over HTTP.

Run from the repository root: `python -m benchmarks.bench_mastery`. Creates and drops its own
database on DATABASE_URL's server (or the embedded one) and refreshes benchmarks/RESULTS.md.

One published tree of SKILLS skills; LEARNERS learners have completed every one and hold a
MASTERED review card of each (`skill_mastery`), due dates spread over a year around now, DUE of
them due for the measured learner. `GET /api/v1/me/reviews` (its first page of 20, the longest
due first, and how many are due) over one keep-alive connection to one uvicorn process; the floor
is the hand-written query a person would write for the same page (the learner's cards due, by
the index on the learner and due date, joined to their skills' names, with a count), through
psycopg in a transaction as the learner. The two take turns.
"""

from __future__ import annotations

import secrets
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson
import psycopg
from sqlalchemy import text
from sqlalchemy.orm import Session

from benchmarks.common import (
    RawHttp,
    libpq_dsn,
    machine,
    percentile,
    published_tree,
    start_server,
    terminating,
    throwaway_database,
    time_interleaved,
    today,
    write_results,
)
from skilltree.accounts.service import token_digest
from skilltree.db import migrate
from skilltree.db.session import create_db_engine
from skilltree.listeners import register_listeners
from skilltree.models import Skill, UserSession
from skilltree.ports import free_port

SKILLS, LEARNERS, DUE = 1_000, 100, 60
RUNS, WARMUP = 600, 60
TARGET_MS = 10.0
PAGE = 20

FLOOR = """
SELECT m.skill_id, s.name, m.level, m.due_at, count(*) OVER ()
FROM skill_mastery m JOIN skills s ON s.id = m.skill_id
WHERE m.user_id = %(user)s AND m.due_at <= now()
ORDER BY m.due_at, m.skill_id LIMIT 20
"""


def build(url: str) -> tuple[str, str]:
    """The tree, the learners' completions and cards; (learner id, bearer token) measured."""
    engine = create_db_engine(url)
    try:
        migrate.upgrade(engine)
        with Session(engine) as session:
            _, tree = published_tree(session, "Skills", "skills")
            session.add_all(
                Skill(skill_tree_id=tree.id, name=f"Skill {n}", key=f"skill-{n}", xp_value=10)
                for n in range(SKILLS)
            )
            session.flush()
            session.execute(
                text(
                    "INSERT INTO users (id, email, username, password_hash)"
                    " SELECT 'learner' || n, 'l' || n || '@example.com', 'l' || n, '-'"
                    " FROM generate_series(1, :n) n"
                ),
                {"n": LEARNERS},
            )
            session.execute(
                text(
                    "INSERT INTO user_skill_progress (id, user_id, skill_id, skill_tree_id,"
                    " status, progress_percent, completion_method, unlocked_at, started_at,"
                    " completed_at)"
                    " SELECT new_row_id(), u.id, s.id, s.skill_tree_id, 'COMPLETED', 100,"
                    " 'MANUAL', now() - interval '400 days', now() - interval '400 days',"
                    " now() - interval '400 days'"
                    " FROM users u CROSS JOIN skills s WHERE u.id LIKE 'learner%'"
                )
            )
            # MASTERED cards, due over a year around now: DUE of each learner's are due.
            session.execute(
                text(
                    "INSERT INTO skill_mastery (user_id, skill_id, evidence, verified, level,"
                    " card, due_at, last_reviewed_at, reviews, lapses)"
                    " SELECT c.user_id, c.skill_id, 2, true, 'MASTERED', '{\"card_id\": 1}', c.due,"
                    " c.due - interval '30 days', 3, 0 FROM ("
                    "  SELECT u.id AS user_id, s.id AS skill_id, now() + make_interval(hours =>"
                    "   ((row_number() OVER (PARTITION BY u.id ORDER BY s.id) - :due) * 8"
                    "    - 4)::int)"
                    "   AS due FROM users u CROSS JOIN skills s WHERE u.id LIKE 'learner%') c"
                ),
                {"due": DUE},
            )
            token = secrets.token_urlsafe(16)
            session.add(
                UserSession(
                    user_id="learner1", token_hash=token_digest(token),
                    expires_at=datetime.now(UTC) + timedelta(hours=6),
                )
            )  # fmt: skip
            session.commit()
            return "learner1", token
    finally:
        engine.dispose()


def analyze(url: str) -> None:
    """VACUUM ANALYZE what was loaded (as after any bulk load)."""
    with psycopg.connect(libpq_dsn(url), autocommit=True) as db:
        for table in ("skill_mastery", "user_skill_progress", "skills", "users"):
            db.execute(f"VACUUM ANALYZE {table}")


def measure(url: str, learner: str, token: str) -> dict[str, list[float]]:
    """HTTP and the floor, taking turns."""
    port = free_port()
    with terminating(start_server(url, port)), psycopg.connect(libpq_dsn(url)) as db:
        http = RawHttp(port)
        headers = {"Authorization": f"Bearer {token}"}

        def by_http() -> None:
            status, body = http.get(f"/api/v1/me/reviews?pageSize={PAGE}", headers)
            assert status == 200, body
            page = orjson.loads(body)
            assert page["total"] == DUE, page
            assert len(page["items"]) == PAGE, page

        def by_sql() -> None:
            with db.transaction():
                db.execute("SELECT set_config('app.current_user_id', %s, true)", (learner,))
                rows = db.execute(FLOOR, {"user": learner}).fetchall()
            assert len(rows) == PAGE
            assert rows[0][-1] == DUE

        def me() -> None:
            status, _ = http.get("/api/v1/me", headers)
            assert status == 200

        try:
            return time_interleaved(
                {"HTTP": by_http, "SQL": by_sql, "me": me}, runs=RUNS, warmup=WARMUP
            )
        finally:
            http.close()


def report(samples: dict[str, list[float]], where: str) -> str:
    """The markdown section for RESULTS.md."""
    p50 = {name: percentile(values, 0.5) for name, values in samples.items()}
    p95 = {name: percentile(values, 0.95) for name, values in samples.items()}
    met = "met" if p50["HTTP"] <= TARGET_MS else "**not met**"
    return f"""
## Mastery reviews (issue 14, part 6): the reviews due

`python -m benchmarks.bench_mastery`, {today()}, on {where}.

{LEARNERS} learners have completed all {SKILLS:,} skills of one tree and hold a MASTERED review
card of each ({LEARNERS * SKILLS:,} cards), due dates spread over a year around now; {DUE} of the
measured learner's are due. `GET /api/v1/me/reviews?pageSize={PAGE}` (the first page, the longest
due first, with the level shown now and how many are due) over one keep-alive connection to one
uvicorn process; the floor is the hand-written query for the same page (the learner's due cards
by the index on learner and due date, with their skills' names and a count) through psycopg, in
a transaction as the learner. {RUNS} requests each after {WARMUP} warm-up ones, taking turns
with `GET /api/v1/me` (what any signed-in request costs here: the token checked, the account
read).

| reviews due | p50 ms | p95 ms | target p50 ms |
| --- | ---: | ---: | ---: |
| HTTP `GET /me/reviews` | {p50["HTTP"]:.2f} | {p95["HTTP"]:.2f} | {TARGET_MS:.0f} |
| floor (SQL) | {p50["SQL"]:.2f} | {p95["SQL"]:.2f} | |
| HTTP / floor | {p50["HTTP"] / p50["SQL"]:.1f}x | | |
| HTTP `GET /me`, for scale | {p50["me"]:.2f} | {p95["me"]:.2f} | |

Target ({TARGET_MS:.0f} ms p50): {met}. The API's query also finds completed skills without a
card yet (their completion stands for it) and checks each card's skill is still completed and
active; the floor reads the cards alone.
"""


def main() -> None:
    """Build, time, print the table and refresh RESULTS.md."""
    register_listeners()
    with throwaway_database("mastery") as url:
        learner, token = build(url)
        analyze(url)
        where = machine(url)
        samples = measure(url, learner, token)
    section = report(samples, where)
    print(section)
    write_results("bench_mastery", section)


if __name__ == "__main__":
    main()
