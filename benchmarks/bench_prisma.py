"""The spec's stack beside ours (issue 16 part 7): the spec's tree query through Prisma Client 7
with `@prisma/adapter-pg` on Node, and our GET /api/v1/trees/{slug}, on the same database, the
same generated trees of 1,000, 5,000 and 10,000 skills and the same learner, in one interleaved
run, each against our SQL floor.

Run from the repository root: `python -m benchmarks.bench_prisma` (and `make bench`). Needs
`node` and `npm` on PATH (without them it says so and does nothing) and the npm registry the
first time: the harness in benchmarks/prisma/ (package.json and package-lock.json pinned) is
installed with `npm ci` into benchmarks/prisma/.cache/ (git-ignored) and its client generated
there; both are redone only when their files change. Creates and drops its own database on
DATABASE_URL's server (or the embedded one) and refreshes benchmarks/RESULTS.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from fastapi.testclient import TestClient
from psycopg.conninfo import conninfo_to_dict

from benchmarks.bench_tree_document import (
    LAYERS,
    LEARNER_DONE,
    SEED,
    Measured,
    build_tree,
    enrol,
    sign_up,
    tree_slug,
)
from benchmarks.common import (
    RawHttp,
    libpq_dsn,
    machine,
    percentile,
    start_server,
    terminating,
    throwaway_database,
    time_calls,
    timed,
    today,
    write_results,
)
from skilltree.app import create_app
from skilltree.catalog.repository import DOCUMENT_SETTINGS, TREE_DOCUMENT_SQL
from skilltree.db import migrate
from skilltree.db.session import create_db_engine
from skilltree.listeners import register_listeners
from skilltree.ports import free_port

HARNESS = Path(__file__).with_name("prisma")
CACHE = HARNESS / ".cache"
"""Where `npm ci` and `prisma generate` run: a copy of HARNESS_FILES, node_modules, the client."""
HARNESS_FILES = (
    "package.json",
    "package-lock.json",
    "prisma.config.ts",
    "prisma/schema.prisma",
    "bin/schema-engine-offline-stub",
    "tree_query.mjs",
)
INSTALL_FILES = ("package.json", "package-lock.json")
NPM_CI = ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"]
PINNED = ("prisma", "@prisma/client", "@prisma/adapter-pg", "pg")
"""The packages package.json pins to exact versions (tests/test_benchmarks.py checks the lock)."""
SIZES = {1_000: (200, 20), 5_000: (60, 6), 10_000: (30, 3)}
"""Skills in each tree, and the timed and warm-up runs of each path on it."""
ROUNDS = 10

PRISMA = "Prisma: the spec's findUnique, edges included (timed in Node)"
PRISMA_SCALARS = "Prisma: the spec's query as written, no edges"
PRISMA_JSON = "Prisma: the spec's findUnique, then JSON.stringify"
PRISMA_JOIN = "Prisma: the spec's findUnique in one statement (relationJoins preview)"
SIGNED_IN = "ours, HTTP, signed in, copy current"
ANONYMOUS = "ours, HTTP, anonymous, copy current"
CHANGED = "ours, HTTP, signed in, tree just changed"
CHANGED_ANONYMOUS = "ours, HTTP, anonymous, tree just changed"
FLOOR = "our SQL floor: the document statement with the learner's rows"
VARIANTS = {PRISMA: "spec", PRISMA_SCALARS: "scalars", PRISMA_JSON: "json", PRISMA_JOIN: "join"}
ID = re.compile(rb'"([a-z][0-9a-z]{23})"')
"""Our ids (docs/spec-deviations.md, 24) as JSON strings, whatever the document's shape."""


def node_available() -> bool:
    """Whether `node` and `npm` are on PATH."""
    return shutil.which("node") is not None and shutil.which("npm") is not None


def digest(names: tuple[str, ...]) -> str:
    """SHA-256 over the names and contents of the harness files `names`."""
    hashed = hashlib.sha256()
    for name in names:
        hashed.update(name.encode() + b"\0" + (HARNESS / name).read_bytes() + b"\0")
    return hashed.hexdigest()


