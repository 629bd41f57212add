"""A streaming replica of our own: `pg_basebackup -R` of a running server into a temporary
directory, and a second postmaster on it on a free port of 127.0.0.1, which the read-replica
tests (and anyone trying DATABASE_REPLICA_URL by hand) start in front of a primary.

The replica runs the primary's own major version's programs (`bin`), as the system user given
(PostgreSQL refuses root; the embedded server's user when run as root). It waits by polling:
until the postmaster accepts connections in recovery, and `wait_for_replay` until it has
replayed a position of the primary's. `stop` stops the postmaster at once and removes the
directory, whatever state `start` reached.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import psycopg

from skilltree.ports import free_port

TEST_REPLICA_NAME = "skilltree-test-replica"
"""The replica's `cluster_name`, which its WAL receiver gives the primary as its
`application_name`: the name `pg_stat_replication`, `skilltree db doctor` and GET /metrics show
(tests that expect no replica of the server under test leave it out)."""
TEST_REPLICATION_NAMES = frozenset({TEST_REPLICA_NAME, "pg_basebackup"})
"""What the read-replica tests stream from the server under test under: the replica, and
pg_basebackup while it copies (its WAL stream is a replication connection too)."""
STARTUP_TIMEOUT = 120.0
"""Seconds the base backup and the replica's start may take together."""


class StandbyUnavailable(RuntimeError):
    """The base backup or the replica's start failed (the message says what the programs said)."""


class StreamingReplica:
    """A streaming replica of the server `primary` reaches (libpq keywords: host, port, user;
    the user may open replication connections), started with `start()` or `with`."""

    def __init__(
        self,
        primary: dict[str, str],
        bin: Path,
        user: str | None = None,
        name: str = TEST_REPLICA_NAME,
    ) -> None:
        self.primary = primary
        self.bin = bin
        self.user = user
        self.name = name
        self.port = 0
        self.directory: Path | None = None

    @property
    def pgdata(self) -> Path:
        """The replica's data directory."""
        assert self.directory is not None
        return self.directory / "pgdata"

    def conninfo(self, dbname: str) -> str:
        """A libpq connection string for `dbname` on the replica, as the primary's user."""
        user = self.primary.get("user", "postgres")
        return f"host=127.0.0.1 port={self.port} user={user} dbname={dbname}"

    def url(self, dbname: str) -> str:
        """A SQLAlchemy URL for `dbname` on the replica."""
        user = self.primary.get("user", "postgres")
        return f"postgresql+psycopg://{user}@127.0.0.1:{self.port}/{dbname}"

    def start(self) -> StreamingReplica:
        """Copy the primary (`pg_basebackup -R`), start the replica, and return once it accepts
        connections in recovery; StandbyUnavailable (everything removed) when it cannot."""
        self.directory = Path(tempfile.mkdtemp(prefix="skilltree-replica-"))
        try:
            self.directory.chmod(0o755)  # the server's user reaches its directories through it
            if self.user is not None:
                shutil.chown(self.directory, self.user, self.user)
            self._run(
                "pg_basebackup",
                "-D",
                str(self.pgdata),
                "-R",  # standby.signal and primary_conninfo: it streams from the primary
                "--wal-method=stream",
                "--checkpoint=fast",
                *_libpq_options(self.primary),
            )
            self.port = free_port()
            options = (
                f"-p {self.port} -c listen_addresses=127.0.0.1 "
                f"-c unix_socket_directories={self.directory} "
                f"-c cluster_name={self.name} "
                "-c hot_standby=on -c archive_mode=off -c wal_receiver_status_interval=1s"
            )
            log = self.directory / "replica.log"
            self._run(
                "pg_ctl", "-D", str(self.pgdata), "-w", "-l", str(log), "-o", options, "start"
            )
            self._wait_in_recovery()
        except BaseException:
            self.stop()
            raise
        return self

    def wait_for_replay(self, position: str, timeout: float = STARTUP_TIMEOUT) -> None:
        """Return once the replica has replayed the primary's WAL up to `position` (an LSN such
        as `0/3000060`, from `pg_current_wal_lsn()`); StandbyUnavailable past `timeout`."""
        deadline = time.monotonic() + timeout
        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
            while True:
                row = conn.execute(
                    "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (position,)
                ).fetchone()
                if row is not None and row[0]:
                    return
                if time.monotonic() > deadline:
                    raise StandbyUnavailable(f"the replica did not replay {position} in time")
                time.sleep(0.01)  # the next look, not a guess at how long it takes

    def stop(self) -> None:
        """Stop the postmaster at once (it is thrown away) and remove its directory."""
        if self.directory is None:
            return
        if (self.pgdata / "postmaster.pid").exists():
            self._pg_ctl_quietly("-D", str(self.pgdata), "-w", "-m", "immediate", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)
        self.directory = None

    def __enter__(self) -> StreamingReplica:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _wait_in_recovery(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            try:
                with psycopg.connect(self.conninfo("postgres"), connect_timeout=5) as conn:
                    row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
                if row is not None and row[0]:
                    return
                raise StandbyUnavailable("the copy is not in recovery: it would not follow")
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise StandbyUnavailable(f"the replica did not start: {exc}") from None
                time.sleep(0.01)  # the next look, not a guess at how long it takes

    def _run(self, program: str, *args: str) -> None:
        done = self._program(program, *args)
        if done.returncode != 0:
            said = done.stdout.strip().splitlines()
            log = self.directory / "replica.log" if self.directory else None
            if log is not None and log.exists():
                said += log.read_text(errors="replace").strip().splitlines()[-5:]
            raise StandbyUnavailable(f"{program} failed: " + " / ".join(said[-6:]))

    def _pg_ctl_quietly(self, *args: str) -> None:
        self._program("pg_ctl", *args)

    def _program(self, program: str, *args: str) -> subprocess.CompletedProcess[str]:
        # Output to a file, not a pipe: a pipe would be held open by the server pg_ctl starts.
        with tempfile.TemporaryFile("w+") as out:
            done = subprocess.run(
                [str(self.bin / program), *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                user=self.user,
                cwd="/",  # the server's user may not reach this process's directory
                timeout=STARTUP_TIMEOUT,
            )
            out.seek(0)
            return subprocess.CompletedProcess(done.args, done.returncode, out.read(), "")


def _libpq_options(primary: dict[str, str]) -> list[str]:
    options = []
    for key, flag in (("host", "-h"), ("port", "-p"), ("user", "-U")):
        if primary.get(key):
            options += [flag, primary[key]]
    return options


def server_binaries(conn: psycopg.Connection[Any]) -> Path | None:
    """The programs of the major version the server behind `conn` runs, on this machine:
    Debian's /usr/lib/postgresql/N/bin, else `pg_config --bindir` when it is that version;
    None when neither is."""
    row = conn.execute("SELECT current_setting('server_version_num')::int / 10000").fetchone()
    major = int(row[0]) if row else 0
    debian = Path(f"/usr/lib/postgresql/{major}/bin")
    if (debian / "pg_basebackup").exists() and (debian / "postgres").exists():
        return debian
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    found = subprocess.run([pg_config, "--bindir", "--version"], capture_output=True, text=True)
    lines = found.stdout.split("\n")
    if found.returncode != 0 or len(lines) < 2:
        return None
    bindir, version = Path(lines[0].strip()), lines[1].split()
    if len(version) > 1 and version[1].split(".")[0] == str(major):
        return bindir
    return None
