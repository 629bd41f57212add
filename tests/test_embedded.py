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
