"""The embedded server's list of users forgets processes that died without leaving it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from skilltree.db.embedded import _forget_dead_users


def test_dead_processes_are_forgotten(tmp_path: Path) -> None:
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                              capture_output=True, text=True)  # fmt: skip
    dead = int(finished.stdout)
    users = tmp_path / ".handle_pids.json"
    users.write_text(json.dumps([dead, os.getpid()]))
    _forget_dead_users(tmp_path)
    assert json.loads(users.read_text()) == [os.getpid()]


def test_a_missing_or_broken_list_is_left_alone(tmp_path: Path) -> None:
    _forget_dead_users(tmp_path)
    (tmp_path / ".handle_pids.json").write_text("not json")
    _forget_dead_users(tmp_path)
    assert (tmp_path / ".handle_pids.json").read_text() == "not json"


STATEMENT_STATISTICS_PROBE = """
import sys
from pathlib import Path

import psycopg

from skilltree.db.embedded import embedded_url, server_socket_dir

data_dir = Path(sys.argv[1])
embedded_url(data_dir)
with psycopg.connect(f"host={server_socket_dir(data_dir)} user=postgres dbname=skilltree") as conn:
    print(conn.execute("SELECT current_setting('shared_preload_libraries')").fetchone()[0])
    print(conn.execute("SELECT extname FROM pg_extension ORDER BY 1").fetchall())
    print(conn.execute("SELECT count(*) > 0 FROM pg_stat_statements").fetchone()[0])
"""


def test_a_new_embedded_server_records_statement_statistics(tmp_path: Path) -> None:
    # A server of its own, in a process of its own: its only user, so the first start restarts
    # it with pg_stat_statements loaded (what `skilltree db doctor` reads).
    probe = subprocess.run(
        [sys.executable, "-c", STATEMENT_STATISTICS_PROBE, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert probe.returncode == 0, probe.stderr
    libraries, extensions, recorded = probe.stdout.splitlines()
    assert "pg_stat_statements" in libraries
    assert "('pg_stat_statements',)" in extensions
    assert recorded == "True"
