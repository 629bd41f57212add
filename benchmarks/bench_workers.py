"""Throughput of `skilltree serve` with one worker and with the default (one per core), and what
the access log costs, at CLIENTS concurrent clients.

Run from the repository root: `python -m benchmarks.bench_workers`. Creates and drops its own
database on DATABASE_URL's server (or the embedded one), starts every configuration as a server
of its own (the real command, no Redis), and refreshes benchmarks/RESULTS.md.

The configurations take turns in ROUNDS short slices of SLICE_SECONDS each, so that the load of
a shared machine drifting during the run hits them alike. In each slice CLIENTS threads send
requests back to back on keep-alive connections (RawHttp: next to no client CPU), so that every
request waits for the one before it on its connection: requests per second and the latency of
each are counted.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_tree_document import SLUG, build_tree
from benchmarks.common import (
    RawHttp,
    machine,
    percentile,
    throwaway_database,
    today,
    write_results,
)
from skilltree.config import available_cores
from skilltree.db import migrate
from skilltree.db.session import create_db_engine
from skilltree.ports import free_port

CLIENTS = 8
ROUNDS, SLICE_SECONDS = 6, 4.0
TARGET_RATIO = 1.3
"""Default workers against one, anonymous tree reads: at least this many times the requests per
second (on 2 cores shared with the clients and PostgreSQL, not 2x)."""
DEFAULT_WORKERS = available_cores()
TREE_PATH = f"/api/v1/trees/{SLUG}"
SMALL_PATH = "/api/v1/categories"
HEADER = (
    "| configuration | tree req/s | vs 1 worker | p50 ms | p99 ms | CPU ms/req "
    "| small req/s | vs 1 worker | p50 ms | p99 ms | CPU ms/req | RSS MiB per worker |\n"
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
)


@dataclass(frozen=True)
class Configuration:
    """One way to serve: the command's arguments and environment."""

    workers: int
    access_log: str
    """"off", "on" (ours: a thread writes) or "uvicorn" (uvicorn's own handler, on the loop)."""

    @property
    def name(self) -> str:
        """How RESULTS.md names it."""
        log = {
            "off": "access log off",
            "on": "ACCESS_LOG=true",
            "uvicorn": "uvicorn's access log",
        }
        return f"{self.workers} worker{'s' if self.workers > 1 else ''}, {log[self.access_log]}"


CONFIGURATIONS = [
    Configuration(1, "off"),
    Configuration(DEFAULT_WORKERS, "off"),
    Configuration(1, "on"),
    Configuration(1, "uvicorn"),
    Configuration(DEFAULT_WORKERS, "on"),
]


