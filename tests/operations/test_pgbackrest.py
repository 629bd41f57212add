"""The pgBackRest configuration of docs/operations.md, run as it is: docs/pgbackrest-round-trip.sh
on a throwaway cluster of Debian's PostgreSQL (stanza-create, a full backup, a learner's progress
deleted, a restore with --type=time to the moment before, every row back). Without pgBackRest or
Debian's PostgreSQL programs it is skipped (failed under SKILLTREE_REQUIRE_SERVICES=1: .ci/run
installs pgbackrest)."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from skilltree.ports import free_port
from tests.services import service_missing

SCRIPT = Path(__file__).parents[2] / "docs" / "pgbackrest-round-trip.sh"
SUPPORTED = (17, 16, 15, 14, 13)
"""PostgreSQL versions Debian's pgBackRest (2.45 and later) supports, newest first."""


def _postgresql_programs() -> Path | None:
    for major in SUPPORTED:
        found = Path(f"/usr/lib/postgresql/{major}/bin")
        if (found / "initdb").is_file():
            return found
    return None


def _files_owner() -> str | None:
    """Who runs the script: this user unless root, else Debian's `postgres`."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres").pw_name
    except KeyError:
        return None


@pytest.mark.slow
def test_the_documented_pgbackrest_round_trip_restores_every_row() -> None:
    if shutil.which("pgbackrest") is None:
        service_missing("pgBackRest", "not installed (Debian: apt-get install pgbackrest)")
    programs = _postgresql_programs()
    if programs is None:
        service_missing("pgBackRest", "no Debian PostgreSQL 13-17 server programs for its cluster")
    if os.geteuid() == 0 and _files_owner() is None:
        service_missing("pgBackRest", "run as root, and no `postgres` user to run the cluster as")
    work = Path(tempfile.mkdtemp(prefix="skilltree-pgbackrest-"))
    work.chmod(0o777)
    try:
        done = subprocess.run(
            ["sh", str(SCRIPT), str(work / "run"), str(free_port()), str(programs)],
            capture_output=True,
            text=True,
            user=_files_owner(),
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        lines = done.stdout.splitlines()
        assert lines[-1] == "restored"
        before = next(line for line in lines if line.startswith("== before the delete: "))
        after = next(line for line in lines if line.startswith("== after the restore: "))
        rows_and_md5 = before.split(": ")[1].split(" (")[0]
        assert rows_and_md5.startswith("5000 ")
        assert after.split(": ")[1].split(" (")[0] == rows_and_md5
    finally:
        subprocess.run(
            [str(programs / "pg_ctl"), "-D", str(work / "run" / "pgdata"), "-m", "immediate",
             "stop"],
            capture_output=True,
            user=_files_owner(),
        )  # fmt: skip
        shutil.rmtree(work, ignore_errors=True)
