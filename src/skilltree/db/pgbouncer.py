"""PgBouncer in front of a PostgreSQL server: the `pgbouncer.ini` SkillTree is tested behind
(shown in docs/operations.md#pgbouncer), and a PgBouncer process of its own on a free port,
which the tests and the benchmarks start in front of the server they use.

Transaction pooling: each transaction of a client runs on whichever server connection is free,
so SkillTree connects to it with DATABASE_POOLER=pgbouncer (no server-side prepared statements,
db/session.py) and keeps every setting local to its transaction (db/rls.py).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from sqlalchemy import make_url

from skilltree.db.session import sqlalchemy_url
from skilltree.ports import free_port

DEBIAN_BINARY = "/usr/sbin/pgbouncer"
"""Where Debian's `pgbouncer` package installs it (outside a normal user's PATH)."""

STARTUP_TIMEOUT = 20.0
"""Seconds to wait for PgBouncer to accept connections before giving up."""


class PgBouncerUnavailable(RuntimeError):
    """PgBouncer is not installed, or did not start (the message says which and why)."""


def pgbouncer_binary() -> str | None:
    """The pgbouncer executable: on PATH, or where Debian puts it; None when not installed."""
    found = shutil.which("pgbouncer")
    if found:
        return found
    return DEBIAN_BINARY if os.access(DEBIAN_BINARY, os.X_OK) else None


def pgbouncer_version(binary: str) -> str:
    """`binary`'s version, such as `1.18.0`."""
    first = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, check=True
    ).stdout.splitlines()[0]
    return first.split()[-1]  # "PgBouncer 1.18.0"


def pgbouncer_ini(
    *,
    server_host: str,
    server_port: int,
    listen_port: int,
    auth_file: str,
    pool_size: int = 20,
    max_client_conn: int = 1000,
) -> str:
    """A `pgbouncer.ini` in transaction mode for every database of the server at
    `server_host:server_port` (a host name, an address or a Unix socket directory), listening on
    127.0.0.1:`listen_port` only, trusting the users of `auth_file`."""
    return f"""\
[databases]
; Every database of the server, under its own name.
* = host={server_host} port={server_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen_port}
unix_socket_dir =
; Production: auth_type = scram-sha-256, with the users' SCRAM secrets in auth_file.
auth_type = trust
auth_file = {auth_file}
; A server connection per transaction: SkillTree sets nothing outside one
; (DATABASE_POOLER=pgbouncer turns off psycopg's server-side prepared statements).
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = {max_client_conn}
"""


class PgBouncer:
    """A PgBouncer process of our own in transaction mode, in front of the server of
    `server_url` (any of its databases), listening on a free port of 127.0.0.1; `url(database)`
    reaches a database through it. Start it with `with PgBouncer(...) as bouncer:` (stopped at
    the block's end), or `start()` and `stop()`."""

    def __init__(self, server_url: str, *, pool_size: int = 20) -> None:
        self.server_url = sqlalchemy_url(server_url)
        self.pool_size = pool_size
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._directory: tempfile.TemporaryDirectory[str] | None = None

    def url(self, database: str) -> str:
        """A SQLAlchemy URL for `database`, through this PgBouncer."""
        parsed = make_url(self.server_url)
        return parsed.set(
            host="127.0.0.1",
            port=self.port,
            database=database,
            query={k: v for k, v in parsed.query.items() if k != "host"},
        ).render_as_string(hide_password=False)

    @property
    def pid(self) -> int | None:
        """The process id while it runs (its CPU time is in /proc/<pid>/stat)."""
        return self._process.pid if self._process is not None else None

    def start(self) -> PgBouncer:
        """Write its ini, start it, and return once it accepts connections."""
        binary = pgbouncer_binary()
        if binary is None:
            raise PgBouncerUnavailable(
                "pgbouncer not installed (Debian: apt-get install pgbouncer)"
            )
        server = make_url(self.server_url)
        host = server.host or server.query.get("host") or "localhost"
        if isinstance(host, tuple):
            host = host[0]
        self._directory = tempfile.TemporaryDirectory(prefix="skilltree-pgbouncer-")
        directory = Path(self._directory.name)
        directory.chmod(0o755)  # read by the user PgBouncer runs as (below)
        auth_file = directory / "userlist.txt"
        auth_file.write_text(f'"{server.username or "postgres"}" "{server.password or ""}"\n')
        self.port = free_port()
        ini = directory / "pgbouncer.ini"
        ini.write_text(
            pgbouncer_ini(
                server_host=host,
                server_port=server.port or 5432,
                listen_port=self.port,
                auth_file=str(auth_file),
                pool_size=self.pool_size,
            )
        )
        for path in (auth_file, ini):
            path.chmod(0o644)
        command = [binary, *_run_as(host), str(ini)]
        log = (directory / "pgbouncer.log").open("wb")
        with log:
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        self._wait_until_listening(directory / "pgbouncer.log")
        return self

    def stop(self) -> None:
        """Stop the process (its clients are disconnected) and remove its files."""
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._directory is not None:
            self._directory.cleanup()
            self._directory = None

    def __enter__(self) -> PgBouncer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _wait_until_listening(self, log: Path) -> None:
        assert self._process is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if self._process.poll() is not None:
                said = log.read_text(errors="replace").strip()
                self.stop()
                raise PgBouncerUnavailable(f"pgbouncer did not start: {said}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise PgBouncerUnavailable("pgbouncer did not listen in time") from None
                time.sleep(0.01)  # the next look, not a guess at how long it takes


def _run_as(server_host: str) -> list[str]:
    """PgBouncer refuses to run as root: as root, run it as the owner of the server's socket
    directory (the embedded server's user, who alone may enter it), or as `nobody`."""
    if os.geteuid() != 0:
        return []
    owner = "nobody"
    if server_host.startswith("/"):
        import pwd

        owner = pwd.getpwuid(Path(server_host).stat().st_uid).pw_name
    return ["-u", owner] if owner != "root" else ["-u", "nobody"]
