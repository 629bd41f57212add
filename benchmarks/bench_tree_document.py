"""GET /api/v1/trees/{slug} on a 1,000-skill tree: cold, from Redis, in-process, over HTTP, 304,
signed in, each against the SQL floor.

Run from the repository root: `python -m benchmarks.bench_tree_document`. Creates and drops its
own database on DATABASE_URL's server (or the embedded one) and refreshes benchmarks/RESULTS.md.
"""

from __future__ import annotations

import os
import random
import sys
from contextlib import ExitStack
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx2
import psycopg
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, text

from benchmarks.common import (
    libpq_dsn,
    machine,
    percentile,
    start_server,
    throwaway_database,
    time_calls,
    time_interleaved,
    today,
    write_results,
)
from skilltree.app import create_app
from skilltree.cache.trees import TreeStore, use_store
from skilltree.catalog import service as catalog_service
from skilltree.catalog.repository import TREE_DOCUMENT_SQL
from skilltree.catalog.schemas import TreeDocument
from skilltree.db import migrate
from skilltree.db.base import new_id
from skilltree.db.session import create_db_engine
from skilltree.graph import service as graph_service
from skilltree.listeners import register_listeners
from skilltree.models import (
    DifficultyLevel,
    Skill,
    SkillCategory,
    SkillDependency,
    SkillTree,
    SkillType,
)
from skilltree.ports import free_port

