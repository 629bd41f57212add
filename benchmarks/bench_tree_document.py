"""GET /api/v1/trees/{slug} on trees of 1,000, 5,000 and 10,000 skills: just changed, from
Redis, in-process, over HTTP, 304, signed in, each against the SQL floor.

Run from the repository root: `python -m benchmarks.bench_tree_document`. Creates and drops its
own database on DATABASE_URL's server (or the embedded one) and refreshes benchmarks/RESULTS.md.
"""

from __future__ import annotations

import os
import random
import sys
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx2
import psycopg
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert

from benchmarks.common import (
    libpq_dsn,
    machine,
    percentile,
    start_server,
    terminating,
    throwaway_database,
    time_calls,
    time_interleaved,
    today,
    write_results,
)
from skilltree.app import create_app
from skilltree.cache.trees import TreeStore, use_store
from skilltree.catalog import service as catalog_service
from skilltree.catalog.repository import DOCUMENT_SETTINGS, TREE_DOCUMENT_SQL, TREE_MAP_SQL
from skilltree.catalog.schemas import TreeDocument
from skilltree.db import migrate
from skilltree.db.base import new_id
from skilltree.db.session import create_db_engine
from skilltree.gc_tuning import tune_collector
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
ALL_SIZES = {1_000: (300, 30), 5_000: (60, 6), 10_000: (30, 3)}
SIZES = {
    skills: ALL_SIZES[skills]
    for skills in map(int, os.environ.get("BENCH_TREE_SIZES", "1000,5000,10000").split(","))
}
"""The trees measured (skills: LAYERS layers of skills / LAYERS each), with the runs and
warm-up runs of each path: fewer on larger trees, whose every build takes longer.
BENCH_TREE_SIZES (e.g. `1000,10000`) measures some of them only."""
TARGET_MS, TARGET_RATIO = 20.0, 3.0
COLD_RATIO, LEARNER_RATIO = 1.2, 1.3
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


Row = dict[str, object]


def tree_rows(tree_id: str, per_layer: int = PER_LAYER) -> tuple[list[Row], list[Row]]:
    """The skills and edges of a tree of LAYERS x `per_layer` skills as a layered DAG (each
    skill needs 1-3 of the earlier layers'), the same for the same size (seeded)."""
    rng = random.Random(SEED)
    skills: list[Row] = []
    edges: list[Row] = []
    earlier: list[str] = []
    for layer in range(LAYERS):
        layer_skills = [skill_row(rng, tree_id, layer, column) for column in range(per_layer)]
        for skill in layer_skills:
            needs = rng.sample(earlier, rng.randint(1, 3)) if earlier else []
            edges += [
                {"skill_id": skill["id"], "depends_on_id": need, "skill_tree_id": tree_id}
                for need in needs
            ]
        skills += layer_skills
        earlier += [str(skill["id"]) for skill in layer_skills]
    return skills, edges


