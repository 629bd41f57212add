"""`skilltree serve --workers N` as it runs in production: real processes on a free port, sharing
nothing but PostgreSQL; each request's worker named by the access log (its pid on every line)."""

from __future__ import annotations

import http.client
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from typer.testing import CliRunner

from skilltree.cli import app
from skilltree.config import Settings
from skilltree.models import Skill, UserRole
from skilltree.ports import free_port
from skilltree.serving import CONNECTIONS_PER_WORKER, start_warnings
from tests.committed import committed_rows
from tests.factories import add_dependency, make_category, make_person, make_skill, make_tree
from tests.locks import TIMEOUT, Writer, wait_until_waiting_for

STARTUP_TIMEOUT = 180.0
"""Seconds for every worker to start: each imports the whole app, slow on a busy machine."""
ACCESS_LINE = re.compile(r'\[(\d+)\] \S+ "(\w+) (\S+) HTTP/1.1" (\d+)')
"""An access-log line: the worker's pid, the method, the target and the status."""


class Served:
    """`skilltree serve` in a process of its own; its output (log and access log) read line by
    line as it comes, by a thread, so that waiting for a line has a deadline."""

    def __init__(self, command: str, workers: int, settings: dict[str, str | None]) -> None:
        """`skilltree <command> --workers <workers>` on a free port, with the environment's
        variables changed by `settings` (None: unset)."""
        self.port = free_port()
        environment = {k: v for k, v in os.environ.items() if k not in settings}
        environment |= {k: v for k, v in settings.items() if v is not None}
        executable = Path(sys.executable).with_name("skilltree")
        self.process = subprocess.Popen(
            [executable, command, "--workers", str(workers), "--port", str(self.port)],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group, the workers with it
        )
        self.output: list[str] = []
        self.connections: list[http.client.HTTPConnection] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._probes = count(1)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def close(self) -> None:
        """Close the connections, stop the server if it still runs (SIGTERM), kill whatever of
        it is left (workers too), and close its output."""
        for connection in self.connections:
            connection.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # its session's group: it and its workers
        except ProcessLookupError:
            pass  # all gone
        self.process.wait(TIMEOUT)
        self._reader.join(TIMEOUT)
        assert self.process.stdout is not None
        self.process.stdout.close()

    def wait_for(self, pattern: str, timeout: float = TIMEOUT) -> re.Match[str]:
        """The next line of output that matches `pattern` (fails at the end of the output, or
        after `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"no line matched {pattern!r} in time:\n{''.join(self.output)}")
            if line is None:
                pytest.fail(f"the output ended before {pattern!r}:\n{''.join(self.output)}")
            self.output.append(line)
            found = re.search(pattern, line)
            if found:
                return found

    def rest_of_output(self) -> list[str]:
        """The lines not read yet, up to the end (once the process has exited)."""
        rest = []
        while (line := self._lines.get(timeout=TIMEOUT)) is not None:
            rest.append(line)
        self.output += rest
        return rest

    def connect(self) -> http.client.HTTPConnection:
        """A new keep-alive connection: one worker accepts it and answers all its requests
        (closed with the others when the block of `serving` ends)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        self.connections.append(connection)
        return connection

    def call(
        self,
        connection: http.client.HTTPConnection,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any, int]:
        """Status, JSON body and worker pid of one request on `connection` (the request is
        marked with a query parameter of its own, and its access-log line read)."""
        probe = next(self._probes)
        target = f"{path}{'&' if '?' in path else '?'}probe={probe}"
        payload = json.dumps(body).encode() if body is not None else None
        sent = (headers or {}) | ({"Content-Type": "application/json"} if payload else {})
        connection.request(method, target, body=payload, headers=sent)
        response = connection.getresponse()
        answer = json.loads(response.read() or b"null")
        line = self.wait_for(rf"\[(\d+)\] \S+ \"{method} {re.escape(target)} ")
        return response.status, answer, int(line.group(1))

    def connection_per_worker(self, workers: int) -> dict[int, http.client.HTTPConnection]:
        """A kept-alive connection to each worker, by its pid: new connections until every
        worker has accepted one (the kernel hands each to whichever worker accepts first)."""
        pinned: dict[int, http.client.HTTPConnection] = {}
        for _ in range(200):
            connection = self.connect()
            _, _, pid = self.call(connection, "GET", "/health")
            if pid in pinned:
                connection.close()
            else:
                pinned[pid] = connection
            if len(pinned) == workers:
                return pinned
        pytest.fail(f"200 connections reached only the workers {sorted(pinned)}")

    def wait_until_listening(self) -> None:
        """Return once a connection is accepted: a worker says its app has started just before
        it starts listening (uvicorn), and the port is refused until the first one has."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT).close()
                return
            except ConnectionRefusedError:
                assert time.monotonic() < deadline, "the port never accepted a connection"
            time.sleep(0.002)  # the next poll, not a guess at how long the start takes

    def wait_until_refused(self) -> None:
        """Return once a new connection is refused (nothing listens on the port any more)."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT).close()
            except ConnectionRefusedError:
                return
            assert time.monotonic() < deadline, "the port still accepts connections"
            time.sleep(0.002)  # the next poll, not a guess at how long the shutdown takes


