"""Other endpoints while 32 bogus sign-ins run at once: the password hashes an API process
computes at once are bounded (PASSWORD_HASHING_CONCURRENCY), so a flood of sign-ins waits its
turn instead of taking the CPU, the thread pool and the connection pool from everyone else.

Run from the repository root: `python -m benchmarks.bench_logins`. Creates and drops its own
database on DATABASE_URL's server (or the embedded one), serves the app with uvicorn in a process
of its own for each configuration, and refreshes benchmarks/RESULTS.md.

For each configuration: the p50 of `GET /api/v1/trees` (anonymous) and `GET /api/v1/me` (signed
in) idle, then while LOGINS client threads each send bogus sign-ins (an unknown name, so argon2
verifies the dummy hash: the same cost as a wrong password) back to back, the two paths taking
turns. The throttle is turned off (LOGIN_FAILURES_PER_* very high) except in the last
configuration: all the bogus sign-ins come from 127.0.0.1, and a botnet would come from many
addresses.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx2
from sqlalchemy import Engine, insert

from benchmarks.common import (
    RawHttp,
    machine,
    percentile,
    start_server,
    terminating,
    throwaway_database,
    time_interleaved,
    today,
    write_results,
)
from skilltree.config import Settings
from skilltree.db import migrate
from skilltree.db.base import new_id
from skilltree.db.session import create_db_engine
from skilltree.listeners import register_listeners
from skilltree.models import SkillCategory, SkillTree
from skilltree.ports import free_port

LOGINS = 32
"""Client threads sending bogus sign-ins at once."""
RUNS, WARMUP = 200, 20
FLOODED_SECONDS = 60.0
"""At most this long timing under a flood (fewer than RUNS requests when the paths are slow)."""
TREES = 20
TARGET_RATIO = 2.0
"""Issue 12: other endpoints' p50 under the flood at most this many times their idle p50."""
NO_THROTTLE = {
    "LOGIN_FAILURES_PER_ACCOUNT": "1000000000",
    "LOGIN_FAILURES_PER_ADDRESS": "1000000000",
}
THROTTLE_ON: dict[str, str] = {}
"""The defaults: the flood's one address is held back after 50 failures."""
BOUNDED = Settings().password_hashing_concurrency
CONFIGURATIONS: dict[str, dict[str, str]] = {
    f"bounded: {BOUNDED} hash at once (the default here), throttle off": NO_THROTTLE,
    f"not bounded: {LOGINS} at once (as before), throttle off": NO_THROTTLE
    | {"PASSWORD_HASHING_CONCURRENCY": str(LOGINS)},
    "bounded, throttle on (defaults), timed once the flood's address is refused": THROTTLE_ON,
}
TREES_PATH, ME_PATH = "/api/v1/trees", "/api/v1/me"


def build_catalog(engine: Engine) -> None:
    """A category with TREES published trees, for the anonymous path to list."""
    category_id = new_id()
    with engine.begin() as conn:
        conn.execute(
            insert(SkillCategory), [{"id": category_id, "name": "Benchmarks", "slug": "bench"}]
        )
        conn.execute(
            insert(SkillTree),
            [
                {
                    "id": new_id(),
                    "category_id": category_id,
                    "name": f"Benchmark tree {n}",
                    "slug": f"benchmark-tree-{n}",
                    "tags": ["benchmark"],
                    "is_published": True,
                }
                for n in range(TREES)
            ],
        )