def build_tree(engine: Engine, *, per_layer: int = PER_LAYER, slug: str = SLUG) -> int:
    """A published tree of LAYERS x `per_layer` skills as a layered DAG, in a category of its
    own; returns the edge count."""
    tree_id = new_id()
    skills, edges = tree_rows(tree_id, per_layer)
    with engine.begin() as conn:
        conn.execute(
            pg_insert(SkillCategory)
            .values(id=new_id(), name="Benchmarks", slug="benchmarks")
            .on_conflict_do_nothing(index_elements=[SkillCategory.slug])
        )
        category_id = conn.scalar(
            select(SkillCategory.id).where(SkillCategory.slug == "benchmarks")
        )
        conn.execute(
            insert(SkillTree),
            [
                {
                    "id": tree_id,
                    "category_id": category_id,
                    "name": "Benchmark tree",
                    "slug": slug,
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
MAP_FLOOR = "map floor: tree_map.sql through plain psycopg"
MAP_COLD = "map, ASGI in-process, no copy (tree just changed)"
MAP_HTTP = "map, HTTP, copy in process"
MAP_GZIP = "map, HTTP, gzip (compressed once per version)"
MAP_NOT_MODIFIED = "map, HTTP, If-None-Match current: 304"
STATES = "states of the signed-in learner, HTTP"
IDENTITY = {"Accept-Encoding": "identity"}
"""What every path but MAP_GZIP sends: the rows before compression existed stay comparable."""
ANONYMOUS_TAIL = ',"progress":null,"skillStates":null}'
LEARNER_DONE = 150
"""Skills of the first layers the benchmark learner has completed in each tree (the next ones are
AVAILABLE): the same learner, as a learner's progress does not grow with the tree."""


def sign_up(client: TestClient) -> tuple[str, str]:
    """A learner signed up through the API: their id and bearer token."""
    answer = client.post(
        "/api/v1/auth/register",
        json={"email": "bench@example.com", "username": "bench", "password": "quiet-forest-7513"},
    )
    answer.raise_for_status()
    return answer.json()["user"]["id"], answer.json()["token"]


def enrol(conn: psycopg.Connection[tuple[object, ...]], user_id: str, slug: str) -> None:
    """`user_id` enrolled in tree `slug`, with its first LEARNER_DONE skills completed."""
    conn.execute(
        """
        INSERT INTO user_skill_tree_progress (id, user_id, skill_tree_id, status, started_at)
        SELECT %(row)s, %(user)s, id, 'IN_PROGRESS', now() FROM skill_trees WHERE slug = %(slug)s
        """,
        {"row": new_id(), "user": user_id, "slug": slug},
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
        {"user": user_id, "slug": slug, "done": LEARNER_DONE},
    )


def redis_store() -> TreeStore | None:
    """A store on REDIS_URL (default: this machine's) under a prefix of this run; None when no
    Redis answers (the Redis row is then left out)."""
    store = TreeStore.from_url(REDIS_URL, prefix=f"skilltree-bench-{os.getpid()}:", timeout_ms=1000)
    try:
        store.client.ping()
    except (redis.RedisError, OSError):
        return None
    return store


def tree_slug(skills: int) -> str:
    """The slug of the benchmark's tree of `skills` skills (SLUG for the first size)."""
    return SLUG if skills == min(SIZES) else f"{SLUG}-{skills}"


@dataclass(frozen=True)
class Measured:
    """One tree's timings (ms) of each path, floor first, its document's size and edge count."""

    skills: int
    edges: int
    samples: dict[str, list[float]]
    size: int
    map_size: int
    map_gzip_size: int


def measure(
    url: str, engine: Engine, port: int, learner: tuple[str, str], skills: int, edges: int
) -> Measured:
    """Time every path on the tree of `skills` skills; checks that every path returns the same
    document, and that a signed-in answer is the anonymous one with the learner's parts."""
    slug = tree_slug(skills)
    runs, warmup = SIZES[skills]
    path = f"/api/v1/trees/{slug}"
    learner_id, token = learner
    with ExitStack() as stack:
        conn = stack.enter_context(psycopg.connect(libpq_dsn(url), autocommit=True))
        # The statement's own settings, as the app runs it (catalog.repository).
        for name, value in DOCUMENT_SETTINGS.items():
            conn.execute("SELECT set_config(%s, %s, false)", (name, value))
        client = stack.enter_context(TestClient(create_app(engine), headers=IDENTITY))
        http = stack.enter_context(
            httpx2.Client(base_url=f"http://127.0.0.1:{port}", headers=IDENTITY)
        )
        store = redis_store()
        if store is not None:
            stack.callback(use_store, use_store(store))

        def floor(user_id: str | None = None, known: tuple[str, int] | None = None) -> str:
            # Auto-prepared by psycopg after a few runs, as on the app's pooled connections.
            known_id, known_version = known or (None, None)
            parameters = {
                "build": True,
                "slug": slug,
                "user_id": user_id,
                "known_id": known_id,
                "known_version": known_version,
            }
            row = conn.execute(TREE_DOCUMENT_SQL, parameters).fetchone()
            assert row is not None
            return str(row[2])

        def map_floor() -> str:
            parameters = {"slug": slug, "known_id": None, "known_version": None}
            row = conn.execute(TREE_MAP_SQL, parameters).fetchone()
            assert row is not None
            return str(row[2])

        def map_cold() -> None:
            forget_copies()
            client.get(map_path).raise_for_status()

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
        assert read.text.startswith(answered.text[: -len(ANONYMOUS_TAIL)] + ',"progress":{')
        states = read.json()["skillStates"]
        assert len(states) == skills
        assert sum(s["status"] == "COMPLETED" for s in states.values()) == LEARNER_DONE
        etag, learner_etag = answered.headers["ETag"], read.headers["ETag"]
        assert http.get(path, headers={"If-None-Match": etag}).status_code == 304

        def not_modified(headers: dict[str, str], at: str = path) -> None:
            assert http.get(at, headers=headers).status_code == 304

        map_path, states_path = f"{path}/map", f"/api/v1/me/trees/{slug}/states"
        lean = http.get(map_path)
        assert lean.text.startswith(map_floor()[:-1] + ',"learningOrder":')
        assert len(lean.json()["skills"]) == skills
        packed = http.get(map_path, headers={"Accept-Encoding": "gzip"})
        assert packed.headers["Content-Encoding"] == "gzip"
        map_etag = lean.headers["ETag"]
        mine = http.get(states_path, headers=signed_in).json()["skillStates"]
        assert sum(s["status"] == "COMPLETED" for s in mine.values()) == LEARNER_DONE

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
            MAP_FLOOR: map_floor,
            MAP_COLD: map_cold,
            MAP_HTTP: lambda: http.get(map_path).raise_for_status(),
            MAP_GZIP: lambda: http.get(map_path, headers={"Accept-Encoding": "gzip"}),
            MAP_NOT_MODIFIED: lambda: not_modified({"If-None-Match": map_etag}, map_path),
            STATES: lambda: http.get(states_path, headers=signed_in).raise_for_status(),
        }
        if store is None:
            del calls[REDIS]
        else:
            from_redis()
            assert store.get(tree_id, int(version)) is not None
        samples = time_interleaved(calls, runs=runs, warmup=warmup)
    if skills == min(SIZES):
        samples[PYDANTIC] = time_calls(
            lambda: TreeDocument.model_validate_json(answered.text).model_dump_json(by_alias=True),
            runs=RUNS // 3,
            warmup=3,
        )
    gzip_size = int(packed.headers["Content-Length"])
    return Measured(skills, edges, samples, len(expected.encode()), len(lean.content), gzip_size)


def report(measured: list[Measured], where: str) -> str:
    """The markdown section for RESULTS.md."""
    first = measured[0]
    p50s = [{name: percentile(s, 0.5) for name, s in m.samples.items()} for m in measured]
    p50 = p50s[0]

    def against(name: str, floor: str) -> float:
        return p50[name] / p50[floor]

    header = " | ".join(f"{m.skills:,}: p50 ms | p95 ms | / floor" for m in measured)
    rows = []
    for name in first.samples:
        cells = []
        for m, m50 in zip(measured, p50s, strict=True):
            if name in m.samples:
                cells.append(
                    f"{m50[name]:.2f} | {percentile(m.samples[name], 0.95):.2f} | "
                    f"{m50[name] / m50[FLOOR]:.2f}x"
                )
            else:
                cells.append("- | - | -")
        rows.append(f"| {name} | {' | '.join(cells)} |")
    targets = []
    for m, m50 in zip(measured, p50s, strict=True):
        cold, signed = m50[COLD] / m50[FLOOR], m50[LEARNER] / m50[HTTP]
        targets.append(
            f"| {m.skills:,} | {m.edges:,} | {m.size / 1024:,.0f} | {m50[COLD]:.2f} | "
            f"{m50[FLOOR]:.2f} | {cold:.2f}x {verdict(cold <= COLD_RATIO)} | {m50[LEARNER]:.2f} | "
            f"{m50[HTTP]:.2f} | {signed:.2f}x {verdict(signed <= LEARNER_RATIO)} |"
        )
    maps = []
    for m, m50 in zip(measured, p50s, strict=True):
        cold = m50[MAP_COLD] / m50[MAP_FLOOR]
        signed = (m50[MAP_HTTP] + m50[STATES]) / m50[MAP_HTTP]
        maps.append(
            f"| {m.skills:,} | {m.map_size / 1024:,.0f} ({m.map_size / m.size:.0%}) | "
            f"{m.map_gzip_size / 1024:,.0f} | {verdict(m.map_size <= MAP_MAX_BYTES)} | "
            f"{m50[MAP_COLD]:.2f} | {m50[MAP_FLOOR]:.2f} | {cold:.2f}x "
            f"{verdict(cold <= COLD_RATIO)} | {m50[MAP_HTTP]:.2f} | {m50[MAP_GZIP]:.2f} | "
            f"{m50[STATES]:.2f} | {signed:.2f}x {verdict(signed <= LEARNER_RATIO)} |"
        )
    size_kb = first.size / 1024
    http_p50, learner_p50 = p50[HTTP], p50[LEARNER]
    ratio, learner_ratio = against(HTTP, FLOOR), against(LEARNER, LEARNER_FLOOR)
    redis_line = (
        f"a process holding no copy of its own, with the document in Redis: {p50[REDIS]:.2f} ms "
        f"in-process ({against(REDIS, FLOOR):.2f}x the floor)"
        if REDIS in p50
        else "no Redis answered at REDIS_URL: the Redis path was not measured"
    )
    runs = ", ".join(f"{r} at {n:,} skills" for n, (r, _) in SIZES.items())
    return f"""
## GET /api/v1/trees/{{slug}}: trees of {", ".join(f"{m.skills:,}" for m in measured)} skills

`python -m benchmarks.bench_tree_document`, {today()}, on {where}; Redis at `REDIS_URL` (default
127.0.0.1:6379, a key prefix of the run's own) for the in-process paths.

Published trees of {LAYERS} layers of {", ".join(f"{m.skills // LAYERS:,}" for m in measured)}
active skills, every skill past the first layer needing 1-3 skills of earlier layers (seed
{SEED}), in one database. The learner has completed the first {LEARNER_DONE} skills of each
tree. Each path is timed over sequential requests ({runs}, after a tenth as many warm-up ones),
the paths taking turns in ten blocks so that a busy moment of the machine hits them alike (the
Pydantic row: {RUNS // 3} runs on its own, {first.skills:,} skills only).

| path | {header} |
| --- |{" ---: | ---: | ---: |" * len(measured)}
{chr(10).join(rows)}

**Issue 16.** The first read after the tree changed (*no copy anywhere*) <= {COLD_RATIO}x the
SQL floor; a signed-in learner's read over HTTP <= {LEARNER_RATIO}x an anonymous one:

{TARGET_HEADER}
{chr(10).join(targets)}

**Issue 16 part 4: the lean map.** `GET /trees/{{slug}}/map` (the same for every viewer) and a
signed-in learner's `GET /me/trees/{{slug}}/states` (only what differs from the defaults), the
web app's two reads. The map of 10,000 skills <= {MAP_MAX_BYTES / 1e6:.1f} MB raw; its first
read after a change <= {COLD_RATIO}x its floor (*map floor*: tree_map.sql through psycopg); a
signed-in learner's reads (map + states) <= {LEARNER_RATIO}x an anonymous one (the map):

{MAP_HEADER}
{chr(10).join(maps)}

**Earlier targets, on {first.skills:,} skills.** Issue 2, anonymous over HTTP: p50 <=
{TARGET_MS:.0f} ms {verdict(http_p50 <= TARGET_MS)} ({http_p50:.2f} ms), p50 <=
{TARGET_RATIO:.0f}x the floor {verdict(ratio <= TARGET_RATIO)} ({ratio:.2f}x). Issue 4, a
signed-in learner over HTTP: p50 <= {LEARNER_TARGET_MS:.0f} ms
{verdict(learner_p50 <= LEARNER_TARGET_MS)} ({learner_p50:.2f} ms),
p50 <= {LEARNER_TARGET_RATIO:.0f}x its floor
{verdict(learner_ratio <= LEARNER_TARGET_RATIO)} ({learner_ratio:.2f}x; it is
{against(LEARNER, LEARNER_CHECK_FLOOR):.1f}x the SQL a cached read runs, the rest being HTTP,
sign-in and sending {size_kb:,.0f} KiB). Issue 5: {redis_line}; with no copy anywhere
{p50[COLD]:.2f} ms; a 304 costs {p50[NOT_MODIFIED]:.2f} ms over HTTP
({p50[LEARNER_NOT_MODIFIED]:.2f} ms signed in).

- Copies are kept per `skill_trees.structure_version` (migration 0011; bumped by triggers on
  any change to the tree, by any writer): in process (the document's bytes, and the tree's one
  graph that skill states and the learning plan come from) and, with `REDIS_URL`, in Redis
  under the tree's id and version. A request's one statement reads the version, the viewer's
  rows and visibility; the document is built only when no copy has that version, and then the
  same statement gives the tree's graph, from which the learning plan is derived once.
- A signed-in learner's answer is the kept document followed by their progress and their
  states: the states of a learner with no rows (made once per version) with the
  learner's own values spliced in where they differ, asking the rules (progress.states) only
  about skills with a row and the dependents of satisfied ones.
- *floor*: `src/skilltree/catalog/tree_document.sql` run through one plain psycopg connection
  (autocommit, auto-prepared, with the statement's own settings: `work_mem`), fetching
  PostgreSQL's JSON text: the cost of building the document and reading the graph; the
  *learner floor* adds the learner's {LEARNER_DONE} completed rows and enrolment. The *floors
  of a cached read* are the same statement when the caller's copy is current: what a warm
  request pays in the database.
- *ASGI in-process*: the FastAPI app through starlette's TestClient (the collector tuned as
  `skilltree serve` tunes it, `gc_tuning`), session per request
  (pool checkout, BEGIN, the statement, COMMIT). *No copy anywhere* (the tree just changed):
  the in-process caches and the Redis copy are dropped before each request, so it pays a
  version check, the build, the learning plan, and storing the copy in Redis. *Copy in Redis
  only*: the in-process caches are dropped, so it pays the version check and fetching the
  document from Redis (stored with its learning plan; a signed-in learner's first read in a
  process also reads the tree's graph, one query).
- *HTTP*: the same app under uvicorn in its own process, an httpx2 client with keep-alive.
- The endpoint sends PostgreSQL's text as it is (`Response`, `response_model` kept for OpenAPI):
  parsing and re-serialising it through the Pydantic `TreeDocument` would add the last row's
  cost to every request.
"""


TARGET_HEADER = (
    "| skills | edges | document KiB | just changed p50 | floor p50 | ratio "
    "| signed in p50 | anonymous p50 | ratio |\n"
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
)


MAP_MAX_BYTES = 1_500_000
MAP_HEADER = (
    "| skills | map KiB (of the document) | gzip KiB | <= 1.5 MB | just changed p50 "
    "| map floor p50 | ratio | HTTP p50 | HTTP gzip p50 | states p50 | map + states / map |\n"
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
)


def verdict(ok: bool) -> str:
    """A target's verdict, for the report."""
    return "met" if ok else "**not met**"


def main() -> None:
    """Build the data, time every path, print the table and refresh RESULTS.md."""
    register_listeners()
    with throwaway_database("tree_document") as url:
        engine = create_db_engine(url)
        try:
            migrate.upgrade(engine)
            edges = {
                skills: build_tree(engine, per_layer=skills // LAYERS, slug=tree_slug(skills))
                for skills in SIZES
            }
            where = machine(url)
            with TestClient(create_app(engine)) as client:
                learner = sign_up(client)
            tune_collector()  # as `skilltree serve` does once it has built the app
            with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
                for skills in SIZES:
                    enrol(conn, learner[0], tree_slug(skills))
            port = free_port()
            with terminating(start_server(url, port)):
                measured = []
                for skills in SIZES:
                    measured.append(measure(url, engine, port, learner, skills, edges[skills]))
                    print(report(measured, where), flush=True)  # so far
            section = report(measured, where)
        finally:
            engine.dispose()
    print(section)
    write_results("bench_tree_document", section)


if __name__ == "__main__":
    main()