LAYERS, PER_LAYER = 20, 50
RUNS, WARMUP = 300, 30
SEED = 20250914
SLUG = "benchmark-tree"
TARGET_MS, TARGET_RATIO = 20.0, 3.0
LEARNER_TARGET_MS, LEARNER_TARGET_RATIO = 15.0, 2.0
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def skill_row(rng: random.Random, tree_id: str, layer: int, column: int) -> dict[str, object]:
    """One skill, filled about as a real tree's skills are."""
    return {
        "id": new_id(),
        "skill_tree_id": tree_id,
        "key": f"skill-{layer}-{column}",
        "name": f"Skill {layer}.{column}",
        "short_name": f"S{layer}.{column}",
        "description": f"Layer {layer}, column {column}: " + "lorem ipsum " * 12,
        "learning_objectives": [f"Objective {k} of skill {layer}.{column}" for k in (1, 2, 3)],
        "skill_type": rng.choice(list(SkillType)),
        "difficulty": list(DifficultyLevel)[layer * 4 // LAYERS],
        "estimated_minutes": rng.randrange(15, 240, 15),
        "xp_value": rng.choice([10, 25, 50, 75]),
        "position_x": column * 120.0,
        "position_y": layer * 160.0,
        "node_size": rng.randint(1, 3),
        "content": {"type": "structured", "modules": [{"title": "Basics", "type": "article"}]},
        "resources": [{"type": "link", "title": "Docs", "url": f"https://example.org/{layer}"}],
        "is_milestone": column == 0,
    }


def build_tree(engine: Engine) -> int:
    """A published tree of LAYERS x PER_LAYER skills as a layered DAG; returns the edge count."""
    rng = random.Random(SEED)
    category_id, tree_id = new_id(), new_id()
    skills: list[dict[str, object]] = []
    edges: list[dict[str, object]] = []
    earlier: list[str] = []
    for layer in range(LAYERS):
        layer_skills = [skill_row(rng, tree_id, layer, column) for column in range(PER_LAYER)]
        for skill in layer_skills:
            needs = rng.sample(earlier, rng.randint(1, 3)) if earlier else []
            edges += [
                {"skill_id": skill["id"], "depends_on_id": need, "skill_tree_id": tree_id}
                for need in needs
            ]
        skills += layer_skills
        earlier += [str(skill["id"]) for skill in layer_skills]
    with engine.begin() as conn:
        conn.execute(
            insert(SkillCategory),
            [{"id": category_id, "name": "Benchmarks", "slug": "benchmarks"}],
        )
        conn.execute(
            insert(SkillTree),
            [
                {
                    "id": tree_id,
                    "category_id": category_id,
                    "name": "Benchmark tree",
                    "slug": SLUG,
                    "tags": ["benchmark"],
                    "layout_config": {"nodeSpacing": 120, "levelHeight": 160},
                    "is_published": True,
                }
            ],
        )
        conn.execute(insert(Skill), skills)
        conn.execute(insert(SkillDependency), edges)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    return len(edges)


FLOOR = "floor: the SQL through plain psycopg"
CHECK_FLOOR = "floor of a cached read: the SQL when the copy is current"
COLD = "ASGI in-process, no copy anywhere (tree just changed)"
REDIS = "ASGI in-process, copy in Redis only (fresh process)"
ASGI = "ASGI in-process, copy in process (TestClient)"
HTTP = "HTTP, uvicorn (own process)"
NOT_MODIFIED = "HTTP, If-None-Match current: 304"
LEARNER_FLOOR = "learner floor: the SQL with the learner's rows"
LEARNER_CHECK_FLOOR = "learner floor of a cached read: version check + rows"
LEARNER = "HTTP, signed-in learner (skillStates of every skill)"
LEARNER_NOT_MODIFIED = "HTTP, signed-in learner, If-None-Match current: 304"
PYDANTIC = "not taken: Pydantic parse + dump of the document"
ANONYMOUS_TAIL = ',"progress":null,"skillStates":null}'
LEARNER_DONE = 150
"""Skills of the first layers the benchmark learner has completed (the next ones are AVAILABLE)."""


def add_learner(
    conn: psycopg.Connection[tuple[object, ...]], http: httpx2.Client
) -> tuple[str, str]:
    """A learner signed up through the API, enrolled, with LEARNER_DONE skills completed: their
    id and bearer token."""
    answer = http.post(
        "/api/v1/auth/register",
        json={"email": "bench@example.com", "username": "bench", "password": "quiet-forest-7513"},
    )
    answer.raise_for_status()
    user_id, token = answer.json()["user"]["id"], answer.json()["token"]
    conn.execute(
        """
        INSERT INTO user_skill_tree_progress (id, user_id, skill_tree_id, status, started_at)
        SELECT %(row)s, %(user)s, id, 'IN_PROGRESS', now() FROM skill_trees WHERE slug = %(slug)s
        """,
        {"row": new_id(), "user": user_id, "slug": SLUG},
    )
    conn.execute(
        """
        INSERT INTO user_skill_progress
            (id, user_id, skill_id, skill_tree_id, status, progress_percent, completed_at,
             completion_method)
        SELECT md5(s.id || %(user)s), %(user)s, s.id, s.skill_tree_id, 'COMPLETED', 100, now(),
               'MANUAL'
        FROM skills s JOIN skill_trees t ON t.id = s.skill_tree_id
        WHERE t.slug = %(slug)s
        ORDER BY s.position_y, s.position_x LIMIT %(done)s
        """,
        {"user": user_id, "slug": SLUG, "done": LEARNER_DONE},
    )
    return user_id, token


def redis_store() -> TreeStore | None:
    """A store on REDIS_URL (default: this machine's) under a prefix of this run; None when no
    Redis answers (the Redis row is then left out)."""
    store = TreeStore.from_url(REDIS_URL, prefix=f"skilltree-bench-{os.getpid()}:", timeout_ms=1000)
    try:
        store.client.ping()
    except (redis.RedisError, OSError):
        return None
    return store


def measure(url: str, engine: Engine) -> tuple[dict[str, list[float]], int]:
    """Timings (ms) of each path, floor first, and the document's size in bytes; checks that
    every path returns the same document."""
    path = f"/api/v1/trees/{SLUG}"
    with ExitStack() as stack:
        conn = stack.enter_context(psycopg.connect(libpq_dsn(url), autocommit=True))
        client = stack.enter_context(TestClient(create_app(engine)))
        port = free_port()
        server = start_server(url, port)
        stack.callback(server.wait, 10)
        stack.callback(server.terminate)
        http = stack.enter_context(httpx2.Client(base_url=f"http://127.0.0.1:{port}"))
        store = redis_store()
        if store is not None:
            stack.callback(use_store, use_store(store))

        def floor(user_id: str | None = None, known: tuple[str, int] | None = None) -> str:
            # Auto-prepared by psycopg after a few runs, as on the app's pooled connections.
            known_id, known_version = known or (None, None)
            parameters = {
                "build": True,
                "slug": SLUG,
                "user_id": user_id,
                "known_id": known_id,
                "known_version": known_version,
            }
            row = conn.execute(TREE_DOCUMENT_SQL, parameters).fetchone()
            assert row is not None
            return str(row[2])

        def forget_copies() -> None:
            catalog_service.DOCUMENTS.clear()
            graph_service.GRAPHS.clear()

        def cold() -> None:
            forget_copies()
            if store is not None:
                store.forget([tree_id])
            client.get(path).raise_for_status()

        def from_redis() -> None:
            forget_copies()
            client.get(path).raise_for_status()

        learner_id, token = add_learner(conn, http)
        signed_in = {"Authorization": f"Bearer {token}"}
        expected = floor()
        answered = client.get(path)
        tree_id, version = answered.headers["ETag"].strip('"').split(".")
        current = (tree_id, int(version))
        if store is not None:
            stack.callback(store.forget, [tree_id])
        # The app sends the floor's document, plus the learning plan and the (empty) learner parts.
        for answer in (answered.text, http.get(path).text):
            assert answer.startswith(expected[:-1] + ',"learningOrder":')
            assert answer.endswith(ANONYMOUS_TAIL)
        read = http.get(path, headers=signed_in)
        states = read.json()["skillStates"]
        assert sum(s["status"] == "COMPLETED" for s in states.values()) == LEARNER_DONE
        etag, learner_etag = answered.headers["ETag"], read.headers["ETag"]
        assert http.get(path, headers={"If-None-Match": etag}).status_code == 304

        def not_modified(headers: dict[str, str]) -> None:
            assert http.get(path, headers=headers).status_code == 304

        calls = {
            FLOOR: floor,
            CHECK_FLOOR: lambda: floor(None, current),
            COLD: cold,
            REDIS: from_redis,
            ASGI: lambda: client.get(path).raise_for_status(),
            HTTP: lambda: http.get(path).raise_for_status(),
            NOT_MODIFIED: lambda: not_modified({"If-None-Match": etag}),
            LEARNER_FLOOR: lambda: floor(learner_id),
            LEARNER_CHECK_FLOOR: lambda: floor(learner_id, current),
            LEARNER: lambda: http.get(path, headers=signed_in).raise_for_status(),
            LEARNER_NOT_MODIFIED: lambda: not_modified(signed_in | {"If-None-Match": learner_etag}),
        }
        if store is None:
            del calls[REDIS]
        else:
            from_redis()
            assert store.get(tree_id, int(version)) is not None
        samples = time_interleaved(calls, runs=RUNS, warmup=WARMUP)
    samples[PYDANTIC] = time_calls(
        lambda: TreeDocument.model_validate_json(answered.text).model_dump_json(by_alias=True),
        runs=RUNS // 3,
        warmup=3,
    )
    return samples, len(expected.encode())


def report(samples: dict[str, list[float]], size: int, edges: int, where: str) -> str:
    """The markdown section for RESULTS.md."""
    size_kb = size / 1024
    p50 = {name: percentile(s, 0.5) for name, s in samples.items()}
    floor_p50 = p50[FLOOR]

    def against(name: str, floor: str) -> float:
        return p50[name] / p50[floor]

    rows = [
        f"| {name} | {p50[name]:.2f} | {percentile(s, 0.95):.2f} | {p50[name] / floor_p50:.2f}x |"
        for name, s in samples.items()
    ]

    def verdict(ok: bool) -> str:
        return "met" if ok else "**not met**"

    http_p50, learner_p50 = p50[HTTP], p50[LEARNER]
    ratio, learner_ratio = against(HTTP, FLOOR), against(LEARNER, LEARNER_FLOOR)
    redis_line = (
        f"a process holding no copy of its own, with the document in Redis: {p50[REDIS]:.2f} ms "
        f"in-process ({against(REDIS, FLOOR):.2f}x the floor)"
        if REDIS in p50
        else "no Redis answered at REDIS_URL: the Redis path was not measured"
    )
    return f"""
## GET /api/v1/trees/{{slug}}: one tree of {LAYERS * PER_LAYER:,} skills

`python -m benchmarks.bench_tree_document`, {today()}, on {where}; Redis at `REDIS_URL` (default
127.0.0.1:6379, a key prefix of the run's own) for the in-process paths.

A published tree of {LAYERS * PER_LAYER:,} active skills: a layered DAG of {LAYERS} layers of
{PER_LAYER}, every skill past the first layer needing 1-3 skills of earlier layers
({edges:,} edges, seed {SEED}). The document is {size_kb:,.0f} KiB of JSON. Each path is timed
over {RUNS} sequential requests after {WARMUP} warm-up ones, the paths taking turns in
blocks of {RUNS // 10} so that a busy moment of the machine hits them alike (the Pydantic row:
{RUNS // 3} runs on its own).

| path | p50 ms | p95 ms | p50 / floor p50 |
| --- | ---: | ---: | ---: |
{chr(10).join(rows)}

**Targets.** Issue 2, anonymous over HTTP: p50 <= {TARGET_MS:.0f} ms
{verdict(http_p50 <= TARGET_MS)} ({http_p50:.2f} ms), p50 <= {TARGET_RATIO:.0f}x the floor
{verdict(ratio <= TARGET_RATIO)} ({ratio:.2f}x). Issue 4, a signed-in learner over HTTP:
p50 <= {LEARNER_TARGET_MS:.0f} ms {verdict(learner_p50 <= LEARNER_TARGET_MS)}
({learner_p50:.2f} ms), p50 <= {LEARNER_TARGET_RATIO:.0f}x its floor
{verdict(learner_ratio <= LEARNER_TARGET_RATIO)} ({learner_ratio:.2f}x; it is
{against(LEARNER, LEARNER_CHECK_FLOOR):.1f}x the SQL a cached read runs, the rest being HTTP,
sign-in and sending {size_kb:,.0f} KiB). Issue 5: {redis_line}; with no copy anywhere
{p50[COLD]:.2f} ms; a 304 costs {p50[NOT_MODIFIED]:.2f} ms over HTTP
({p50[LEARNER_NOT_MODIFIED]:.2f} ms signed in).

- Copies are kept per `skill_trees.structure_version` (migration 0011; bumped by triggers on
  any change to the tree, by any writer): in process (the document's bytes, and the tree's one
  graph that skill states and the learning plan come from) and, with `REDIS_URL`, in Redis
  under the tree's id and version. A request's one statement reads the version, the viewer's
  rows and visibility; the document is built only when no copy has that version. A signed-in
  learner's states are derived from the cached graph, asking the rules (progress.states) only
  about skills that could be other than LOCKED.
- *floor*: `src/skilltree/catalog/tree_document.sql` run through one plain psycopg connection
  (autocommit, auto-prepared), fetching PostgreSQL's JSON text: the cost of building the
  document; the *learner floor* adds the learner's {LEARNER_DONE} completed rows and enrolment.
  The *floors of a cached read* are the same statement when the caller's copy is current:
  what a warm request pays in the database.
- *ASGI in-process*: the FastAPI app through starlette's TestClient, session per request
  (pool checkout, BEGIN, the statement, COMMIT). *No copy anywhere*: the in-process caches and
  the Redis copy are dropped before each request, so it pays a version check, the build, and
  storing the copy in Redis. *Copy in Redis only*: the in-process caches are dropped, so it
  pays the version check and fetching {size_kb:,.0f} KiB from Redis (stored with its learning
  plan; a signed-in learner's first read in a process also reads the tree's graph, one query).
- *HTTP*: the same app under uvicorn in its own process, an httpx2 client with keep-alive.
- The endpoint sends PostgreSQL's text as it is (`Response`, `response_model` kept for OpenAPI):
  parsing and re-serialising it through the Pydantic `TreeDocument` would add the last row's
  cost to every request.
"""


def main() -> None:
    """Build the data, time every path, print the table and refresh RESULTS.md."""
    register_listeners()
    with throwaway_database("tree_document") as url:
        engine = create_db_engine(url)
        try:
            migrate.upgrade(engine)
            edges = build_tree(engine)
            where = machine(url)
            samples, size = measure(url, engine)
            section = report(samples, size, edges, where)
        finally:
            engine.dispose()
    print(section)
    write_results("bench_tree_document", section)


if __name__ == "__main__":
    main()