def prepare_harness() -> Path:
    """The harness in CACHE, installed (`npm ci`, scripts off: the only ones try to download
    Prisma's native engines) and its client generated, each only when its inputs changed; the
    CLI is pointed at a stub of the native schema engine it cannot download offline and that
    `generate` does not use (benchmarks/prisma/README.md)."""
    for name in HARNESS_FILES:
        target = CACHE / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(HARNESS / name, target)
    steps = [
        (".installed", digest(INSTALL_FILES), NPM_CI),
        (".generated", digest(HARNESS_FILES), ["node_modules/.bin/prisma", "generate"]),
    ]
    stub = CACHE / "bin" / "schema-engine-offline-stub"
    env = os.environ | {"PRISMA_SCHEMA_ENGINE_BINARY": str(stub), "PRISMA_HIDE_UPDATE_MESSAGE": "1"}
    for stamp_name, wanted, command in steps:
        stamp = CACHE / stamp_name
        if stamp.exists() and stamp.read_text() == wanted:
            continue
        stamp.unlink(missing_ok=True)
        subprocess.run(command, cwd=CACHE, env=env, check=True, stdout=sys.stderr)
        stamp.write_text(wanted)
    return CACHE


class PrismaHarness:
    """tree_query.mjs in a Node process of its own, asked one JSON line at a time."""

    def __init__(self, directory: Path) -> None:
        self.process = subprocess.Popen(
            ["node", "tree_query.mjs"],
            cwd=directory,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, **message: object) -> dict[str, Any]:
        """The harness's answer to `message`; its error raised."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the Prisma harness exited ({self.process.wait()})")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"the Prisma harness failed: {answer['error']}")
        return answer

    def close(self) -> None:
        """Ask the harness to disconnect and exit; wait for it."""
        if self.process.poll() is None:
            self.ask(cmd="quit")
        self.process.wait(30)


def node_connection(url: str) -> dict[str, object]:
    """`url` (SQLAlchemy form) as node-postgres's connection settings (a socket directory as
    `host` works there too)."""
    parts = conninfo_to_dict(libpq_dsn(url))
    settings: dict[str, object] = {"database": parts["dbname"], "user": parts.get("user")}
    if parts.get("host"):
        settings["host"] = parts["host"]
    if parts.get("port"):
        settings["port"] = int(str(parts["port"]))
    if parts.get("password"):
        settings["password"] = parts["password"]
    return settings


@dataclass(frozen=True)
class Compared(Measured):
    """`Measured` (`size`: our signed-in answer's), with what each of Prisma's queries returned
    and how many statements it sent (tree_query.mjs's "info")."""

    prisma: dict[str, Any]


def interleaved(
    paths: Mapping[str, Callable[[int], list[float]]], *, runs: int, warmup: int
) -> dict[str, list[float]]:
    """Each path's `runs` samples, the paths taking turns in ROUNDS blocks (after `warmup`
    untimed calls of each); a path takes a count and returns that many samples."""
    for path in paths.values():
        path(warmup)
    samples: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(ROUNDS):
        for name, path in paths.items():
            samples[name] += path(runs // ROUNDS)
    return samples


def measure(
    url: str, port: int, harness: PrismaHarness, learner: tuple[str, str], skills: int, edges: int
) -> Compared:
    """Time every path on the tree of `skills` skills, after checking that Prisma and our API
    return the same tree and learner."""
    slug = tree_slug(skills)
    runs, warmup = SIZES[skills]
    learner_id, token = learner
    path = f"/api/v1/trees/{slug}"
    signed_in = {"Authorization": f"Bearer {token}"}
    with ExitStack() as stack:
        conn = stack.enter_context(psycopg.connect(libpq_dsn(url), autocommit=True))
        for name, value in DOCUMENT_SETTINGS.items():
            conn.execute("SELECT set_config(%s, %s, false)", (name, value))

        def floor() -> None:
            parameters = {
                "build": True,
                "slug": slug,
                "user_id": learner_id,
                "known_id": None,
                "known_version": None,
            }
            assert conn.execute(TREE_DOCUMENT_SQL, parameters).fetchone() is not None

        def read(headers: Mapping[str, str] | None = None) -> bytes:
            status, body = http[0].get(path, headers)
            assert status == 200, status
            return body

        def just_changed(headers: Mapping[str, str] | None) -> Callable[[int], list[float]]:
            def run(count: int) -> list[float]:
                samples = []
                for _ in range(count):
                    # Any change to the tree bumps its structure_version (graph.sql): untimed.
                    conn.execute(
                        "UPDATE skill_trees SET updated_at = now() WHERE slug = %s", (slug,)
                    )
                    samples.append(timed(lambda: read(headers))[0])
                return samples

            return run

        def prisma(variant: str) -> Callable[[int], list[float]]:
            def run(count: int) -> list[float]:
                answer = harness.ask(
                    cmd="run", variant=variant, slug=slug, userId=learner_id, runs=count, warmup=0
                )
                return [float(ms) for ms in answer["samples"]]

            return run

        info = harness.ask(cmd="info", slug=slug, userId=learner_id)["variants"]
        http = [RawHttp(port)]
        stack.callback(lambda: http[0].close())
        ours = read(signed_in)
        for variant in info.values():
            assert variant["skills"] == skills, variant
            assert variant["withProgress"] == LEARNER_DONE, variant
            assert variant["treeProgress"] == 1, variant
        for name in ("spec", "join"):
            assert info[name]["dependencies"] == info[name]["dependents"] == edges, info
        assert info["join"]["statements"] == 1, info
        ids = set(ID.findall(ours))
        assert {info["spec"]["first"].encode(), info["spec"]["last"].encode()} <= ids
        assert len(ids) >= skills, "our document names every skill"

        def sampled(call: Callable[[], object]) -> Callable[[int], list[float]]:
            return lambda count: time_calls(call, runs=count, warmup=0)

        def reconnecting(run: Callable[[int], list[float]]) -> Callable[[int], list[float]]:
            # A new connection for each block (untimed): uvicorn closes one idle for 5 s, as
            # ours is while Prisma's block runs.
            def block(count: int) -> list[float]:
                http[0].close()
                http[0] = RawHttp(port)
                return run(count)

            return block

        paths: dict[str, Callable[[int], list[float]]] = {
            name: prisma(variant) for name, variant in VARIANTS.items()
        }
        paths |= {
            SIGNED_IN: reconnecting(sampled(lambda: read(signed_in))),
            ANONYMOUS: reconnecting(sampled(read)),
            CHANGED: reconnecting(just_changed(signed_in)),
            CHANGED_ANONYMOUS: reconnecting(just_changed(None)),
            FLOOR: sampled(floor),
        }
        samples = interleaved(paths, runs=runs, warmup=warmup)
    return Compared(skills, edges, samples, len(ours), info)


def report(measured: list[Compared], where: str, versions: Mapping[str, Any], end: str) -> str:
    """The markdown section for RESULTS.md."""
    p50s = [{name: percentile(s, 0.5) for name, s in m.samples.items()} for m in measured]
    header = " | ".join(f"{m.skills:,}: p50 ms | p95 ms | / floor" for m in measured)
    rows = []
    for name in measured[0].samples:
        cells = [
            f"{m50[name]:.2f} | {percentile(m.samples[name], 0.95):.2f} | "
            f"{m50[name] / m50[FLOOR]:.2f}x"
            for m, m50 in zip(measured, p50s, strict=True)
        ]
        rows.append(f"| {name} | {' | '.join(cells)} |")
    summary, sizes = [], []
    for m, m50 in zip(measured, p50s, strict=True):
        spec = m.prisma["spec"]
        fastest = min(m50[PRISMA], m50[PRISMA_JOIN], m50[PRISMA_SCALARS])
        summary.append(
            f"| {m.skills:,} | {m50[PRISMA]:.1f} | {m50[PRISMA_JOIN]:.1f} | "
            f"{m50[PRISMA_SCALARS]:.1f} | {m50[SIGNED_IN]:.1f} | {m50[ANONYMOUS]:.1f} | "
            f"{m50[CHANGED]:.1f} | {m50[FLOOR]:.1f} | {m50[PRISMA] / m50[SIGNED_IN]:.1f}x | "
            f"{m50[PRISMA] / m50[ANONYMOUS]:.1f}x | {m50[PRISMA] / m50[CHANGED]:.2f}x | "
            f"{fastest / m50[CHANGED]:.2f}x |"
        )
        sizes.append(
            f"at {m.skills:,} skills Prisma sends {spec['statements']} statements "
            f"({m.prisma['scalars']['statements']} without the edges) and returns "
            f"{spec['bytes'] / 1024:,.0f} KiB as JSON, ours "
            f"{m.size / 1024:,.0f} KiB"
        )
    pinned = ", ".join(f"`{name}` {versions['installed'][name]}" for name in PINNED)
    runs = ", ".join(f"{r} at {n:,} skills" for n, (r, _) in SIZES.items())
    return f"""
## The spec's stack beside ours: Prisma 7 and GET /api/v1/trees/{{slug}}

`python -m benchmarks.bench_prisma` (part of `make bench` when `node` and `npm` are on PATH),
{today()}, on {where}; Node {versions["node"]}, {pinned} (benchmarks/prisma/package-lock.json).
Load at the end: {end}.

The trees of `bench_tree_document` ({LAYERS} layers, every skill past the first layer needing
1-3 skills of earlier layers, seed {SEED}) in one database of ours, the learner signed up through
the API and enrolled with the first {LEARNER_DONE} skills of each tree completed. Before timing,
the run checks that both sides return the same tree: every active skill, the learner's
{LEARNER_DONE} progress rows and enrolment, as many dependencies and dependents as edges, and
Prisma's first and last skill among our document's ids. Each path is timed over sequential calls
({runs}, after a tenth as many warm-up ones), the paths taking turns in {ROUNDS} blocks.

p50 in ms, and how many times longer Prisma's query takes than our read:

{SUMMARY_HEADER}
{chr(10).join(summary)}

A signed-in read: {"; ".join(sizes)}.

| path | {header} |
| --- |{" ---: | ---: | ---: |" * len(measured)}
{chr(10).join(rows)}

- *Prisma*: the spec's "Efficient Skill Tree Loading" (`skillTree.findUnique` by slug, active
  skills by `positionY, positionX` with the learner's `userProgress`, and the tree's
  `userProgress`) through Prisma Client with `@prisma/adapter-pg` (its default pool), run by
  benchmarks/prisma/tree_query.mjs in a Node process of its own and timed there with
  `process.hrtime` around each awaited call (the objects built, nothing serialised or sent). The
  spec keeps a skill's `dependencies` and `dependents` in `String[]` columns, returned with the
  skill; our schema keeps them in `skill_dependencies` (docs/spec-deviations.md, 1), which
  benchmarks/prisma/prisma/schema.prisma maps as relations that *Prisma* includes
  (`select` of the other end's id). Prisma's default sends a statement per relation level and
  joins the rows in the client; *one statement* is the same query with `relationLoadStrategy:
  "join"` (the `relationJoins` preview: LATERAL joins, the JSON built by PostgreSQL). *No
  edges* is the spec's text as written on our tables: a lower bound of Prisma's cost. *Then
  JSON.stringify*: what an API built on it would do before sending. *Fastest Prisma* is the
  quickest of the first three on that tree.
- *Ours*: the app under uvicorn in its own process (one worker), a minimal keep-alive HTTP
  client, the whole response read. *Copy current*: the tree's document is kept for its version.
  *Tree just changed*: before each (untimed), `UPDATE skill_trees SET updated_at = now()` bumps
  the tree's `structure_version` (graph.sql), so the read builds the document, the graph and
  the learning plan again (and, signed in, the learner's states). Prisma's query reads the
  learner's progress, so the summary sets it beside our signed-in reads.
- *Floor*: `tree_document.sql` through one plain psycopg connection (autocommit, auto-prepared,
  with the statement's settings), the document built, with the learner's rows.
- Prisma's side is timed without HTTP and ours with it, so the ratios lean towards Prisma.
"""


SUMMARY_HEADER = (
    "| skills | Prisma | Prisma, one statement | Prisma, no edges | ours, signed in, copy current "
    "| ours, anonymous | ours, tree just changed | our SQL floor | Prisma / signed in "
    "| Prisma / anonymous | Prisma / just changed | fastest Prisma / just changed |\n"
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
)


def main() -> None:
    """Install the harness, build the data, time every path, refresh RESULTS.md."""
    if not node_available():
        print("bench_prisma: skipped (no `node` and `npm` on PATH)", flush=True)
        return
    directory = prepare_harness()
    register_listeners()
    with throwaway_database("prisma") as url, ExitStack() as stack:
        engine = create_db_engine(url)
        stack.callback(engine.dispose)
        migrate.upgrade(engine)
        edges = {
            skills: build_tree(engine, per_layer=skills // LAYERS, slug=tree_slug(skills))
            for skills in SIZES
        }
        with TestClient(create_app(engine)) as client:
            learner = sign_up(client)
        with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
            for skills in SIZES:
                enrol(conn, learner[0], tree_slug(skills))
        where = machine(url)
        harness = PrismaHarness(directory)
        stack.callback(harness.close)
        versions = harness.ask(cmd="connect", connection=node_connection(url))["versions"]
        harness.ask(cmd="check")  # every model's columns exist in our tables
        port = free_port()
        with terminating(start_server(url, port)):
            measured = []
            for skills in SIZES:
                measured.append(measure(url, port, harness, learner, skills, edges[skills]))
                print(report(measured, where, versions, "(running)"), flush=True)  # so far
        end = f"load average {os.getloadavg()[0]:.2f}"
        section = report(measured, where, versions, end)
    print(section)
    write_results("bench_prisma", section)


if __name__ == "__main__":
    main()
