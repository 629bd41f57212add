"""Issue 14, part 2: start an attempt, and submit it (graded, and a pass completing the skill
with every consequence), over HTTP.

Run from the repository root: `python -m benchmarks.bench_assessments`. Creates and drops its own
database on DATABASE_URL's server (or the embedded one) and refreshes benchmarks/RESULTS.md.

A bank of 30 questions (every kind), 10 drawn per attempt, options shuffled, on a skill of a
published tree; LEARNERS learners, each starting one attempt and submitting it right (a pass:
the skill is completed through the engine, enrolment, XP, streak, achievements). Timed over raw
keep-alive HTTP against a uvicorn process; the floor is the same two database calls made
straight from psycopg (one transaction each, as the learner), taking turns with the requests.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

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
    timed,
    today,
    write_results,
)
from skilltree.assessments import service as assessments
from skilltree.assessments.schemas import QuestionBank
from skilltree.db import migrate
from skilltree.db.session import create_db_engine
from skilltree.listeners import register_listeners
from skilltree.models import (
    Skill,
)
from skilltree.ports import free_port

LEARNERS, WARMUP = 400, 40
"""Each learner is timed once (half through HTTP, half through the floor), after WARMUP of each."""
QUESTIONS, DRAWN = 30, 10
START_TARGET_MS, SUBMIT_TARGET_MS = 10.0, 15.0


def question(n: int) -> dict[str, Any]:
    """Question `n` of the bank, of kind n % 5, and its right answer."""
    options = [{"id": f"o{i}", "text": f"option {i}"} for i in range(4)]
    base = {"id": f"q{n}", "prompt": f"Question {n}?", "explanation": "Because."}
    match n % 5:
        case 0:
            return base | {"kind": "SINGLE_CHOICE", "options": options, "correct": "o1"}
        case 1:
            return base | {"kind": "MULTIPLE_CHOICE", "options": options, "correct": ["o0", "o2"]}
        case 2:
            return base | {"kind": "NUMERIC", "answer": 1.5, "tolerance": 0.01}
        case 3:
            return base | {"kind": "SHORT_TEXT", "accepted": ["Paris"], "pattern": "par+is"}
    return base | {"kind": "ORDERING", "options": options}


RIGHT: dict[str, Any] = {}
for _n in range(QUESTIONS):
    RIGHT[f"q{_n}"] = [
        "o1",
        ["o2", "o0"],
        "1,5",
        " PARIS ",
        ["o0", "o1", "o2", "o3"],
    ][_n % 5]


def build(url: str) -> tuple[str, list[tuple[str, str]]]:
    """The skill with its bank, and (learner id, bearer token) of every learner."""
    engine = create_db_engine(url)
    try:
        migrate.upgrade(engine)
        with Session(engine) as session:
            author, tree = published_tree(session, "Quiz", "quizzes")
            skill = Skill(
                skill_tree_id=tree.id, name="Quiz", key="quiz", xp_value=40,
                completion_policy={"ASSESSMENT": {}},
            )  # fmt: skip
            session.add(skill)
            session.flush()
            bank = QuestionBank.model_validate(
                {
                    "settings": {
                        "questionsPerAttempt": DRAWN, "shuffleOptions": True, "passingScore": 80,
                        "timeLimitSeconds": 3600,
                    },
                    "questions": [question(n) for n in range(QUESTIONS)],
                }
            )  # fmt: skip
            assessments.put_bank(session, skill.id, bank, author)
            learners = [signed_in_user(session, f"l{n}") for n in range(2 * (LEARNERS + WARMUP))]
            session.commit()
            return skill.id, learners
    finally:
        engine.dispose()


def measure(url: str, skill_id: str, learners: list[tuple[str, str]]) -> dict[str, list[float]]:
    """Each learner's start and submit, by HTTP or by the floor's SQL, taking turns."""
    samples: dict[str, list[float]] = {
        "HTTP start": [], "HTTP submit": [], "SQL start": [], "SQL submit": [], "HTTP me": []
    }  # fmt: skip
    port = free_port()
    with terminating(start_server(url, port)), psycopg.connect(libpq_dsn(url)) as db:
        http = RawPost(port)

        def by_http(token: str) -> tuple[float, float]:
            headers = {"Authorization": f"Bearer {token}"}
            took, (status, attempt) = timed(
                lambda: http.post(f"/api/v1/skills/{skill_id}/attempts", None, headers)
            )
            assert status == 200, attempt
            graded_took, (status, graded) = timed(
                lambda: http.post(
                    f"/api/v1/attempts/{attempt['id']}/submit", {"answers": RIGHT}, headers
                )
            )
            assert status == 200, graded
            assert graded["passed"], graded
            return took, graded_took

        def by_sql(user_id: str) -> tuple[float, float]:
            def start() -> Any:
                with db.transaction():
                    db.execute("SELECT set_config('app.current_user_id', %s, true)", (user_id,))
                    row = db.execute(
                        "SELECT assessment_start(%s, %s, now())::text", (user_id, skill_id)
                    ).fetchone()
                assert row is not None
                return json.loads(row[0])

            took, attempt = timed(start)

            def submit() -> Any:
                with db.transaction():
                    db.execute("SELECT set_config('app.current_user_id', %s, true)", (user_id,))
                    row = db.execute(
                        "SELECT assessment_submit(%s, %s, %s::jsonb, now())::text",
                        (user_id, attempt["id"], json.dumps(RIGHT).lower()),
                    ).fetchone()
                assert row is not None
                return json.loads(row[0])

            graded_took, graded = timed(submit)
            assert graded["passed"], graded
            return took, graded_took

        for n, (user_id, token) in enumerate(learners):
            if n % 2 == 0:
                start_ms, submit_ms = by_http(token)
                kind = "HTTP"
            else:
                start_ms, submit_ms = by_sql(user_id)
                kind = "SQL"
            if n >= 2 * WARMUP:
                samples[f"{kind} start"].append(start_ms)
                samples[f"{kind} submit"].append(submit_ms)
                if kind == "HTTP":
                    me = {"Authorization": f"Bearer {token}"}
                    me_ms, (status, _) = timed(
                        lambda me=me: http.post("/api/v1/me", None, me, "GET")
                    )
                    assert status == 200
                    samples["HTTP me"].append(me_ms)
    return samples


def report(samples: dict[str, list[float]], where: str) -> str:
    """The markdown section for RESULTS.md."""
    p50 = {name: percentile(values, 0.5) for name, values in samples.items()}
    rows = [
        f"| {path} | {p50[f'HTTP {path}']:.2f} | "
        f"{percentile(samples[f'HTTP {path}'], 0.95):.2f} | {p50[f'SQL {path}']:.2f} | "
        f"{p50[f'HTTP {path}'] / p50[f'SQL {path}']:.1f}x | {target:.0f} | "
        f"{'met' if p50[f'HTTP {path}'] <= target else '**not met**'} |"
        for path, target in (("start", START_TARGET_MS), ("submit", SUBMIT_TARGET_MS))
    ]
    return f"""
