"""What every benchmark needs: a throwaway database, timings, the machine, RESULTS.md."""

from __future__ import annotations

import json
import os
import platform
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import psycopg
from psycopg import sql
from sqlalchemy import make_url, text
from sqlalchemy.orm import Session

from skilltree.accounts.service import token_digest
from skilltree.db.session import sqlalchemy_url
from skilltree.models import SkillCategory, SkillTree, User, UserProfile, UserRole, UserSession

RESULTS = Path(__file__).with_name("RESULTS.md")


def server_url() -> str:
    """The server to benchmark on: DATABASE_URL's, or the embedded one (started on demand)."""
    configured = os.environ.get("DATABASE_URL")
    if configured:
        return sqlalchemy_url(configured)
    from skilltree.db.embedded import embedded_url

    data_dir = Path(os.environ.get("SKILLTREE_DATA_DIR", ".skilltree"))
    return embedded_url(data_dir, "postgres")


def libpq_dsn(url: str) -> str:
    """`url` (SQLAlchemy form) as a libpq connection string for plain psycopg."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def throwaway_database(purpose: str) -> Iterator[str]:
    """A new empty database on the server for this run, dropped afterwards; yields its URL."""
    server = server_url()
    prefix = make_url(server).database if os.environ.get("DATABASE_URL") else "skilltree"
    name = f"{prefix}_bench_{purpose}_{os.getpid()}"
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with psycopg.connect(libpq_dsn(server), autocommit=True) as conn:
        conn.execute(drop)
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(libpq_dsn(server), autocommit=True) as conn:
            conn.execute(drop)


def time_calls(call: Callable[[], object], *, runs: int, warmup: int) -> list[float]:
    """Milliseconds taken by each of `runs` calls, after `warmup` untimed ones."""
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def time_interleaved(
    calls: Mapping[str, Callable[[], object]], *, runs: int, warmup: int, rounds: int = 10
) -> dict[str, list[float]]:
    """`time_calls` for each of `calls`, taking turns in `rounds` blocks, so that load changes on
    the machine during the run hit every path alike."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for call in calls.values():
        time_calls(call, runs=0, warmup=warmup)
    for _ in range(rounds):
        for name, call in calls.items():
            samples[name] += time_calls(call, runs=runs // rounds, warmup=0)
    return samples


def percentile(samples: list[float], fraction: float) -> float:
    """The `fraction` quantile of `samples` (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def host() -> str:
    """CPU model, cores, current load and Python version, on one line."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        cpu = found.group(1).strip() if found else cpu
    load = os.getloadavg()[0]
    return (
        f"{cpu}, {os.cpu_count()} cores (load average {load:.2f} at start), "
        f"Python {platform.python_version()}"
    )


def machine(url: str) -> str:
    """`host()` with the PostgreSQL version, on one line."""
    with psycopg.connect(libpq_dsn(url)) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    version = row[0] if row else "unknown"
    cpu, python = host().rsplit(", Python ", 1)
    return f"{cpu}, PostgreSQL {version}, Python {python}"


def today() -> str:
    """Today's date (UTC), for result headers."""
    return datetime.now(UTC).date().isoformat()


def write_results(section: str, markdown: str) -> None:
    """Replace this benchmark's section of RESULTS.md (between its markers), or append it."""
    start, end = f"<!-- {section}:start -->", f"<!-- {section}:end -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    text = RESULTS.read_text("utf-8") if RESULTS.exists() else "# Benchmark results\n"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        text = before + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text, "utf-8")


def start_server(
    url: str, port: int, settings: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """uvicorn serving the app on `port` (its own process, with `settings` as environment
    variables), once /health answers."""
    server = subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", "skilltree.app:create_app", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
        ],
        env=os.environ | dict(settings or {}) | {"DATABASE_URL": url},
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                return server
        except httpx2.TransportError:
            time.sleep(0.1)
    server.terminate()
    raise RuntimeError("uvicorn did not come up within 30 s")


@contextmanager
def terminating(process: subprocess.Popen[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    """`process`, terminated (and waited for) when the block ends."""
    try:
        yield process
    finally:
        process.terminate()
        process.wait(10)


class RawHttp:
    """A minimal HTTP/1.1 keep-alive client on one socket: next to nothing of the client's own
    CPU in the timing (httpx or a test client costs a millisecond or more a request here, taken
    from the same 2 cores as the server). For GET requests answered with a Content-Length."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def get(self, path: str, headers: Mapping[str, str] | None = None) -> tuple[int, bytes]:
        """Status and body of GET `path` (already URL-encoded), with `headers`."""
        extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.split(":", 1) for line in lines[1:])
        length = int(next(v for k, v in headers.items() if k.lower() == "content-length"))
        while len(body) < length:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            body += chunk
        return int(lines[0].split()[1]), body

    def close(self) -> None:
        """Close the connection."""
        self.sock.close()


class RawPost:
    """POSTs of JSON over one keep-alive socket (little client CPU in the timing)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def post(
        self, path: str, body: object, headers: Mapping[str, str], method: str = "POST"
    ) -> tuple[int, Any]:
        """Status and parsed JSON of POST (or `method`) `path` with `body`."""
        data = json.dumps(body).encode() if method == "POST" else b""
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.sock.sendall(
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n{extra}\r\n".encode()
            + data
        )
        received = b""
        while b"\r\n\r\n" not in received:
            received += self._recv()
        head, _, answer = received.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        fields = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:])}
        length = int(fields["content-length"])
        while len(answer) < length:
            answer += self._recv()
        return int(lines[0].split()[1]), json.loads(answer)

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        return chunk


def timed(call: Any) -> tuple[float, Any]:
    """Milliseconds `call()` took, and what it returned."""
    start = time.perf_counter()
    result = call()
    return (time.perf_counter() - start) * 1000, result


def published_tree(session: Session, name: str, slug: str) -> tuple[User, SkillTree]:
    """A published tree `name` (`slug`) in a category of the same name, by a new author
    `author`: the author and the tree (flushed)."""
    author = User(
        email="author@example.com", username="author", password_hash="-", role=UserRole.AUTHOR
    )
    category = SkillCategory(name=name, slug=slug, sort_order=0)
    session.add_all([author, category])
    session.flush()
    tree = SkillTree(
        category_id=category.id, name=name, slug=slug, is_published=True, created_by=author.id
    )
    session.add(tree)
    session.flush()
    return author, tree


def signed_in_user(
    session: Session, name: str, role: UserRole = UserRole.LEARNER
) -> tuple[str, str]:
    """A new user `name` (e-mail `name@example.com`) with a profile and a session valid for 6
    hours: their id and bearer token."""
    user = User(email=f"{name}@example.com", username=name, password_hash="-", role=role)
    session.add(user)
    session.flush()
    token = secrets.token_urlsafe(16)
    session.add(UserProfile(user_id=user.id))
    session.add(
        UserSession(
            user_id=user.id,
            token_hash=token_digest(token),
            expires_at=datetime.now(UTC) + timedelta(hours=6),
        )
    )
    return user.id, token


def add_learners(session: Session, count: int) -> None:
    """`count` learners without a session, ids `learner1` to `learner<count>` (one statement:
    a benchmark's crowd, whose rows are written straight)."""
    session.execute(
        text(
            "INSERT INTO users (id, email, username, password_hash)"
            " SELECT 'learner' || n, 'l' || n || '@example.com', 'l' || n, '-'"
            " FROM generate_series(1, :n) n"
        ),
        {"n": count},
    )