@contextmanager
def serving(engine: Engine, *, workers: int, access_log: bool = True) -> Iterator[Served]:
    """`skilltree serve --workers <workers>` on the test database, once every worker has
    started; killed at the end if it is still running."""
    url = engine.url.render_as_string(hide_password=False)
    settings = {"DATABASE_URL": url, "ACCESS_LOG": str(access_log).lower(), "REDIS_URL": None}
    with started(Served("serve", workers, settings), workers) as served:
        yield served


@contextmanager
def started(served: Served, workers: int) -> Iterator[Served]:
    """`served` once its `workers` have started; closed at the end."""
    try:
        for _ in range(workers):
            served.wait_for("Application startup complete", STARTUP_TIMEOUT)
        served.wait_until_listening()
        yield served
    finally:
        served.close()


def test_every_worker_serves_the_new_version_of_a_tree_changed_through_another(
    engine: Engine,
) -> None:
    with committed_rows(engine) as session:
        admin = make_person(session, UserRole.ADMIN)
        tree = make_tree(session, make_category(session))
        variables = make_skill(session, tree, name="Variables")
        loops = make_skill(session, tree, name="Loops")
        add_dependency(session, loops, variables)
        session.commit()
        document_path = f"/api/v1/trees/{tree.slug}"
        prerequisites_path = f"/api/v1/skills/{loops.id}/prerequisites"

        with serving(engine, workers=2) as served:
            workers = served.connection_per_worker(2)

            def read_on_each_worker() -> list[tuple[set[str], list[str]]]:
                seen = []
                for pid, connection in workers.items():
                    status, document, served_by = served.call(connection, "GET", document_path)
                    assert (status, served_by) == (200, pid)
                    status, prerequisites, served_by = served.call(
                        connection, "GET", prerequisites_path
                    )
                    assert (status, served_by) == (200, pid)
                    seen.append(
                        (
                            {s["name"] for s in document["skills"]},
                            [p["name"] for p in prerequisites],
                        )
                    )
                return seen

            # Each worker keeps its copies of the tree's document and graph (read twice: the
            # second read is served from them).
            before = ({"Variables", "Loops"}, ["Variables"])
            assert read_on_each_worker() == [before, before]
            assert read_on_each_worker() == [before, before]

            changing = next(iter(workers.values()))
            status, skill, _ = served.call(
                changing,
                "PATCH",
                f"/api/v1/skills/{variables.id}",
                {"name": "Variables and types"},
                admin.headers,
            )
            assert (status, skill["name"]) == (200, "Variables and types")

            after = ({"Variables and types", "Loops"}, ["Variables and types"])
            assert read_on_each_worker() == [after, after]


