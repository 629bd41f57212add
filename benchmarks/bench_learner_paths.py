"""A learner's requests on trees of 1,000, 10,000 and 100,000 skills, warm and cold, each against a
floor measured in the same run: what to learn next, the path to a skill, enrolling, completing.

Run from the repository root: `python -m benchmarks.bench_learner_paths [SIZE ...]`. Creates and
drops its own database on DATABASE_URL's server (or the embedded one) and refreshes its section of
benchmarks/RESULTS.md. Two shapes of tree, each imported from a tree file:

- layered: bench_import's generated tree (layers of 100, or 400 from 100,000 skills; each skill
  past the first layer needs 1-3 skills of the three layers before it);
- many roots: a root every 10th skill, every other skill needing 1-2 of the 200 skills before it:
  the shape that made "what next" take 8 s at 4,000 skills (issue 12).

The reading learner has completed the first 10% of the tree in learning order. Requests go
through the ASGI app in process (FastAPI's TestClient; real sessions, committed). Warm: the tree's
graph is in the process's cache. Cold: the process's copies of the tree emptied before each
request, as right after the tree changed (the pool's connections stay open, as in a running
server); "new process": the connections closed too, as the first request of a new process (opening
a connection is timed apart, "connect"). Each sample of enrol and complete
is a different learner (enrolled beforehand, for complete). The floors, through plain psycopg:

- next: the skills the learner can work on now, by one hand-written query over the tree;
- path: the target's prerequisites not yet satisfied, by a recursive query;
- enrol: the enrolment, the root skills (read from the tree's stored ranks, as the engine reads
  them; until 2026-12-07 by an anti-join over every skill, which cost more than the writes at
  10,000 skills), their rows and events, inserted by hand (ids by md5: no random draw; rolled
  back);
- complete: bench_progress's five hand-written statements.
"""

from __future__ import annotations

import json
import random
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from benchmarks import bench_import
from benchmarks.bench_progress import floor_complete
from benchmarks.common import libpq_dsn, machine, percentile, throwaway_database, today
from benchmarks.common import write_results as write_section
from skilltree.accounts.service import token_digest
from skilltree.app import create_app
from skilltree.catalog.service import DOCUMENTS
from skilltree.db import migrate
from skilltree.db.base import new_id
from skilltree.db.session import create_db_engine, unit_of_work
from skilltree.gc_tuning import tune_collector
from skilltree.graph import dag, snapshots
from skilltree.graph.repository import STORED_GRAPH, TREE_GRAPH
from skilltree.graph.service import GRAPHS
from skilltree.listeners import register_listeners
from skilltree.progress.endpoints import PATH_PAGE
from skilltree.treefile import service as treefile

SIZES = (1_000, 10_000, 100_000)
RUNS = {1_000: 40, 10_000: 20, 100_000: 10}
"""Warm samples per path and tree (cold: half as many)."""
TARGET_MS = {10_000: 20.0, 100_000: 200.0}
COLD_RATIO = 3.0
CATEGORY = "benchmarks"
PATHS = ("next", "path", "enrol", "complete")

FLOOR_NEXT = """
SELECT s.id FROM skills s
LEFT JOIN user_skill_progress r ON r.user_id = %(user)s AND r.skill_id = s.id
WHERE s.skill_tree_id = %(tree)s AND s.is_active
  AND (r.status = 'IN_PROGRESS' OR (coalesce(r.status, 'LOCKED') IN ('LOCKED', 'AVAILABLE')
       AND NOT EXISTS (
           SELECT FROM skill_dependencies d
           JOIN skills p ON p.id = d.depends_on_id AND p.is_active
           LEFT JOIN user_skill_progress pr ON pr.user_id = %(user)s AND pr.skill_id = p.id
           WHERE d.skill_id = s.id AND NOT progress_satisfies(pr.status, p.is_optional))))
"""
FLOOR_PATH = """
WITH RECURSIVE needed(id) AS (
    SELECT %(target)s::text
    UNION
    SELECT d.depends_on_id FROM needed n
    JOIN skill_dependencies d ON d.skill_id = n.id
    JOIN skills p ON p.id = d.depends_on_id AND p.is_active)
SELECT n.id FROM needed n JOIN skills s ON s.id = n.id
LEFT JOIN user_skill_progress r ON r.user_id = %(user)s AND r.skill_id = n.id
WHERE NOT progress_satisfies(r.status, s.is_optional)
"""
FLOOR_ENROL = [
    """
    INSERT INTO user_skill_tree_progress (id, user_id, skill_tree_id, total_skills)
    SELECT %(row)s, %(user)s, %(tree)s, count(*) FROM skills
    WHERE skill_tree_id = %(tree)s AND is_active
    """,
    """
    INSERT INTO progress_events (user_id, kind, skill_tree_id) VALUES (%(user)s, 'ENROLL', %(tree)s)
    """,
    """
    CREATE TEMP TABLE roots ON COMMIT DROP AS
    SELECT skill_id AS id FROM skill_ranks WHERE skill_tree_id = %(tree)s AND prerequisites = 0
    """,
    """
    INSERT INTO user_skill_progress (id, user_id, skill_id, skill_tree_id, status, unlocked_at)
    SELECT md5(%(user)s || id), %(user)s, id, %(tree)s, 'AVAILABLE', now() FROM roots
    """,
    """
    INSERT INTO progress_events (user_id, kind, skill_tree_id, skill_id)
    SELECT %(user)s, 'UNLOCK', %(tree)s, id FROM roots
    """,
]


