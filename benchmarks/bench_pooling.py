"""Issue 17: completions at 8 and 64 clients, straight to PostgreSQL and through PgBouncer.

Run from the repository root: `python -m benchmarks.bench_pooling`. Needs PgBouncer (Debian:
`apt-get install pgbouncer`). Creates and drops its own database on DATABASE_URL's server (or the
embedded one), starts a PgBouncer of its own in front of that server (transaction mode, the
`pgbouncer.ini` of docs/operations.md with its 20 server connections) and refreshes
benchmarks/RESULTS.md.

For 8 and then 64 clients: WORKERS worker processes (as `uvicorn --workers 8` would run), each
with clients / WORKERS threads; each thread is a client with a connection of its own, completing
skills of its own learners back to back (`progress.service.complete()` and a commit, as part 2 of
bench_progress). Three paths take turns, ROUNDS rounds of ROUND_SECONDS:

- direct: connections as today (DATABASE_POOLER unset), the floor;
- direct, with the connections DATABASE_POOLER=pgbouncer makes (no server-side prepared
  statements): what turning them off costs by itself;
- through PgBouncer, DATABASE_POOLER=pgbouncer.

Every completion must succeed, and no XP may be lost (checked at the end).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from sqlalchemy import Engine, make_url

from benchmarks.bench_progress import (
    AUDIT_SQL,
    Learner,
    add_learners,
    clone_learners,
    complete_next,
    enrol,
    seed_achievements,
)
from benchmarks.bench_tree_document import build_tree
from benchmarks.common import (
    libpq_dsn,
    machine,
    percentile,
    throwaway_database,
    today,
    write_results,
)
from skilltree.config import Pooler
from skilltree.db import migrate
from skilltree.db.pgbouncer import PgBouncer, pgbouncer_binary, pgbouncer_version
from skilltree.db.session import create_db_engine, session_factory
from skilltree.listeners import register_listeners

CLIENTS = (8, 64)
WORKERS = 8
"""Worker processes; each runs clients / WORKERS client threads."""
LEARNERS = 256
"""Learners per client count, shared round robin among its clients (enough skills for all)."""
TEMPLATES = 12
ROUND_SECONDS, ROUNDS = 5, 3
SERVER_CONNECTIONS = 20
"""PgBouncer's default_pool_size, as in docs/operations.md's pgbouncer.ini."""


@dataclass(frozen=True)
class Route:
    """A way to the database: through PgBouncer or not, with the connections of `pooler`."""

    name: str
    through_pgbouncer: bool
    pooler: Pooler


ROUTES = (
    Route("direct (today's connections)", False, "none"),
    Route("direct, no prepared statements (DATABASE_POOLER=pgbouncer)", False, "pgbouncer"),
    Route(f"through PgBouncer ({SERVER_CONNECTIONS} server connections)", True, "pgbouncer"),
)


@dataclass
class Tally:
    """What one path did at one client count, over every round."""

    completions: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    """Milliseconds of each completion (complete() and its commit)."""
    bouncer_cpu_ms: float = 0.0

    @property
    def tps(self) -> float:
        """Completions per second."""
        return self.completions / self.seconds if self.seconds else 0.0


def worker(
    url: str,
    pooler: Pooler,
    clients: list[list[Learner]],
    start_at: float,
    results: multiprocessing.SimpleQueue[Any],
    index: int,
) -> None:
    """One worker process (forked): its own engine, one thread per client, each completing skills
    of its own learners in turn from `start_at` (wall clock) for ROUND_SECONDS; reports
    (index, completions, seconds, latencies, each learner's skills still to do) or the failure."""
    engine = create_db_engine(url, pooler)
    factory = session_factory(engine)
    latencies: list[list[float]] = [[] for _ in clients]
    failures: list[BaseException] = []

    def client(n: int) -> None:
        learners = clients[n]
        try:
            time.sleep(max(0.0, start_at - time.time()))
            stop_at = start_at + ROUND_SECONDS
            done = 0
            while time.time() < stop_at:
                latencies[n].append(complete_next(factory, learners[done % len(learners)])[0])
                done += 1
        except BaseException as failure:
            failures.append(failure)

    try:
        # Every client's connection made before the start, as a running API has them.
        opened = [engine.connect() for _ in clients]
        for connection in opened:
            connection.exec_driver_sql("SELECT 1")
            connection.close()
        threads = [threading.Thread(target=client, args=(n,)) for n in range(len(clients))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            raise failures[0]
        results.put(
            (
                index,
                sum(len(t) for t in latencies),
                time.time() - start_at,
                [ms for t in latencies for ms in t],
                [[lr.available for lr in learners] for learners in clients],
            )
        )
    except BaseException as failure:  # reported by the parent
        results.put(failure)
    finally:
        engine.dispose()


def run_round(url: str, pooler: Pooler, clients: list[list[Learner]]) -> Tally:
    """WORKERS processes share `clients` (round robin) for one round; what they did (and each
    learner keeps what it still has to do, for the next round)."""
    fork = multiprocessing.get_context("fork")
    results: multiprocessing.SimpleQueue[Any] = fork.SimpleQueue()
    start_at = time.time() + 3.0
    shares = [clients[n::WORKERS] for n in range(WORKERS)]
    processes = [
        fork.Process(target=worker, args=(url, pooler, shares[n], start_at, results, n))
        for n in range(WORKERS)
    ]
    for process in processes:
        process.start()
    answers = [results.get() for _ in processes]
    for process in processes:
        process.join()
    failures = [a for a in answers if isinstance(a, BaseException)]
    if failures:
        raise failures[0]
    tally = Tally()
    for index, done, seconds, latencies, left in answers:
        tally.completions += done
        tally.seconds = max(tally.seconds, seconds)
        tally.latencies += latencies
        for learners, available in zip(shares[index], left, strict=True):
            for learner, skills in zip(learners, available, strict=True):
                learner.available = skills
    return tally


def process_cpu_ms(pid: int | None) -> float:
    """CPU ms process `pid` has used so far (0 when unknown)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def learners_for(engine: Engine, prefix: str, clients: int) -> list[list[Learner]]:
    """LEARNERS learners, copies of TEMPLATES enrolled learners (template k has completed k
    skills: the clients' learners do not all hold the same XP at once, which would make them
    queue for the same XP histogram rows), dealt to `clients` clients."""
    factory = session_factory(engine)
    templates = [enrol(factory, u) for u in add_learners(engine, f"{prefix}tpl", TEMPLATES)]
    for k, template in enumerate(templates):
        for _ in range(k):
            complete_next(factory, template)
    learners = clone_learners(engine, templates, add_learners(engine, prefix, LEARNERS))
    engine.dispose()  # no connection of the parent's pool may be shared with a forked child
    return [learners[n::clients] for n in range(clients)]


@dataclass
class Measured:
    tallies: dict[tuple[int, str], Tally]
    audit: tuple[int, int, int, int]
    max_connections: str


def measure(url: str, engine: Engine, bouncer: PgBouncer) -> Measured:
    """Every path at every client count, the paths taking turns; then the XP audit."""
    through = bouncer.url(str(make_url(url).database))
    tallies: dict[tuple[int, str], Tally] = {}
    for count in CLIENTS:
        clients = {
            route.name: learners_for(engine, f"c{count}p{n}", count)
            for n, route in enumerate(ROUTES)
        }
        for _ in range(ROUNDS):
            for route in ROUTES:
                cpu_before = process_cpu_ms(bouncer.pid)
                done = run_round(
                    through if route.through_pgbouncer else url, route.pooler, clients[route.name]
                )
                tally = tallies.setdefault((count, route.name), Tally())
                tally.completions += done.completions
                tally.seconds += done.seconds
                tally.latencies += done.latencies
                tally.bouncer_cpu_ms += process_cpu_ms(bouncer.pid) - cpu_before
    with psycopg.connect(libpq_dsn(url)) as conn:
        audit = conn.execute(AUDIT_SQL).fetchone()
        limit = conn.execute("SHOW max_connections").fetchone()
    assert audit is not None
    assert limit is not None
    events_xp, profiles_xp, checked, wrong = (int(v) for v in audit)
    return Measured(tallies, (events_xp, profiles_xp, checked, wrong), str(limit[0]))


def report(measured: Measured, where: str, version: str) -> str:
    """The markdown section for RESULTS.md."""
    rows = []
    for count in CLIENTS:
        floor = measured.tallies[(count, ROUTES[0].name)]
        for route in ROUTES:
            t = measured.tallies[(count, route.name)]
            bouncer = f"{t.bouncer_cpu_ms / t.completions:.3f}" if route.through_pgbouncer else ""
            rows.append(
                f"| {count} | {route.name} | {t.completions:,} | {t.seconds:.1f} | {t.tps:,.0f} "
                f"| {percentile(t.latencies, 0.5):.2f} | {percentile(t.latencies, 0.95):.2f} "
                f"| {bouncer} | {t.tps / floor.tps:.2f}x |"
            )
    events_xp, profiles_xp, checked, wrong = measured.audit
    kept = events_xp == profiles_xp and wrong == 0
    table = "\n".join(rows)
    return f"""
## PgBouncer (issue 17): completions at 8 and 64 clients, direct and through PgBouncer

`python -m benchmarks.bench_pooling`, {today()}, on {where}; PgBouncer {version} (Debian's),
transaction mode, the `pgbouncer.ini` of docs/operations.md ({SERVER_CONNECTIONS} server
connections), the server's `max_connections` {measured.max_connections}.

The 1,000-skill tree and achievements of bench_progress. For each client count, {WORKERS} worker
processes (as `uvicorn --workers {WORKERS}`), each running clients / {WORKERS} threads; each
thread is a client with a connection of its own completing skills back to back for its own
learners ({LEARNERS} per path and client count, dealt round robin; copies of {TEMPLATES} enrolled
learners, the *k*-th having completed *k* skills, so that they do not all hold the same XP at
once and queue for the same rows of the XP histogram, as bench_progress's worst case does):
`progress.service.complete()` and a commit, as part 2 of bench_progress. The paths take turns,
{ROUNDS} rounds of {ROUND_SECONDS} s each; totals below. The clients reach PgBouncer over TCP on
127.0.0.1; direct clients and PgBouncer reach the server as DATABASE_URL says (the embedded
server: its Unix socket). Everything shares the machine's cores: the clients, PgBouncer (one
process) and the server.

| clients | path | completions | seconds | TPS | p50 ms | p95 ms | PgBouncer CPU ms | TPS / direct |
| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
{table}

**Every completion succeeded** (a failed one stops the benchmark). **Lost XP**:
{"none" if kept else "**XP LOST**"}: XP awarded (sum of `progress_events.xp_delta`) {events_xp:,},
XP held (sum of `user_profiles.total_xp`) {profiles_xp:,}; learners whose `total_xp` is not their
completed skills' XP plus their achievements' rewards: {wrong} of {checked}.
"""


def main() -> None:
    """Build the data, start PgBouncer, run every path, print the table, refresh RESULTS.md."""
    binary = pgbouncer_binary()
    if binary is None:  # `make bench` goes on with the others
        print("bench_pooling skipped: pgbouncer not installed (Debian: apt-get install pgbouncer)")
        return
    register_listeners()
    with throwaway_database("pooling") as url:
        engine = create_db_engine(url, "none")
        try:
            migrate.upgrade(engine)
            build_tree(engine)
            seed_achievements(engine)
            where = machine(url)
            with PgBouncer(url, pool_size=SERVER_CONNECTIONS) as bouncer:
                measured = measure(url, engine, bouncer)
        finally:
            engine.dispose()
    section = report(measured, where, pgbouncer_version(binary))
    print(section)
    write_results("bench_pooling", section)


if __name__ == "__main__":
    main()