@dataclass
class Flood:
    """LOGINS threads sending bogus sign-ins until stopped; what they were answered."""

    port: int
    stop: threading.Event = field(default_factory=threading.Event)
    answers: list[tuple[float, float, int]] = field(default_factory=list)
    """(end, seconds, status) of each sign-in answered."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, n: int) -> None:
        with httpx2.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=120) as http:
            attempt = 0
            while not self.stop.is_set():
                attempt += 1
                body = {"username": f"nobody-{n}-{attempt}", "password": "not the password"}
                start = time.perf_counter()
                status = http.post("/api/v1/auth/login", json=body).status_code
                end = time.perf_counter()
                with self.lock:
                    self.answers.append((end, end - start, status))

    def answered_since(self, since: float) -> list[tuple[float, float, int]]:
        """The sign-ins answered since `since` (sent before it too: they may have queued)."""
        with self.lock:
            return [a for a in self.answers if a[0] >= since]


@contextmanager
def flooding(port: int, *, until_refused: bool) -> Iterator[Flood]:
    """LOGINS bogus sign-ins in flight from the start of the block to its end; the block starts
    at their first answer (the server is then busy hashing, the others queued or hashing) or,
    `until_refused`, at their first 429 (the throttle holds the flood's address back)."""
    flood = Flood(port)
    threads = [threading.Thread(target=flood.run, args=(n,)) for n in range(LOGINS)]
    for thread in threads:
        thread.start()

    def started() -> bool:
        with flood.lock:
            return any(status == 429 or not until_refused for _, _, status in flood.answers)

    try:
        deadline = time.monotonic() + 120
        while not started() and time.monotonic() < deadline:
            time.sleep(0.05)
        yield flood
    finally:
        flood.stop.set()
        for thread in threads:
            thread.join()


def time_until(
    calls: Mapping[str, Callable[[], None]], *, runs: int, seconds: float
) -> dict[str, list[float]]:
    """Milliseconds of each of `calls`, taking turns one request at a time, until each has run
    `runs` times or `seconds` have passed (without the bound, a flood that is not bounded would
    take many minutes of a shared machine)."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    deadline = time.perf_counter() + seconds
    while len(samples[next(iter(calls))]) < runs and time.perf_counter() < deadline:
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            samples[name].append((time.perf_counter() - start) * 1000)
    return samples


@dataclass(frozen=True)
class Measured:
    """One configuration's timings (ms) idle and under the flood, and the flood's answers."""

    idle: dict[str, list[float]]
    flooded: dict[str, list[float]]
    logins: list[tuple[float, float, int]]
    seconds: float


def measure(url: str, settings: Mapping[str, str]) -> Measured:
    """Serve the app with `settings` and time the two paths idle, then under the flood (from its
    first 429 on when the throttle is on)."""
    until_refused = settings is THROTTLE_ON
    port = free_port()
    with terminating(start_server(url, port, settings)):
        with httpx2.Client(base_url=f"http://127.0.0.1:{port}") as http:
            signed_up = http.post(
                "/api/v1/auth/register",
                json={
                    "email": f"timer-{port}@example.com",
                    "username": f"timer_{port}",
                    "password": "a quiet p50 please",
                },
            )
            signed_up.raise_for_status()
        headers = {"Authorization": f"Bearer {signed_up.json()['token']}"}
        raw = [RawHttp(port)]

        def read(path: str, headers: Mapping[str, str] | None = None) -> Callable[[], None]:
            def call() -> None:
                status, _ = raw[0].get(path, headers)
                assert status == 200, status

            return call

        calls = {"GET /trees": read(TREES_PATH), "GET /me": read(ME_PATH, headers)}
        idle = time_interleaved(calls, runs=RUNS // 2, warmup=WARMUP)
        raw[0].close()
        with flooding(port, until_refused=until_refused) as flood:
            # A new connection: the idle one may have passed uvicorn's keep-alive timeout.
            raw[0] = RawHttp(port)
            start = time.perf_counter()
            flooded = time_until(calls, runs=RUNS, seconds=FLOODED_SECONDS)
            seconds = time.perf_counter() - start
            logins = flood.answered_since(start)
            raw[0].close()
        # Idle again once the flood has drained: the machine is shared, and its load drifts.
        raw[0] = RawHttp(port)
        after = time_interleaved(calls, runs=RUNS // 2, warmup=WARMUP)
        raw[0].close()
    return Measured({name: idle[name] + after[name] for name in idle}, flooded, logins, seconds)


def report(results: dict[str, Measured], where: str) -> str:
    """The markdown section for RESULTS.md."""
    rows, verdicts = [], []
    for name, measured in results.items():
        for path in measured.idle:
            idle = percentile(measured.idle[path], 0.5)
            flooded = percentile(measured.flooded[path], 0.5)
            ratio = flooded / idle
            logins = measured.logins
            refused = sum(status == 429 for _, _, status in logins)
            waits = [seconds * 1000 for _, seconds, _ in logins]
            login_p50 = percentile(waits, 0.5) if waits else float("nan")
            rows.append(
                f"| {name} | {path} | {idle:.2f} | {flooded:.2f} | "
                f"{percentile(measured.flooded[path], 0.95):.2f} ({len(measured.flooded[path])}) | "
                f"{ratio:.2f}x | "
                f"{len(logins) / measured.seconds:.1f} ({refused} 429) | {login_p50:,.0f} |"
            )
            if name.startswith("bounded") and "throttle off" in name:
                verdicts.append(ratio <= TARGET_RATIO)
    verdict = "met" if all(verdicts) else "**not met**"
    header = (
        "| configuration | path | idle p50 ms | flooded p50 ms | flooded p95 ms (requests) "
        "| flooded / idle p50 | sign-ins/s answered | sign-in p50 ms |"
    )
    return f"""
## Sign-in floods (issue 12): other endpoints while {LOGINS} bogus sign-ins run at once

`python -m benchmarks.bench_logins`, {today()}, on {where}.

Each configuration is a uvicorn process of its own. The two paths are timed over {RUNS}
sequential requests each (raw keep-alive HTTP): idle (half before the flood and half after it
has drained, each after {WARMUP} warm-up requests, taking turns in blocks), then, one request
each in turn for at most {FLOODED_SECONDS:.0f} s, while {LOGINS} client threads send bogus
sign-ins back to back (an unknown name: argon2id verifies the dummy hash, as for a wrong
password; ~0.1-0.25 s of CPU each here). *Sign-ins/s* counts the sign-ins answered during the
flooded timing; their p50 includes the wait for a turn.

{header}
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |
{chr(10).join(rows)}

**Target.** Issue 12: other endpoints' p50 stays within {TARGET_RATIO:.0f}x of idle while {LOGINS}
bogus sign-ins run, bounded and without the throttle's help: {verdict}.

- *Bounded*: `PASSWORD_HASHING_CONCURRENCY` (default: half the CPUs, at least 1) turns to sign in
  or register, waited for on the event loop before the request takes a thread or a database
  connection (`accounts.endpoints.password_turn`), and hashed on threads at nice 10
  (`accounts.passwords.HASHING_NICENESS`). The flood queues; other requests find the thread
  pool, the connection pool and the CPU free first. Sign-ins get slower under a flood (they wait
  their turn): that is the price, and the throttle keeps one address from making it.
- *Not bounded*: every sign-in hashes at once, as before this change: each holds a thread and a
  pooled connection for its whole argon2 run, {LOGINS} of them on 2 cores.
- *Throttle on*: the defaults; all the flood comes from one address, so after 50 failures it is
  answered 429 at once, without a password being checked (timed from the first 429 on).
"""


def main() -> None:
    """Time every configuration, print the table and refresh RESULTS.md."""
    register_listeners()
    with throwaway_database("logins") as url:
        engine = create_db_engine(url)
        try:
            migrate.upgrade(engine)
            build_catalog(engine)
        finally:
            engine.dispose()
        where = machine(url)
        results = {}
        for name, settings in CONFIGURATIONS.items():
            print(f"measuring: {name}", flush=True)
            results[name] = measure(url, settings)
    section = report(results, where)
    print(section)
    write_results("bench_logins", section)


if __name__ == "__main__":
    main()