def many_roots(size: int, slug: str, seed: int = bench_import.SEED) -> dict[str, Any]:
    """A tree file: a root every 10th skill, every other skill needing 1-2 of the 200 before it."""
    rng = random.Random(seed)
    skills = []
    for i in range(size):
        needs = (
            sorted({f"k{rng.randrange(max(0, i - 200), i)}" for _ in range(2)}) if i % 10 else []
        )
        skills.append(
            {
                "key": f"k{i}",
                "name": f"Skill {i}",
                "dependencies": needs,
                "estimatedMinutes": 30,
                "xpValue": 10,
                "position": {"x": (i % 100) * 120, "y": (i // 100) * 160},
            }
        )
    tree = {"slug": slug, "name": f"Many roots, {size} skills", "category": CATEGORY}
    return {"format": "skilltree.tree", "version": 1, "tree": tree, "skills": skills}


SHAPES: dict[str, Callable[[int, str], dict[str, Any]]] = {
    "layered": bench_import.generate,
    "many roots": many_roots,
}


@dataclass
class Tree:
    """A tree under test, its learners and what the paths ask about."""

    shape: str
    size: int
    slug: str
    tree_id: str
    edges: int
    reader: str
    reader_token: str
    target: str
    roots: list[str]
    fresh: list[tuple[str, str]] = field(default_factory=list)
    """Learners not enrolled yet (id, token): one per enrol sample."""
    enrolled: list[tuple[str, str]] = field(default_factory=list)
    """Learners enrolled (id, token): one per complete sample, the API's and the floor's (each
    completes the first root)."""
    steps: int = 0
    """The steps of the reader's path to the target (measured)."""

    def answer_items(self, path: str) -> int:
        """What the answer of `path` lists: skills recommended, steps, skills unlocked."""
        # A path is answered a page of PATH_PAGE steps at a time (the request's default).
        listed = {"next": 5, "path": min(self.steps, PATH_PAGE), "enrol": len(self.roots)}
        return listed.get(path, 1)


def add_learners(conn: psycopg.Connection[tuple[Any, ...]], count: int) -> list[tuple[str, str]]:
    """`count` learners with a live session each: (id, token)."""
    made = []
    with conn.cursor() as cursor:
        for _ in range(count):
            user_id, token = new_id(), secrets.token_urlsafe(16)
            cursor.execute(
                "INSERT INTO users (id, email, username, password_hash)"
                " VALUES (%s, %s || '@example.com', %s, 'x')",
                (user_id, user_id, user_id),
            )
            cursor.execute(
                "INSERT INTO user_sessions (id, user_id, token_hash, expires_at)"
                " VALUES (%s, %s, %s, now() + interval '1 day')",
                (new_id(), user_id, token_digest(token)),
            )
            made.append((user_id, token))
    return made


def prepare(url: str, engine: Engine, shape: str, size: int) -> Tree:
    """Import the tree, make its learners, and enrol those that complete."""
    slug = f"{shape.replace(' ', '-')}-{size}"
    document = SHAPES[shape](size, slug)
    with unit_of_work(engine) as session:
        treefile.import_tree(session, json.dumps(document), author=None, publish=True)
    runs = RUNS.get(size, 20)
    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
        tree_id, edges = conn.execute(
            "SELECT t.id, (SELECT count(*) FROM skill_dependencies d WHERE d.skill_tree_id = t.id)"
            " FROM skill_trees t WHERE slug = %s",
            (slug,),
        ).fetchone() or ("", 0)
        ranked = conn.execute(
            "SELECT EXISTS (SELECT FROM skill_tree_ranks WHERE skill_tree_id = %s)", (tree_id,)
        ).fetchone() or (False,)
        assert ranked[0], "the import stores the tree's ranks (graph.ranks)"
        key_of = dict(conn.execute(SKILLS, (tree_id,)).fetchall())
        needs: dict[str, list[str]] = {skill: [] for skill in key_of}
        for skill, prerequisite in conn.execute(EDGES, (tree_id,)):
            needs[skill].append(prerequisite)
        # Ties by key, not by id: ids are new in every run, and the target (the last skill of
        # the order) and the reader's rows must be the same skills in every run.
        order = dag.learning_order(needs, sort_key=key_of.__getitem__)
        roots = [row[0] for row in conn.execute(ROOTS, {"tree": tree_id})]
        api_runs = runs + 2 * (runs // 2)  # warm, cold and new-process samples
        (reader, token), *others = add_learners(conn, 2 + 2 * api_runs + runs)
        conn.execute("SELECT progress_enrol(%s, %s, now())", (reader, slug))
        conn.execute(
            "INSERT INTO user_skill_progress"
            " (id, user_id, skill_id, skill_tree_id, status, progress_percent, completed_at,"
            " completion_method)"
            " SELECT md5(%(user)s || id), %(user)s, id, %(tree)s, 'COMPLETED', 100, now(),"
            " 'MANUAL' FROM unnest(%(done)s::text[]) AS id"
            " ON CONFLICT (user_id, skill_id) DO UPDATE SET status = 'COMPLETED',"
            " progress_percent = 100, completed_at = now(), completion_method = 'MANUAL'",
            {"user": reader, "tree": tree_id, "done": order[: size // 10]},
        )
        enrolled, fresh = others[: api_runs + runs], others[api_runs + runs :]
        for user_id, _ in enrolled:
            conn.execute("SELECT progress_enrol(%s, %s, now())", (user_id, slug))
        conn.execute("ANALYZE")
    return Tree(
        shape, size, slug, tree_id, edges, reader, token, order[-1], roots,
        fresh=fresh, enrolled=enrolled,
    )  # fmt: skip


SKILLS = "SELECT id, key FROM skills WHERE skill_tree_id = %s"
EDGES = "SELECT skill_id, depends_on_id FROM skill_dependencies WHERE skill_tree_id = %s"
ROOTS = """
SELECT s.id FROM skills s WHERE s.skill_tree_id = %(tree)s
  AND NOT EXISTS (SELECT FROM skill_dependencies e WHERE e.skill_id = s.id)
ORDER BY s.position_y, s.position_x, s.id
"""


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def measure(url: str, engine: Engine, tree: Tree) -> dict[str, list[float]]:
    """Samples (ms) of every path, warm, cold and floor, taking turns."""
    runs = RUNS.get(tree.size, 20)
    samples: dict[str, list[float]] = {}
    app = create_app(engine)
    tune_collector()  # as `skilltree serve` does once it has built the app
    reader = {"Authorization": f"Bearer {tree.reader_token}"}
    fresh = iter(tree.fresh)
    enrolled = iter(tree.enrolled)
    floor_learners = iter(tree.enrolled[::-1])

    def check(answer: Any) -> Any:
        assert answer.status_code == 200, answer.text[:300]
        return answer.json()

    with TestClient(app) as client, psycopg.connect(libpq_dsn(url)) as conn:
        requests: dict[str, Callable[[], object]] = {
            "next": lambda: check(
                client.get(f"/api/v1/me/trees/{tree.slug}/next?limit=5", headers=reader)
            ),
            "path": lambda: check(
                client.get(f"/api/v1/me/trees/{tree.slug}/path?to={tree.target}", headers=reader)
            ),
            "enrol": lambda: check(
                client.post(
                    f"/api/v1/trees/{tree.slug}/enroll",
                    headers={"Authorization": f"Bearer {next(fresh)[1]}"},
                )
            ),
            "complete": lambda: check(
                client.post(
                    f"/api/v1/skills/{tree.roots[0]}/complete",
                    json={},
                    headers={"Authorization": f"Bearer {next(enrolled)[1]}"},
                )
            ),
        }

        def floor_enrol() -> None:
            user = tree.fresh[-1][0]  # never enrolled by the API's samples
            with conn.transaction(force_rollback=True):
                for statement in FLOOR_ENROL:
                    conn.execute(
                        statement,
                        {"row": new_id(), "user": user, "tree": tree.tree_id, "roots": tree.roots},
                    )

        def store_graph() -> None:
            with Session(engine) as session:  # rolled back when it closes
                snapshots.store(session, tree.tree_id)

        floors: dict[str, Callable[[], object]] = {
            "next": lambda: conn.execute(
                FLOOR_NEXT, {"user": tree.reader, "tree": tree.tree_id}
            ).fetchall(),
            "path": lambda: conn.execute(
                FLOOR_PATH, {"user": tree.reader, "target": tree.target}
            ).fetchall(),
            "enrol": floor_enrol,
            "complete": lambda: floor_complete(conn, next(floor_learners)[0], tree.roots[0]),
        }
        conn.commit()
        # Correctness first: the answers are the floors' results.
        steps, offset = [], 0
        while offset is not None:  # every page of the path
            page = check(
                client.get(
                    f"/api/v1/me/trees/{tree.slug}/path?to={tree.target}&limit=1000"
                    f"&offset={offset}",
                    headers=reader,
                )
            )
            steps += page["steps"]
            offset = page["nextOffset"]
        tree.steps = len(steps)
        assert tree.steps == page["totalSteps"]
        assert {s["id"] for s in steps} == {row[0] for row in floors["path"]()}  # type: ignore[attr-defined]
        ranked = check(client.get(f"/api/v1/me/trees/{tree.slug}/next?limit=50", headers=reader))
        workable = {row[0] for row in floors["next"]()}  # type: ignore[attr-defined]
        assert {r["skill"]["id"] for r in ranked["recommendations"]} <= workable
        conn.rollback()
        for name in ("next", "path"):  # warm up: the graph in cache, plans made
            requests[name]()
            floors[name]()
            conn.rollback()
        for name in PATHS:
            for kind in ("warm", "cold", "new process", "floor"):
                samples[f"{name} {kind}"] = []
        for _ in range(runs):  # floors and warm requests taking turns
            for name in PATHS:
                samples[f"{name} floor"].append(timed(floors[name]))
                conn.rollback()
                samples[f"{name} warm"].append(timed(requests[name]))
        samples["graph read"], samples["connect"] = [], []
        samples["stored graph read"], samples["graph store"] = [], []
        for _ in range(runs // 2):  # then cold ones: no copy of the tree before each
            for name in PATHS:
                # Cold: the first request after the tree changed (no graph, no document; the
                # pool's connections are the server's, open).
                GRAPHS.clear()
                DOCUMENTS.clear()
                samples[f"{name} cold"].append(timed(requests[name]))
                # A new process's first request: no copy and no connection either (opening one
                # costs what the "connect" line says, whatever the request).
                GRAPHS.clear()
                DOCUMENTS.clear()
                engine.dispose()
                samples[f"{name} new process"].append(timed(requests[name]))
            samples["connect"].append(timed(lambda: psycopg.connect(libpq_dsn(url)).close()))
            # What a cold path read first before the writers stored the graph: the tree's
            # graph from its rows, in one statement ("next" reads the ranks its writer stored).
            samples["graph read"].append(
                timed(lambda: conn.execute(TREE_GRAPH, {"tree": tree.tree_id}).fetchall())
            )
            conn.rollback()
            # What it reads now: the graph its writer stored (graph.snapshots, 0047).
            samples["stored graph read"].append(
                timed(
                    lambda: (
                        conn.cursor(binary=True)  # as the engine reads it
                        .execute(STORED_GRAPH, {"tree": tree.tree_id})
                        .fetchall()
                    )
                )
            )
            conn.rollback()
            # What storing it costs each change of the tree (graph.snapshots.store: the read
            # from the rows, grouped, written), rolled back.
            samples["graph store"].append(timed(store_graph))
    return samples


def report(results: list[tuple[Tree, dict[str, list[float]]]], where: str) -> str:
    """The markdown section for RESULTS.md."""
    lines = [
        "## A learner's requests on large trees: next, path, enrol, complete",
        "",
        f"`python -m benchmarks.bench_learner_paths`, {today()}, on {where}.",
        "",
        "Through the ASGI app in process (TestClient, real sessions). Warm: the tree's graph",
        "cached (floors and warm requests take turns); cold, afterwards: the process's copies of",
        "the tree (graph, documents) emptied before each request, as right after the tree changed",
        "(the pool's connections open, as in a running server); *new process*: connections",
        "closed too, as a new process's first request (each pays for opening a connection:",
        "*connect*, below). Floors through",
        "plain psycopg (see the script's docstring). The reading learner has completed the first",
        "10% of the tree (in learning order, ties by key); the path goes to the last skill of that",
        "order. Each enrol and complete sample is another learner. *Items*: what the answer lists",
        "(skills recommended, steps of the path, skills unlocked by enrolling). The process's",
        "collector is tuned as `skilltree serve` tunes it (gc_tuning).",
        "",
        "| tree | skills | edges | path | items | warm p50 ms | warm p95 ms | floor p50 ms"
        " | warm / floor | cold p50 ms | cold / warm | new process p50 ms |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    verdicts = []
    for tree, samples in results:
        for name in PATHS:
            warm = percentile(samples[f"{name} warm"], 0.5)
            cold = percentile(samples[f"{name} cold"], 0.5)
            floor = percentile(samples[f"{name} floor"], 0.5)
            lines.append(
                f"| {tree.shape} | {tree.size:,} | {tree.edges:,} | {name}"
                f" | {tree.answer_items(name):,}{f' of {tree.steps:,}' if name == 'path' else ''}"
                f" | {warm:.1f}"
                f" | {percentile(samples[f'{name} warm'], 0.95):.1f} | {floor:.1f}"
                f" | {warm / floor:.2f}x | {cold:.1f} | {cold / warm:.2f}x"
                f" | {percentile(samples[f'{name} new process'], 0.5):.1f} |"
            )
            target = TARGET_MS.get(tree.size)
            if target is not None:
                met = warm <= target and cold <= COLD_RATIO * warm
                verdicts.append(
                    f"- {tree.shape}, {tree.size:,} skills, {name}: warm p50 {warm:.1f} ms"
                    f" (target {target:.0f}), cold {cold / warm:.2f}x warm (target"
                    f" {COLD_RATIO:.0f}x): {'met' if met else 'NOT met'}"
                )
    lines += [
        "",
        "*Graph read*: the statement a cold path read the tree's graph with from its rows"
        " (graph.repository.TREE_GRAPH, still read for a tree changed by plain SQL); *stored*:"
        " the graph as the tree's writers store it (graph.snapshots, migration 0047), what a"
        " cold path reads now; *store*: what storing it adds to each change of the tree (the read"
        " from the rows, grouped in Python, written; rolled back); the reads through plain"
        ' psycopg, p50 ("next" reads neither: the tree\'s writer'
        " stores its ranks, graph.ranks):",
        "",
    ]
    for tree, samples in results:
        read = percentile(samples["graph read"], 0.5)
        stored = percentile(samples["stored graph read"], 0.5)
        store = percentile(samples["graph store"], 0.5)
        lines.append(
            f"- {tree.shape}, {tree.size:,} skills: from the rows {read:.1f} ms, stored"
            f" {stored:.1f} ms, store {store:.1f} ms"
        )
    lines += ["", "*Connect*: opening a connection through plain psycopg, p50:", ""]
    for tree, samples in results:
        lines.append(
            f"- {tree.shape}, {tree.size:,} skills: {percentile(samples['connect'], 0.5):.1f} ms"
        )
    lines += ["", "**Targets** (issue 12: p50 <= 20 ms at 10,000 skills, <= 200 ms at 100,000,"]
    lines += ["warm; cold <= 3x warm):", "", *verdicts]
    return "\n".join(lines)


def main(sizes: tuple[int, ...] = SIZES) -> None:
    """Run every size and shape; print and record the table."""
    register_listeners()
    results = []
    with throwaway_database("learner_paths") as url:
        engine = create_db_engine(url)
        migrate.upgrade(engine)
        with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
            conn.execute(
                "INSERT INTO skill_categories (id, name, slug) VALUES (%s, 'Benchmarks', %s)",
                (new_id(), CATEGORY),
            )
        where = machine(url)
        for size in sizes:
            for shape in SHAPES:
                tree = prepare(url, engine, shape, size)
                results.append((tree, measure(url, engine, tree)))
                print(report(results[-1:], where).split("\n", 10)[-1], flush=True)
        engine.dispose()
    markdown = report(results, where)
    print(markdown)
    if tuple(sizes) == SIZES:
        write_section("bench_learner_paths", markdown)


if __name__ == "__main__":
    main(tuple(int(a) for a in sys.argv[1:]) or SIZES)
