"""The prerequisite graph at depth: adding an edge (cycle check), prerequisites, the spec's queries.

Run from the repository root: `python -m benchmarks.bench_graph`. Creates and drops its own
database on DATABASE_URL's server (or the embedded one) and refreshes benchmarks/RESULTS.md.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from psycopg import sql
from pydantic_core import to_json
from sqlalchemy import Engine, insert
from sqlalchemy.exc import IntegrityError

from benchmarks.common import (
    libpq_dsn,
    machine,
    percentile,
    throwaway_database,
    time_calls,
    time_interleaved,
    today,
    write_results,
)
from skilltree.db import migrate
from skilltree.db.session import create_db_engine, session_factory
from skilltree.graph import dag, repository, service
from skilltree.graph.schemas import RelatedSkillJson
from skilltree.graph.tree_graphs import TreeGraph
from skilltree.listeners import register_listeners
from skilltree.models import SkillDependency

CHAIN = 5_000
BRANCHES, LAYERS, WIDTH = 10, 50, 10
SEED = 20251122
TREE_ID = "bench-graph-tree"
NEW_SKILL = "bench-graph-new-skill"
FLOOR_TABLE = "skill_dependencies_floor"
RUNS, WARMUP, ROUNDS = 200, 20, 10
COLD_RUNS, COLD_WARMUP = 60, 3
REFUSAL_RUNS, REFUSAL_WARMUP = 5, 1
PART_RUNS = 60
TARGET_MS = 20.0
ACYCLIC = "skill_dependencies_acyclic"


# --- the graph -------------------------------------------------------------------------------


def skill_id(k: int) -> str:
    """Skill number `k`'s id: cuid-like (25 characters, random order), the same every run."""
    return "c" + hashlib.md5(f"{SEED}:{k}".encode()).hexdigest()[:24]


def chain_skill(position: int) -> str:
    """The chain's `position`-th skill (1 = its root, CHAIN = the deepest; k needs k - 1)."""
    return skill_id(position)


def branch_number(branch: int, layer: int, column: int) -> int:
    """The number of a branch skill: each branch is a layered DAG, LAYERS deep, WIDTH wide."""
    return CHAIN + 1 + (branch * LAYERS + layer) * WIDTH + column


def branch_skill(branch: int, layer: int, column: int) -> str:
    """A branch skill's id."""
    return skill_id(branch_number(branch, layer, column))


def anchor(branch: int) -> int:
    """The chain position a branch hangs from (the last branch: the deepest chain skill)."""
    return CHAIN * (branch + 1) // BRANCHES


DEEPEST = branch_skill(BRANCHES - 1, LAYERS - 1, 0)