@pytest.mark.parametrize(("workers", "access_log"), [(1, False), (2, True)])
def test_sigterm_refuses_new_connections_and_lets_the_request_in_flight_finish(
    engine: Engine, workers: int, access_log: bool
) -> None:
    with committed_rows(engine) as session:
        admin = make_person(session, UserRole.ADMIN)
        skill = make_skill(session, make_tree(session, make_category(session)), name="Slow")
        session.commit()

        with serving(engine, workers=workers, access_log=access_log) as served:
            holder = Writer(
                engine,
                lambda s: s.execute(select(Skill).where(Skill.id == skill.id).with_for_update()),
                hold=True,
            ).start()
            assert holder.worked.wait(TIMEOUT)
            answered: dict[str, Any] = {}

            def rename() -> None:
                connection = served.connect()
                body = json.dumps({"name": "Finished"}).encode()
                headers = admin.headers | {"Content-Type": "application/json"}
                connection.request("PATCH", f"/api/v1/skills/{skill.id}", body, headers)
                response = connection.getresponse()
                answered["status"], answered["body"] = response.status, json.loads(response.read())

            in_flight = threading.Thread(target=rename)
            in_flight.start()
            wait_until_waiting_for(engine, holder.pid)  # the request waits for the skill's row

            served.process.send_signal(signal.SIGTERM)
            served.wait_until_refused()
            assert in_flight.is_alive()

            holder.finish()
            in_flight.join(TIMEOUT)
            assert answered["status"] == 200, answered
            assert answered["body"]["name"] == "Finished"
            assert served.process.wait(TIMEOUT) == 0
            logged = [m for line in served.rest_of_output() if (m := ACCESS_LINE.search(line))]
            renamed = [m for m in logged if m.group(2) == "PATCH" and m.group(4) == "200"]
            # The access log is off by default; when on, its last lines are written at exit.
            assert len(renamed) == (1 if access_log else 0)


def test_workers_stop_when_their_supervisor_is_killed(engine: Engine) -> None:
    with serving(engine, workers=2) as served:
        served.connection_per_worker(2)
        served.process.kill()  # SIGKILL: the supervisor cannot ask its workers to stop
        assert served.process.wait(TIMEOUT) == -signal.SIGKILL
        # Orphaned workers would go on listening on the port (and a new start would fail).
        served.wait_until_refused()


def test_workers_are_bounded_on_the_command_line() -> None:
    for refused in ("0", "257"):
        result = CliRunner().invoke(app, ["serve", "--workers", refused])
        assert result.exit_code == 2
        assert "--workers" in result.output


def test_start_warns_when_the_workers_may_open_more_connections_than_the_server_accepts(
    engine: Engine,
) -> None:
    with_redis = Settings(redis_url="redis://127.0.0.1:6379")
    with engine.connect() as conn:
        limit = conn.execute(
            text(
                "SELECT current_setting('max_connections')::int"
                " - current_setting('superuser_reserved_connections')::int"
            )
        ).scalar_one()
    fitting = limit // CONNECTIONS_PER_WORKER
    assert start_warnings(with_redis, engine, fitting) == []
    [warning] = start_warnings(with_redis, engine, fitting + 1)
    assert warning.startswith(
        f"{fitting + 1} workers may open {(fitting + 1) * CONNECTIONS_PER_WORKER} database"
        f" connections ({CONNECTIONS_PER_WORKER} each), more than the server accepts"
    )


def test_start_warns_that_without_redis_each_worker_counts_failed_sign_ins_alone(
    engine: Engine,
) -> None:
    without_redis = Settings(redis_url=None)
    assert start_warnings(without_redis, engine, 1) == []
    [warning] = start_warnings(without_redis, engine, 2)
    assert warning.startswith("without REDIS_URL each of the 2 workers counts failed sign-ins")


@pytest.mark.slow
def test_the_embedded_server_is_started_once_by_the_supervisor(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = {"DATABASE_URL": None, "REDIS_URL": None, "ACCESS_LOG": "true"}
    settings["SKILLTREE_DATA_DIR"] = str(data)
    with started(Served("run", 2, settings), 2) as served:
        # Its one user is the supervisor: the workers connect to it, they did not start it.
        users = json.loads((data / "pgdata" / ".handle_pids.json").read_text())
        assert users == [served.process.pid]
        for connection in served.connection_per_worker(2).values():
            status, trees, _ = served.call(connection, "GET", "/api/v1/trees")
            assert status == 200
            assert trees  # the demo, loaded by `run`
        served.process.send_signal(signal.SIGTERM)
        assert served.process.wait(TIMEOUT) == 0
        # It stopped with its one user.
        assert not (data / "pgdata" / "postmaster.pid").exists()