@contextmanager
def serving(url: str, configuration: Configuration) -> Iterator[tuple[int, list[int]]]:
    """The server of `configuration` on a free port once every worker has started (the access
    log goes to /dev/null): its port and the pids of the processes that serve."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    access_log = "true" if configuration.access_log == "on" else "false"
    environment |= {"DATABASE_URL": url, "ACCESS_LOG": access_log}
    if configuration.access_log == "uvicorn":
        command = [
            sys.executable, "-m", "uvicorn", "skilltree.serving:worker_app", "--factory",
            "--port", str(port), "--log-level", "info",
        ]  # fmt: skip
    else:
        command = [
            str(Path(sys.executable).with_name("skilltree")), "serve",
            "--workers", str(configuration.workers), "--port", str(port),
        ]  # fmt: skip
    server = subprocess.Popen(
        command,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert server.stderr is not None
    pids = []
    for line in server.stderr:
        if "Started server process" in line:
            pids.append(int(line.rsplit("[", 1)[1].split("]")[0]))
        if "Application startup complete" in line and len(pids) == configuration.workers:
            break
    else:
        raise RuntimeError(f"{configuration.name}: the server ended before it started")
    drain = threading.Thread(target=lambda: [None for _ in server.stderr or ()], daemon=True)
    drain.start()
    try:
        yield port, pids
    finally:
        server.terminate()
        server.wait(60)
        drain.join(10)
        server.stderr.close()


class Reader(RawHttp):
    """RawHttp that reads each body into one reusable buffer and keeps only its length: the
    clients share the 2 cores with the server, so they should spend as little as they can."""

    def __init__(self, port: int) -> None:
        super().__init__(port)
        self._buffer = memoryview(bytearray(1 << 20))

    def status_and_size(self, path: str) -> tuple[int, int]:
        """Status and body length of GET `path`."""
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = int(head.lower().split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
        left = length - len(body)
        while left > 0:
            got = self.sock.recv_into(self._buffer, min(left, len(self._buffer)))
            if not got:
                raise ConnectionError("the server closed the connection")
            left -= got
        return status, length


def load(port: int, path: str, seconds: float) -> list[float]:
    """CLIENTS connections sending GET `path` back to back for `seconds`: each request's ms."""
    latencies: list[list[float]] = [[] for _ in range(CLIENTS)]
    start = threading.Barrier(CLIENTS)

    def client(mine: list[float]) -> None:
        http = Reader(port)
        try:
            start.wait()
            deadline = time.perf_counter() + seconds
            while (began := time.perf_counter()) < deadline:
                status, _ = http.status_and_size(path)
                assert status == 200, status
                mine.append((time.perf_counter() - began) * 1000)
        finally:
            http.close()

    threads = [threading.Thread(target=client, args=(mine,)) for mine in latencies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [ms for mine in latencies for ms in mine]


def cpu_seconds(pids: list[int]) -> float:
    """The CPU time (user and system) processes `pids` have used so far."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """The resident memory of process `pid` in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Measured:
    """Per configuration and path: each request's ms, and the seconds they were sent over."""

    samples: dict[tuple[str, str], list[float]]
    seconds: dict[tuple[str, str], float]
    cpu: dict[tuple[str, str], float]
    """CPU seconds the serving processes used meanwhile."""
    rss: dict[str, list[float]]

    def per_second(self, name: str, path: str) -> float:
        """Requests answered per second."""
        return len(self.samples[name, path]) / self.seconds[name, path]

    def cpu_ms(self, name: str, path: str) -> float:
        """Server CPU milliseconds per request."""
        return self.cpu[name, path] * 1000 / len(self.samples[name, path])


def measure(url: str) -> Measured:
    """Every configuration serving at once, taking turns in slices, on both paths."""
    measured = Measured({}, {}, {}, {})
    with ExitStack() as stack:
        servers: dict[str, tuple[int, list[int]]] = {}
        for configuration in CONFIGURATIONS:
            servers[configuration.name] = stack.enter_context(serving(url, configuration))
        for port, _ in servers.values():  # every worker builds its copy of the tree
            load(port, TREE_PATH, 1.0)
        for _ in range(ROUNDS):
            for name, (port, pids) in servers.items():
                for path in (TREE_PATH, SMALL_PATH):
                    began, cpu = time.perf_counter(), cpu_seconds(pids)
                    samples = load(port, path, SLICE_SECONDS)
                    key = (name, path)
                    measured.samples[key] = measured.samples.get(key, []) + samples
                    took = time.perf_counter() - began
                    measured.seconds[key] = measured.seconds.get(key, 0.0) + took
                    used = cpu_seconds(pids) - cpu
                    measured.cpu[key] = measured.cpu.get(key, 0.0) + used
        measured.rss = {name: [rss_mb(pid) for pid in pids] for name, (_, pids) in servers.items()}
    return measured


def report(measured: Measured, where: str) -> str:
    """The markdown section for RESULTS.md."""
    one = CONFIGURATIONS[0].name
    rows = []
    for configuration in CONFIGURATIONS:
        name = configuration.name
        cells = []
        for path in (TREE_PATH, SMALL_PATH):
            samples = measured.samples[name, path]
            rate = measured.per_second(name, path)
            cells.append(
                f"{rate:,.0f} | {rate / measured.per_second(one, path):.2f}x | "
                f"{percentile(samples, 0.5):.1f} | {percentile(samples, 0.99):.1f} | "
                f"{measured.cpu_ms(name, path):.2f}"
            )
        rss = ", ".join(f"{mb:.0f}" for mb in measured.rss[name])
        rows.append(f"| {name} | {' | '.join(cells)} | {rss} |")
    default = CONFIGURATIONS[1].name
    ratio = measured.per_second(default, TREE_PATH) / measured.per_second(one, TREE_PATH)
    verdict = "met" if ratio >= TARGET_RATIO else "**not met**"
    return f"""
## Workers (issue 16): throughput with one worker and with one per core

`python -m benchmarks.bench_workers`, {today()}, on {where}.

Each configuration is `skilltree serve` (the real command; no Redis) on the same database, all
started before timing; they take turns in {ROUNDS} rounds of {SLICE_SECONDS:.0f} s per path, so
that the load of the shared machine hits them alike. In each slice {CLIENTS} clients (threads of
one process, raw keep-alive HTTP) send requests back to back. The tree is the 1,000-skill tree
of `bench_tree_document` (anonymous, served from each worker's copy); the small path is
`GET {SMALL_PATH}` (a few hundred bytes), where the access log's share of a request is largest.
*uvicorn's access log* is uvicorn's own handler, which formats and writes each line on the event
loop (not taken); `ACCESS_LOG=true` writes from a thread. *CPU ms/req* is the CPU time the
serving processes used during the slices, per request answered: unlike requests per second, it
does not depend on how much of the machine other work left free. RSS is each serving process's
resident memory at the end.

{HEADER}
{chr(10).join(rows)}

**Target.** The default workers ({DEFAULT_WORKERS}) serve at least {TARGET_RATIO}x the anonymous
tree reads per second of one worker: {verdict} ({ratio:.2f}x).
"""


def main() -> None:
    """Build the tree, measure every configuration, print the table and refresh RESULTS.md."""
    with throwaway_database("workers") as url:
        engine = create_db_engine(url)
        try:
            migrate.upgrade(engine)
            build_tree(engine)
            where = machine(url)
        finally:
            engine.dispose()
        measured = measure(url)
    section = report(measured, where)
    print(section)
    write_results("bench_workers", section)


if __name__ == "__main__":
    main()