## Assessments (issue 14, part 2): start an attempt, submit it

`python -m benchmarks.bench_assessments`, {today()}, on {where}.

A bank of {QUESTIONS} questions (every kind), {DRAWN} drawn per attempt with options shuffled;
{LEARNERS} learners each start one attempt and submit it right (graded, passed, the skill
completed through the engine with enrolment, XP, streak and achievements), half over HTTP (raw
keep-alive requests to one uvicorn process, bearer tokens), half by the floor: the same
function called straight from psycopg as the learner, one transaction each; taking turns, after
{WARMUP} warm-up learners of each.

| path | HTTP p50 ms | HTTP p95 ms | floor (SQL) p50 ms | HTTP / floor | target p50 ms | |
| --- | ---: | ---: | ---: | ---: | ---: | --- |
{chr(10).join(rows)}

What any signed-in request costs here, for scale: `GET /me` (the bearer token checked, the
account read), timed in the same turns, p50 {p50["HTTP me"]:.2f} ms. The load average at the
start (above) is the machine's share: the targets are the issue's, for an idle machine.
"""


def main() -> None:
    """Build, time, print the table and refresh RESULTS.md."""
    register_listeners()
    with throwaway_database("assessments") as url:
        skill_id, learners = build(url)
        where = machine(url)
        samples = measure(url, skill_id, learners)
    section = report(samples, where)
    print(section)
    write_results("bench_assessments", section)


if __name__ == "__main__":
    main()