def graph_edges() -> list[tuple[int, int]]:
    """(skill, prerequisite) numbers: the chain, then the branches, 1-3 prerequisites each."""
    rng = random.Random(SEED)
    edges = [(position, position - 1) for position in range(2, CHAIN + 1)]
    for branch in range(BRANCHES):
        top = anchor(branch)
        for column in range(WIDTH):
            # The first layer needs chain skills of the branch's stretch, column 0 its anchor.
            picks = {top} if column == 0 else set()
            wanted = rng.randint(1, 3)
            while len(picks) < wanted:
                picks.add(rng.randint(top - CHAIN // BRANCHES + 1, top))
            edges += [(branch_number(branch, 0, column), p) for p in sorted(picks)]
        for layer in range(1, LAYERS):
            for column in range(WIDTH):
                # One prerequisite from the layer just above (column 0 from column 0, so the
                # last branch's column 0 is the deepest skill), up to two from any earlier one.
                first = 0 if column == 0 else rng.randrange(WIDTH)
                picks = {branch_number(branch, layer - 1, first)}
                for _ in range(rng.randint(0, 2)):
                    picks.add(branch_number(branch, rng.randrange(layer), rng.randrange(WIDTH)))
                edges += [(branch_number(branch, layer, column), p) for p in sorted(picks)]
    return edges


def load_graph(dsn: str) -> int:
    """The tree's skills and edges by COPY, a new unconnected skill, and the edge table's twin
    without the trigger (same rows, indexes, checks, foreign keys); returns the edge count."""
    edges = graph_edges()
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO skill_categories (id, name, slug) VALUES ('bench-graph', 'Bench', 'bench')"
        )
        conn.execute(
            "INSERT INTO skill_trees (id, category_id, name, slug, is_published)"
            " VALUES (%s, 'bench-graph', 'Deep graph', 'deep-graph', true)",
            (TREE_ID,),
        )
        with conn.cursor().copy(
            "COPY skills (id, skill_tree_id, key, name, description, estimated_minutes,"
            " position_x, position_y) FROM STDIN"
        ) as copy:
            for k in range(1, branch_number(BRANCHES, 0, 0)):
                copy.write_row(
                    (skill_id(k), TREE_ID, f"skill-{k}", f"Skill {k}",
                     f"Skill number {k} of the deep-graph benchmark.", 15 + k % 8 * 15,
                     float(k % 97) * 120, float(k // 97) * 160)
                )  # fmt: skip
        # One statement: the trigger checks the whole tree once (Kahn), as an import does.
        with conn.cursor().copy(
            "COPY skill_dependencies (skill_id, depends_on_id, skill_tree_id) FROM STDIN"
        ) as copy:
            for skill, prerequisite in edges:
                copy.write_row((skill_id(skill), skill_id(prerequisite), TREE_ID))
        conn.execute(
            "INSERT INTO skills (id, skill_tree_id, key, name) VALUES (%s, %s, 'new-skill', 'New')",
            (NEW_SKILL, TREE_ID),
        )
        floor = sql.Identifier(FLOOR_TABLE)
        conn.execute(
            sql.SQL("CREATE TABLE {} (LIKE skill_dependencies INCLUDING ALL)").format(floor)
        )
        for column in ("skill_id", "depends_on_id"):
            conn.execute(
                sql.SQL(
                    "ALTER TABLE {} ADD FOREIGN KEY ({}, skill_tree_id)"
                    " REFERENCES skills (id, skill_tree_id) ON DELETE CASCADE ON UPDATE CASCADE"
                ).format(floor, sql.Identifier(column))
            )
        conn.execute(sql.SQL("INSERT INTO {} SELECT * FROM skill_dependencies").format(floor))
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return len(edges)


# --- 1. adding an edge -----------------------------------------------------------------------


@dataclass(frozen=True)
class Edge:
    """A prerequisite edge to add: `skill` needs `prerequisite`."""

    label: str
    skill: str
    prerequisite: str
    refused: bool = False
    stress: bool = False

    def row(self) -> dict[str, str]:
        """The edge as a skill_dependencies row."""
        return {
            "skill_id": self.skill,
            "depends_on_id": self.prerequisite,
            "skill_tree_id": TREE_ID,
        }


EDGES = [
    Edge("a new skill needs the deepest chain skill", NEW_SKILL, chain_skill(CHAIN)),
    Edge(
        "deep skill needs a deep skill of another branch (both at layer 46 of 50)",
        branch_skill(3, 45, 5),
        branch_skill(7, 45, 5),
    ),
    Edge(
        "stress: mid-chain skill needs the bottom skill of a branch hanging higher up "
        "(both sides > 512 skills, so a full search)",
        chain_skill(CHAIN // 2),
        branch_skill(3, LAYERS - 1, 0),
        stress=True,
    ),
]
CYCLE_CLOSER = Edge(
    f"refused: the chain's root needs its deepest skill (closes the {CHAIN:,}-cycle)",
    chain_skill(1),
    chain_skill(CHAIN),
    refused=True,
)


def constraint_of(error: IntegrityError) -> str | None:
    """The name of the constraint PostgreSQL said was violated."""
    return error.orig.diag.constraint_name if isinstance(error.orig, psycopg.Error) else None


def check_refusal(edge: Edge, constraint: str | None) -> None:
    """Stop the run unless `edge` was meant to be refused, and by the acyclicity trigger."""
    if not edge.refused or constraint != ACYCLIC:
        raise RuntimeError(f"{edge.label}: refused by {constraint!r}")


def check_acceptance(edge: Edge, without_trigger: bool) -> None:
    """Stop the run if `edge` was accepted although the trigger should have refused it."""
    if edge.refused and not without_trigger:
        raise RuntimeError(f"{edge.label}: accepted")


FLOOR_ADD = "floor: INSERT into the twin without trigger, psycopg"
PSYCOPG_ADD = "INSERT with the trigger, plain psycopg"
SERVICE_ADD = "INSERT with the trigger, SQLAlchemy Core"


def time_added(
    paths: dict[str, Callable[[], Callable[[], None]]], *, runs: int, warmup: int
) -> dict[str, list[float]]:
    """Milliseconds of each path's INSERT statement, the trigger included; each call returns
    the untimed rest (COMMIT, DELETE). The paths take turns in blocks, so that load changes on
    the machine hit them alike."""
    samples: dict[str, list[float]] = {name: [] for name in paths}
    for add in paths.values():
        for _ in range(warmup):
            add()()
    rounds = min(ROUNDS, runs)
    for _ in range(rounds):
        for name, add in paths.items():
            for _ in range(runs // rounds):
                start = time.perf_counter()
                finish = add()
                samples[name].append((time.perf_counter() - start) * 1000)
                finish()
    return samples


def measure_adding(dsn: str, engine: Engine) -> dict[Edge, dict[str, list[float]]]:
    """Timings of adding each edge on every path: the INSERT statement, in its transaction
    (a service's flush); the COMMIT and the DELETE that follow are untimed."""
    results: dict[Edge, dict[str, list[float]]] = {}
    with psycopg.connect(dsn) as conn, psycopg.connect(dsn, autocommit=True) as janitor:

        def remove(table: str, edge: Edge) -> Callable[[], None]:
            statement = sql.SQL(
                "DELETE FROM {} WHERE skill_id = %(skill_id)s AND depends_on_id = %(depends_on_id)s"
            ).format(sql.Identifier(table))
            return lambda: janitor.execute(statement, edge.row()).close()

        def plain(table: str, edge: Edge) -> Callable[[], Callable[[], None]]:
            statement = sql.SQL(
                "INSERT INTO {} (skill_id, depends_on_id, skill_tree_id)"
                " VALUES (%(skill_id)s, %(depends_on_id)s, %(skill_tree_id)s)"
            ).format(sql.Identifier(table))
            delete = remove(table, edge)

            def add() -> Callable[[], None]:
                try:
                    conn.execute(statement, edge.row())
                except psycopg.errors.IntegrityConstraintViolation as error:
                    check_refusal(edge, error.diag.constraint_name)
                    return conn.rollback
                check_acceptance(edge, table == FLOOR_TABLE)

                def finish() -> None:
                    conn.commit()
                    delete()

                return finish

            return add

        def through_sqlalchemy(edge: Edge) -> Callable[[], Callable[[], None]]:
            delete = remove("skill_dependencies", edge)

            def add() -> Callable[[], None]:
                connection = engine.connect()
                try:
                    connection.execute(insert(SkillDependency), edge.row())
                except IntegrityError as error:
                    check_refusal(edge, constraint_of(error))
                    return connection.close  # rolls back
                check_acceptance(edge, False)

                def finish() -> None:
                    connection.commit()
                    connection.close()
                    delete()

                return finish

            return add

        for edge in [*EDGES, CYCLE_CLOSER]:
            paths = {
                FLOOR_ADD: plain(FLOOR_TABLE, edge),
                PSYCOPG_ADD: plain("skill_dependencies", edge),
                SERVICE_ADD: through_sqlalchemy(edge),
            }
            runs, warmup = (REFUSAL_RUNS, REFUSAL_WARMUP) if edge.refused else (RUNS, WARMUP)
            results[edge] = time_added(paths, runs=runs, warmup=warmup)
    return results


NEEDS_STRESS = "skill_needs(), stress edge: two bounded searches, then the full one"
WALK_STRESS = "the full search alone: the prerequisites walk of the stress edge"
NEEDS_CYCLE = f"skill_needs(), the {CHAIN:,}-cycle"
CHAIN_CYCLE = (
    f"skill_dependency_chain() as migrated (0012), the {CHAIN:,}-cycle: "
    "one breadth-first recursive query"
)


@dataclass(frozen=True)
class TriggerParts:
    """The trigger's functions timed on their own, and the size of the refusal it raises."""

    samples: dict[str, list[float]]
    stress_prerequisites: int
    message_chars: int
    detail_chars: int


def check_chain(conn: psycopg.Connection[Any], chain: list[str], edge: Edge) -> None:
    """Stop the run unless `chain` leads from the edge's prerequisite back to its skill, each
    skill needing the next."""
    pairs = list(itertools.pairwise(chain))
    row = conn.execute(
        "SELECT count(*) FROM skill_dependencies d JOIN unnest(%s::text[], %s::text[]) AS p(s, n)"
        " ON d.skill_id = p.s AND d.depends_on_id = p.n",
        ([s for s, _ in pairs], [n for _, n in pairs]),
    ).fetchone()
    ends = (chain[0], chain[-1]) == (edge.prerequisite, edge.skill)
    if not ends or row is None or row[0] != len(pairs) or len(set(chain)) != len(chain):
        raise RuntimeError("a chain function returned no chain of prerequisites")


def measure_trigger_parts(dsn: str) -> TriggerParts:
    """The searches behind the slow rows of the adding table, called directly (psycopg)."""
    stress = next(edge for edge in EDGES if edge.stress)
    with psycopg.connect(dsn, autocommit=True) as conn:

        def call(function: str, edge: Edge) -> Callable[[], list[str]]:
            # The trigger asks whether the new prerequisite already needs the new skill.
            query = sql.SQL("SELECT {}(%s, %s)").format(sql.Identifier(function))

            def run() -> list[str]:
                row = conn.execute(query, (edge.prerequisite, edge.skill)).fetchone()
                assert row is not None
                return list(row[0]) if isinstance(row[0], list) else []

            return run

        def walk(skill: str) -> Callable[[], object]:
            return lambda: conn.execute(ANCESTOR_WALK, {"skill": skill}).fetchone()

        migrated = call("skill_dependency_chain", CYCLE_CLOSER)
        check_chain(conn, migrated(), CYCLE_CLOSER)
        samples = time_interleaved(
            {
                NEEDS_STRESS: call("skill_needs", stress),
                WALK_STRESS: walk(stress.prerequisite),
                NEEDS_CYCLE: call("skill_needs", CYCLE_CLOSER),
            },
            runs=PART_RUNS,
            warmup=REFUSAL_WARMUP,
            rounds=6,
        )
        samples |= time_interleaved(
            {CHAIN_CYCLE: migrated}, runs=PART_RUNS, warmup=REFUSAL_WARMUP, rounds=6
        )
        found = conn.execute(ANCESTOR_WALK, {"skill": stress.prerequisite}).fetchone()
        if found is None:
            raise RuntimeError("no walk")
        try:
            conn.execute(
                "INSERT INTO skill_dependencies (skill_id, depends_on_id, skill_tree_id)"
                " VALUES (%(skill_id)s, %(depends_on_id)s, %(skill_tree_id)s)",
                CYCLE_CLOSER.row(),
            )
        except psycopg.errors.IntegrityConstraintViolation as error:
            message, detail = error.diag.message_primary or "", error.diag.message_detail or ""
        else:
            raise RuntimeError("the cycle was accepted")
    return TriggerParts(samples, int(found[0]), len(message), len(detail))


# --- 2. transitive prerequisites -------------------------------------------------------------

# Breadth-first search in one recursive CTE. UNION drops every row equal to an earlier one, and
# `hops` is an interval of n days minus n x 24 hours: its span is always zero, so two rows are
# equal when their ids are, whatever n. Each skill thus keeps the row of the first level that
# reaches it, and that level's n is its distance. (Carrying the distance as an integer instead
# keeps one row per distinct path length: 1.9 million rows and 10 s on this graph.)
PREREQUISITES_FLOOR = """
WITH RECURSIVE walk(id, hops) AS (
    SELECT CAST(%(skill)s AS text), interval '0'
    UNION
    SELECT d.depends_on_id, w.hops + interval '1 day' - interval '24 hours'
    FROM walk w JOIN skill_dependencies d ON d.skill_id = w.id
)
SELECT w.id, s.name, extract(day FROM w.hops)::int AS depth
FROM walk w JOIN skills s ON s.id = w.id
WHERE w.id <> %(skill)s
"""
# The walk alone (ids, no distances, no names): what any exact answer must at least pay.
ANCESTOR_WALK = """
WITH RECURSIVE walk(id) AS (
    SELECT CAST(%(skill)s AS text)
    UNION
    SELECT d.depends_on_id FROM walk w JOIN skill_dependencies d ON d.skill_id = w.id
)
SELECT count(*) - 1 FROM walk
"""

FLOOR_PREREQUISITES = "floor: one recursive CTE (ids, names, distances), psycopg"
WALK_ONLY = "part of the floor: the ancestor walk alone (ids only)"
SERVICE_PREREQUISITES = (
    "graph.service.prerequisites, warm: the tree's graph kept (one query for the skill's facts "
    "and version, BFS, sorted answer)"
)
SERVICE_JSON = "the warm service and the endpoint's JSON body (what the HTTP answer costs in all)"
SERVICE_COLD = (
    "graph.service.prerequisites, cold: the first request after a change to the tree (the "
    "whole graph read again)"
)
PLACE_ONLY = "part of the warm path: repository.find_skill (its one query, through SQLAlchemy)"
IN_MEMORY = "part of the warm path: dag BFS over the kept graph"
LOAD_ONLY = "part of the cold path: repository.tree_graph (the whole tree, one statement)"


@dataclass(frozen=True)
class QueryProfile:
    """EXPLAIN ANALYZE of a query with a recursive walk: its time, the walk's, the levels."""

    ms: float
    walk_ms: float
    levels: int


def profile(conn: psycopg.Connection[Any], query: str, skill: str) -> QueryProfile:
    """Where `query`'s time goes: one iteration of its recursive union per level, then the rest."""
    row = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + query, {"skill": skill}).fetchone()
    assert row is not None

    def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield plan
        for child in plan.get("Plans", []):
            yield from nodes(child)

    top = row[0][0]
    union = next(n for n in nodes(top["Plan"]) if n["Node Type"] == "Recursive Union")
    return QueryProfile(
        ms=top["Execution Time"],
        walk_ms=union["Actual Total Time"],
        levels=union["Plans"][1]["Actual Loops"],
    )


@dataclass(frozen=True)
class Prerequisites:
    """Timings of each path to the deepest skill's prerequisites, and what the answer holds."""

    samples: dict[str, list[float]]
    count: int
    farthest: int
    walk: QueryProfile
    graph_skills: int
    graph_edges: int


def measure_prerequisites(dsn: str, engine: Engine) -> Prerequisites:
    """Timings of each path to the deepest skill's prerequisites, checked to agree."""
    sessions = session_factory(engine)
    with psycopg.connect(dsn, autocommit=True) as conn:

        def floor() -> list[tuple[Any, ...]]:
            return conn.execute(PREREQUISITES_FLOOR, {"skill": DEEPEST}).fetchall()

        def walk_only() -> list[tuple[Any, ...]]:
            return conn.execute(ANCESTOR_WALK, {"skill": DEEPEST}).fetchall()

        def through_service() -> list[RelatedSkillJson]:
            with sessions() as session:
                return service.prerequisites(session, DEEPEST, None, from_cache=True)

        def with_json() -> bytes:
            return to_json(through_service())

        def place_only() -> repository.SkillPlace | None:
            with sessions() as session:
                return repository.find_skill(session, DEEPEST)

        def load_only() -> TreeGraph | None:
            with sessions() as session:
                return repository.tree_graph(session, TREE_ID)

        def change_the_tree() -> None:
            # A real write (any writer's): the triggers bump the tree's version, the kept graph
            # is stale. The new skill is nobody's prerequisite, so answers stay the same.
            conn.execute("UPDATE skills SET name = name WHERE id = %s", (NEW_SKILL,))

        expected = {(r["id"], r["name"], r["depth"]) for r in through_service()}
        if set(floor()) != expected:
            raise RuntimeError("the floor and the service disagree")
        chain = {chain_skill(p) for p in range(1, CHAIN + 1)}
        if walk_only()[0][0] != len(expected) or not chain <= {s for s, _, _ in expected}:
            raise RuntimeError("the walk and the service disagree")
        change_the_tree()
        if {(r["id"], r["name"], r["depth"]) for r in through_service()} != expected:
            raise RuntimeError("the service's cold path disagrees")
        graph = service.GRAPHS.get(TREE_ID)
        if graph is None:
            raise RuntimeError("the service kept no graph")
        needs = graph.needs
        if dag.transitive_prerequisites(needs, DEEPEST) != {s: d for s, _, d in expected}:
            raise RuntimeError("the in-memory BFS and the service disagree")
        warm = {
            FLOOR_PREREQUISITES: floor,
            WALK_ONLY: walk_only,
            SERVICE_PREREQUISITES: through_service,
            SERVICE_JSON: with_json,
            PLACE_ONLY: place_only,
            IN_MEMORY: lambda: dag.transitive_prerequisites(needs, DEEPEST),
            LOAD_ONLY: load_only,
        }
        samples: dict[str, list[float]] = {name: [] for name in [*warm, SERVICE_COLD]}
        for call in warm.values():
            time_calls(call, runs=0, warmup=WARMUP)
        time_after_change(change_the_tree, through_service, runs=COLD_WARMUP)
        for _ in range(ROUNDS):
            # Each round's first warm call follows a cold one, which kept the graph again.
            for name, call in warm.items():
                runs = RUNS if name != LOAD_ONLY else COLD_RUNS
                samples[name] += time_calls(call, runs=runs // ROUNDS, warmup=0)
            samples[SERVICE_COLD] += time_after_change(
                change_the_tree, through_service, runs=COLD_RUNS // ROUNDS
            )
        return Prerequisites(
            samples=samples,
            count=len(expected),
            farthest=max(d for _, _, d in expected),
            walk=profile(conn, ANCESTOR_WALK, DEEPEST),
            graph_skills=len(graph.skills),
            graph_edges=sum(len(ps) for ps in needs.values()),
        )


def time_after_change(
    change: Callable[[], None], call: Callable[[], object], runs: int
) -> list[float]:
    """Milliseconds taken by `call` right after each of `runs` untimed calls of `change`."""
    samples = []
    for _ in range(runs):
        change()
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


# --- 3. the spec's queries -------------------------------------------------------------------

# The spec's "Dependency Resolution Query", `= ANY(sd.dependencies)` turned into a join on our
# edge table, everything else as written (COUNT(*) of the rows: it counts a skill per path).
SPEC_RESOLUTION = """
WITH RECURSIVE skill_deps AS (
  SELECT id, 1 as depth
  FROM skills
  WHERE id = %(skill)s

  UNION ALL

  SELECT s.id, sd.depth + 1
  FROM skills s
  JOIN skill_dependencies d ON d.depends_on_id = s.id
  JOIN skill_deps sd ON d.skill_id = sd.id
  WHERE sd.depth < 5
)
SELECT COUNT(*) as missing_count, COUNT(DISTINCT sd.id) AS distinct_skills
FROM skill_deps sd
LEFT JOIN user_skill_progress usp ON (
  usp.skill_id = sd.id AND
  usp.user_id = %(user)s AND
  usp.status = 'COMPLETED'
)
WHERE usp.id IS NULL AND sd.depth > 1
"""
# The spec's `validateSkillDependencies`, `unnest(s.dependencies)` turned into our edge table.
SPEC_CYCLE_CHECK = """
WITH RECURSIVE dep_check AS (
  SELECT CAST(%(skill)s AS text) as skill_id, 0 as depth
  UNION ALL
  SELECT d.depends_on_id as skill_id, dc.depth + 1
  FROM skills s
  JOIN dep_check dc ON s.id = dc.skill_id
  JOIN skill_dependencies d ON d.skill_id = s.id
  WHERE dc.depth < 10
)
SELECT EXISTS(SELECT 1 FROM dep_check WHERE skill_id = ANY(%(dependencies)s)) as exists
"""
LEARNER = "a-learner-with-no-progress"


@dataclass(frozen=True)
class SpecRow:
    """One question asked of the spec's query and of ours, with both answers."""

    question: str
    spec: str
    ours: str


def spec_accepts(conn: psycopg.Connection[Any], skill: str, prerequisite: str) -> bool:
    """`validateSkillDependencies(skill, [prerequisite])`: true means "no cycle, go ahead"."""
    row = conn.execute(
        SPEC_CYCLE_CHECK, {"skill": skill, "dependencies": [prerequisite]}
    ).fetchone()
    assert row is not None
    return not row[0]


def trigger_accepts(engine: Engine, skill: str, prerequisite: str) -> bool:
    """Whether our trigger lets `skill` need `prerequisite` (rolled back either way)."""
    with engine.connect() as connection:
        try:
            connection.execute(
                insert(SkillDependency),
                {"skill_id": skill, "depends_on_id": prerequisite, "skill_tree_id": TREE_ID},
            )
        except IntegrityError as error:
            if constraint_of(error) != ACYCLIC:
                raise
            return False
        finally:
            connection.rollback()
    return True


def verdict(accepted: bool) -> str:
    """An acceptance in words."""
    return "accepted" if accepted else "refused"


def compare_with_spec(
    dsn: str, engine: Engine, ours: int, deepest_distance: int
) -> tuple[list[SpecRow], list[float]]:
    """The spec's queries and ours on the same questions; the spec resolution query's timings."""
    rows: list[SpecRow] = []
    sessions = session_factory(engine)
    with psycopg.connect(dsn, autocommit=True) as conn:

        def resolution(skill: str) -> tuple[int, int]:
            found = conn.execute(SPEC_RESOLUTION, {"skill": skill, "user": LEARNER}).fetchone()
            assert found is not None
            return int(found[0]), int(found[1])

        missing, distinct = resolution(DEEPEST)
        rows.append(
            SpecRow(
                "prerequisites of the deepest skill (what a new learner still misses)",
                f"{missing:,} (distinct skills: {distinct:,}; distances 1-4 only)",
                f"{ours:,} (distances 1-{deepest_distance:,})",
            )
        )
        missing, distinct = resolution(chain_skill(CHAIN))
        with sessions() as session:
            chain_ours = len(service.prerequisites(session, chain_skill(CHAIN), None))
        rows.append(
            SpecRow(
                f"prerequisites of the deepest chain skill (chain of {CHAIN:,})",
                f"{missing:,}",
                f"{chain_ours:,}",
            )
        )
        timings = time_calls(lambda: resolution(DEEPEST), runs=RUNS, warmup=WARMUP)

        cases = [
            (CYCLE_CLOSER.label.removeprefix("refused: "), chain_skill(1), chain_skill(CHAIN)),
            ("the chain's root needs chain skill 3 (closes a 3-cycle)", chain_skill(1),
             chain_skill(3)),
            (
                f"acyclic shortcut: chain skill {CHAIN:,} needs chain skill {CHAIN - 5:,} "
                "(already an indirect prerequisite)",
                chain_skill(CHAIN),
                chain_skill(CHAIN - 5),
            ),
        ]  # fmt: skip
        for question, skill, prerequisite in cases:
            as_written = verdict(spec_accepts(conn, skill, prerequisite))
            turned = verdict(spec_accepts(conn, prerequisite, skill))
            rows.append(
                SpecRow(
                    question,
                    f"{as_written} (walk turned the right way, from the prerequisite: {turned})",
                    verdict(trigger_accepts(engine, skill, prerequisite)),
                )
            )
    return rows, timings


# --- report ----------------------------------------------------------------------------------


def ms(samples: list[float], fraction: float) -> str:
    """A percentile of `samples`, formatted."""
    return f"{percentile(samples, fraction):.2f}"


ADDING_HEADER = (
    "| edge | runs | floor p50 ms | trigger, psycopg p50 / p95 ms "
    "| trigger, SQLAlchemy p50 / p95 ms | SQLAlchemy p50 / floor p50 |\n"
    "| --- | ---: | ---: | ---: | ---: | ---: |"
)


def adding_table(results: dict[Edge, dict[str, list[float]]]) -> str:
    """Markdown rows of the adding-an-edge table."""
    rows = []
    for edge, samples in results.items():
        floor_p50 = percentile(samples[FLOOR_ADD], 0.5)
        service_p50 = percentile(samples[SERVICE_ADD], 0.5)
        runs = len(samples[SERVICE_ADD])
        rows.append(
            f"| {edge.label} | {runs} | {ms(samples[FLOOR_ADD], 0.5)} "
            f"| {ms(samples[PSYCOPG_ADD], 0.5)} / {ms(samples[PSYCOPG_ADD], 0.95)} "
            f"| {ms(samples[SERVICE_ADD], 0.5)} / {ms(samples[SERVICE_ADD], 0.95)} "
            f"| {service_p50 / floor_p50:.1f}x |"
        )
    return "\n".join(rows)


def table(samples: dict[str, list[float]], floor: float | None = None) -> str:
    """Markdown rows: name, p50, p95 (and p50 over `floor` when given)."""
    return "\n".join(
        f"| {name} | {ms(s, 0.5)} | {ms(s, 0.95)} |"
        + (f" {percentile(s, 0.5) / floor:.2f}x |" if floor else "")
        for name, s in samples.items()
    )


def duration(milliseconds: float) -> str:
    """`milliseconds` in ms, or in seconds from 1 s up."""
    return f"{milliseconds / 1000:.1f} s" if milliseconds >= 1000 else f"{milliseconds:.0f} ms"


def runs_table(samples: dict[str, list[float]]) -> str:
    """Markdown rows: name, runs, p50, p95."""
    return "\n".join(
        f"| {name} | {len(s)} | {ms(s, 0.5)} | {ms(s, 0.95)} |" for name, s in samples.items()
    )


def report(
    edge_count: int,
    where: str,
    adding: dict[Edge, dict[str, list[float]]],
    parts: TriggerParts,
    found: Prerequisites,
    spec: tuple[list[SpecRow], list[float]],
) -> str:
    """The markdown section for RESULTS.md."""
    p50 = {name: percentile(s, 0.5) for name, s in found.samples.items()}
    part = {name: percentile(s, 0.5) for name, s in parts.samples.items()}
    realistic = max(percentile(adding[e][SERVICE_ADD], 0.5) for e in EDGES if not e.stress)
    stress = max(percentile(adding[e][SERVICE_ADD], 0.5) for e in EDGES if e.stress)
    refusal = percentile(adding[CYCLE_CLOSER][SERVICE_ADD], 0.5)
    extra = part[NEEDS_STRESS] - part[WALK_STRESS]
    bounded = (
        f"the two bounded searches that run first (513 skills each way) cost the other "
        f"{extra:.1f} ms."
        if extra > 0
        else "the two bounded searches that run first (513 skills each way) are lost in the noise."
    )
    adding_verdict = "met" if realistic <= TARGET_MS else "**not met**"
    stress_verdict = "within" if stress <= TARGET_MS else "**over**"
    service, floor = p50[SERVICE_PREREQUISITES], p50[FLOOR_PREREQUISITES]
    found_verdict = "met" if service <= TARGET_MS else "**not met**"
    walk, cold = found.walk, p50[SERVICE_COLD]
    cold_verdict = "within" if cold <= TARGET_MS else "over"
    spec_rows, spec_timings = spec
    spec_table = "\n".join(f"| {r.question} | {r.spec} | {r.ours} |" for r in spec_rows)
    return f"""
## Prerequisite graph at depth: adding an edge, prerequisites, the spec's queries

`python -m benchmarks.bench_graph`, {today()}, on {where}.

One tree of {CHAIN + BRANCHES * LAYERS * WIDTH:,} skills ({edge_count:,} edges, seed {SEED}): a
chain of {CHAIN:,} (chain skill k needs k-1) and {BRANCHES} branches hanging off it, each a layered
DAG of {LAYERS} layers of {WIDTH} whose skills need 1-3 skills of earlier layers (the first layer:
chain skills of the branch's stretch of {CHAIN // BRANCHES}; the last branch hangs from the deepest
chain skill). Loaded by COPY in one statement each (the trigger checked the {edge_count:,} edges
once, by Kahn's algorithm), then VACUUM ANALYZE. The deepest skill is the last branch's bottom
skill: it needs {found.count:,} skills, the farthest {found.farthest:,} edges away. Timed paths
take turns in blocks, so that a busy moment of the machine hits them alike.

### 1. Adding one edge (the INSERT statement, its acyclicity trigger included)

{RUNS} runs per path after {WARMUP} warm-up ones ({REFUSAL_RUNS} after {REFUSAL_WARMUP} for the
refusal). Timed: the INSERT statement in its transaction, which is what a service's flush costs
(the statement-level trigger runs inside it); untimed: the COMMIT (the same for every path, and
on this shared disk mostly noise) and the DELETE that follows each run. The floor is the same
INSERT into `{FLOOR_TABLE}`: `LIKE skill_dependencies INCLUDING ALL` plus the same two composite
foreign keys, the same rows, no trigger. SQLAlchemy Core: `engine.connect()` (pool checkout) and
`connection.execute(insert(SkillDependency), row)`.

{ADDING_HEADER}
{adding_table(adding)}

**Target** p50 <= {TARGET_MS:.0f} ms for an accepted edge: {adding_verdict} for the realistic
edges (slowest {realistic:.2f} ms: the new skill has no dependents and the deep skill few, so
`skill_needs()` stops after a bounded search of a handful of skills). The stress edge is
{stress_verdict} it ({stress:.2f} ms): its skill has more than 512 dependents and its prerequisite
more than 512 prerequisites, so the trigger walks all {parts.stress_prerequisites:,} prerequisites,
one recursive-CTE level each. The refusal of the {CHAIN:,}-cycle takes {duration(refusal)}.

Where the slow rows' time goes: the trigger's functions called on their own (psycopg).

| call | runs | p50 ms | p95 ms |
| --- | ---: | ---: | ---: |
{runs_table(parts.samples)}

- Stress edge: the full search is {part[WALK_STRESS]:.1f} ms of `skill_needs()`'s
  {part[NEEDS_STRESS]:.1f} ms; {bounded}
- Refusal: the trigger runs `skill_needs()` ({part[NEEDS_CYCLE]:.1f} ms), then
  `skill_dependency_chain()` ({duration(part[CHAIN_CYCLE])}) for the error's chain: since
  migration 0012 one breadth-first recursive query in which each skill takes its predecessor
  from its first level, so the walk back always ends. All that time the trigger holds the tree's
  advisory lock, so every other edge write to the tree waits. Before 0012, migration 0009's
  function searched level by level in PL/pgSQL (one query per level, re-copying the whole
  predecessor map each time: quadratic) and took about 6 s on this cycle.
- The error names every skill of the cycle: a message of {parts.message_chars:,} characters
  plus a JSON DETAIL of {parts.detail_chars:,}.

### 2. Transitive prerequisites of the deepest skill ({found.count:,} skills with their distances)

{RUNS} runs per path after {WARMUP} warm-up ones ({COLD_RUNS} for the cold path and the graph
read, each cold run right after an untimed write to the tree), in {ROUNDS} interleaved rounds; the
service (warm and cold), the floor and the in-memory BFS give the same (id, name, distance) set
(checked). The service keeps each tree's graph of active skills in process
(`graph.tree_graphs`, here {found.graph_skills:,} skills and {found.graph_edges:,} edges), valid
while `skill_trees.structure_version` is unchanged: a warm request runs one small query (the
skill, its tree's visibility and version) and a BFS in memory; the first request after any change
reads the whole graph again in one statement. The floor finds distances in the walk itself: each
row carries an interval of n days minus n x 24 hours, equal to every other such interval, so
UNION keeps a skill's first (nearest) row; an integer distance would keep one row per path length
(1.9 million rows and 10 s on this graph).

| path | p50 ms | p95 ms | p50 / floor p50 |
| --- | ---: | ---: | ---: |
{table(found.samples, floor)}

**Target** p50 <= {TARGET_MS:.0f} ms: {found_verdict} warm ({service:.2f} ms, {service / floor:.2f}x
the SQL floor); the cold path is {cold_verdict} it ({cold:.2f} ms). Why:
- The floor is {floor:.2f} ms, and the walk alone {p50[WALK_ONLY]:.2f} ms: a recursive CTE
  runs one iteration per BFS level, and this skill has {walk.levels - 1:,} levels above it.
  EXPLAIN ANALYZE of the walk: the recursive union takes {walk.walk_ms:.1f} ms for
  {walk.levels:,} iterations (a worktable scan and a primary-key probe each),
  {p50[WALK_ONLY] / walk.levels * 1000:.1f} µs per level uninstrumented. The depth, not the
  {found.count:,} rows, sets the cost of any answer computed in SQL.
- Warm, the service does not walk in SQL: its one query (`repository.find_skill`) costs
  {p50[PLACE_ONLY]:.2f} ms through SQLAlchemy at any depth, the BFS over the kept graph
  {p50[IN_MEMORY]:.2f} ms (linear in the skills and edges reached), and the rest is sorting the
  {found.count:,} skills by (distance, name, id) into plain JSON-ready objects (no Pydantic model
  per skill: validating 5,000 models cost more than the search). The endpoint's JSON body adds
  {p50[SERVICE_JSON] - service:.2f} ms.
- Cold, the service first reads the tree's {found.graph_skills:,} active skills and
  {found.graph_edges:,} edges with the version they belong to, in one statement on the session's
  DBAPI cursor ({p50[LOAD_ONLY]:.2f} ms), then answers as warm; a tree changes far less often
  than it is read, and each change costs one such read per process, not one per request.

### 3. The spec's queries on the same data (the bug fixed)

The spec's "Dependency Resolution Query" (depth < 5) and `validateSkillDependencies` (depth < 10),
translated to our edge table (`JOIN skill_dependencies d ON d.skill_id = sd.id` instead of
`= ANY(sd.dependencies)`), otherwise as written; a learner with no progress. The resolution query
takes {ms(spec_timings, 0.5)} ms p50 on the deepest skill: fast because it stops after 4 levels.

| question | spec's query | ours (service / trigger) |
| --- | --- | --- |
{spec_table}

`validateSkillDependencies(skillId, dependencies)` walks down `skillId`'s own prerequisites and
refuses when a new dependency is among them. That finds redundant edges, not cycles (a cycle
needs `skillId` among the new dependency's prerequisites), so it lets a 3-cycle through and
refuses a harmless shortcut; turned the right way it still stops at depth 10 and misses the
{CHAIN:,}-cycle. The resolution query's `UNION ALL` also counts a skill once per path that
reaches it, so on a tree with diamonds within 4 levels its `missing_count` exceeds the skills
missing.

### Suggested change (not made here)

- Stress edge: only a maintained topological rank per skill (an edge whose prerequisite ranks
  below its skill cannot close a cycle: no search; a search and a local re-rank only otherwise)
  avoids the full walk; worth it only if trees this deep and this connected are expected.
"""


def main() -> None:
    """Build the graph, time every path, print the tables and refresh RESULTS.md."""
    register_listeners()
    with throwaway_database("graph") as url:
        engine = create_db_engine(url)
        try:
            migrate.upgrade(engine)
            dsn = libpq_dsn(url)
            edges = load_graph(dsn)
            where = machine(url)
            adding = measure_adding(dsn, engine)
            parts = measure_trigger_parts(dsn)
            found = measure_prerequisites(dsn, engine)
            spec = compare_with_spec(dsn, engine, found.count, found.farthest)
            section = report(edges, where, adding, parts, found, spec)
        finally:
            engine.dispose()
    print(section)
    write_results("bench_graph", section)


if __name__ == "__main__":
    main()
