"""Continuous archiving and point-in-time recovery of a server SkillTree runs itself (the
embedded one): `skilltree db basebackup` and `skilltree db restore --to-time`.

Under `<data dir>/archive/`:

- `wal/`: every WAL segment the server completes, copied there by its `archive_command`
  (`archive_command()`: never overwrites a segment already archived, unless the copy is the
  same bytes; fsyncs the copy before it takes the final name; any failure is a non-zero exit,
  which the server logs, counts in `pg_stat_archiver` and retries);
- `base/<UTC stamp>/`: base backups (`pg_basebackup`, plain format, with the WAL they need),
  each with a `skilltree-backup.json` written once it is complete.

A restore to a time takes the newest base backup that finished before that time, copies it into
a new data directory next to the live one, and runs a server there alone (its own socket, no TCP)
that replays the archived WAL up to the time (`recovery_target_time`) and promotes itself. Only
then is the live server stopped and the new directory swapped in; the old one is kept until the
server has started on the new one, and put back if it does not.

Retention (`ARCHIVE_RETENTION_DAYS`, applied after each base backup): the base backups that
finished within that many days, the newest one before them (so that any moment of the window
can be restored), and the WAL from the oldest of those on.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from skilltree.operations.backup import BackupError, Database, Step, client_program

ARCHIVE_DIR = "archive"
BACKUP_RECORD = "skilltree-backup.json"
RECOVERY_TIMEOUT_SECONDS = 600
ARCHIVED_TIMEOUT_SECONDS = 120
RECOVERY_PORT = 5432
"""The recovery's server listens on no TCP port: this only names its socket, in a directory of
its own."""
_SEGMENT = re.compile(r"^[0-9A-F]{24}")
_START_WAL = re.compile(r"^START WAL LOCATION: .* \(file ([0-9A-F]{24})\)$", re.MULTILINE)
_NOT_REACHED = "recovery ended before configured recovery target was reached"


@dataclass(frozen=True)
class Archive:
    """Where a server's WAL and base backups are kept."""

    root: Path

    @classmethod
    def of(cls, data_dir: Path) -> Archive:
        """The archive of the embedded server under `data_dir` (SKILLTREE_DATA_DIR)."""
        return cls(data_dir.expanduser().resolve() / ARCHIVE_DIR)

    @property
    def wal(self) -> Path:
        return self.root / "wal"

    @property
    def base(self) -> Path:
        return self.root / "base"

    def create(self, server_user: str | None) -> None:
        """Make the directories; `wal/` writable by the server's system user."""
        self.wal.mkdir(parents=True, exist_ok=True)
        self.base.mkdir(parents=True, exist_ok=True)
        if server_user is not None:
            shutil.chown(self.wal, server_user, server_user)


def archive_command(wal_dir: Path) -> str:
    """The server's archive_command (run by /bin/sh as the server's user; %p and %f are the
    server's): copy to a temporary name, fsync it, link it to its final name (a link never
    replaces an existing file), fsync the directory. A segment already there is accepted only
    when it is the same bytes (the server retrying after a crash), refused loudly otherwise."""
    directory = shlex.quote(str(wal_dir))
    return (
        f'dir={directory}; f="$dir/%f"; '
        'if [ -e "$f" ]; then cmp -s "%p" "$f" && exit 0; '
        'echo "skilltree archive: $f exists with other contents, not overwritten" >&2; exit 1; '
        "fi; "
        'cp "%p" "$f.partial" && sync "$f.partial" && ln "$f.partial" "$f" '
        '&& rm "$f.partial" && sync "$dir"'
    )


def restore_command(wal_dir: Path) -> str:
    """The restore_command of a recovery from `wal_dir` (a missing file is a non-zero exit,
    which ends the replay there)."""
    return f'cp {shlex.quote(str(wal_dir))}/"%f" "%p"'


def archiving_settings(archive: Archive) -> dict[str, str]:
    """The server settings that archive its WAL into `archive`."""
    return {"archive_mode": "on", "archive_command": archive_command(archive.wal)}


# -- base backups --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BaseBackup:
    path: Path
    started_at: datetime
    finished_at: datetime
    start_wal: str
    """The first WAL segment a restore of it needs."""

    @property
    def name(self) -> str:
        return self.path.name


def base_backups(archive: Archive) -> list[BaseBackup]:
    """The complete base backups (those with their record), oldest first."""
    found = []
    for path in sorted(archive.base.glob("*")) if archive.base.is_dir() else []:
        try:
            record: dict[str, Any] = json.loads((path / BACKUP_RECORD).read_text())
            found.append(
                BaseBackup(
                    path,
                    datetime.fromisoformat(record["started_at"]),
                    datetime.fromisoformat(record["finished_at"]),
                    str(record["start_wal"]),
                )
            )
        except (OSError, ValueError, KeyError):
            continue  # a backup under way, or one that failed
    return sorted(found, key=lambda backup: backup.finished_at)


def require_archiving(conn: psycopg.Connection[Any], archive: Archive) -> None:
    """BackupError (code 2) unless the server behind `conn` archives its WAL into `archive`."""
    row = conn.execute(
        "SELECT current_setting('archive_mode'), current_setting('archive_command')"
    ).fetchone()
    mode, command = (str(row[0]), str(row[1])) if row else ("off", "")
    if mode == "off" or command != archive_command(archive.wal):
        raise BackupError(
            f"the server does not archive its WAL into {archive.wal} yet (archive_mode={mode}): "
            "set EMBEDDED_ARCHIVING=true and restart SkillTree (every process), then try again"
        )


def take_base_backup(server: Database, archive: Archive, step: Step) -> BaseBackup:
    """A base backup of `server` into `archive` (the server must archive into it)."""
    with server.connect(autocommit=True) as conn:
        require_archiving(conn, archive)
        pg_basebackup = client_program("pg_basebackup", conn.info.server_version // 10000)
    archive.base.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    name = started.strftime("%Y%m%dT%H%M%S%fZ")
    partial = archive.base / f".{name}.partial"
    step("pg_basebackup: copying the data directory", 0, 1)
    try:
        done = subprocess.run(
            [
                pg_basebackup,
                "--pgdata",
                str(partial),
                "--format=plain",
                "--wal-method=stream",
                "--checkpoint=fast",
                "--no-password",
                f"--label=skilltree {name}",
                f"--dbname={server.conninfo()}",
            ],
            capture_output=True,
            text=True,
            env=server.env(),
        )
        if done.returncode != 0:
            lines = [line for line in done.stderr.splitlines() if line.strip()]
            raise BackupError(f"pg_basebackup failed: {(lines or ['no message'])[-1]}", 1)
        finished = datetime.now(UTC)
        label = (partial / "backup_label").read_text()
        start = _START_WAL.search(label)
        if start is None:
            raise BackupError(f"pg_basebackup wrote no start WAL location in {partial}", 1)
        record = {
            "started_at": started.isoformat(),
            "finished_at": finished.isoformat(),
            "start_wal": start.group(1),
        }
        (partial / BACKUP_RECORD).write_text(json.dumps(record, indent=2) + "\n")
        path = archive.base / name
        partial.rename(path)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    step("base backup taken", 1, 1)
    return BaseBackup(path, started, finished, start.group(1))


@dataclass(frozen=True)
class Pruned:
    backups: list[str]
    segments: int


def prune(archive: Archive, keep_days: int, now: datetime) -> Pruned:
    """Apply the retention: keep the base backups finished within `keep_days` of `now`, the
    newest one before them, and the WAL from the oldest kept on; delete the rest."""
    backups = base_backups(archive)
    if not backups:
        return Pruned([], 0)
    since = now - timedelta(days=keep_days)
    older = [backup for backup in backups if backup.finished_at < since]
    kept_from = older[-1] if older else backups[0]
    dropped = [backup for backup in backups if backup.finished_at < kept_from.finished_at]
    for backup in dropped:
        shutil.rmtree(backup.path)
    first = min((b.start_wal for b in backups if b not in dropped), key=lambda name: name[8:])
    segments = 0
    for path in archive.wal.iterdir() if archive.wal.is_dir() else []:
        # Timeline history files are tiny and every later recovery may need them: kept.
        if _SEGMENT.match(path.name) and not path.name.endswith(".history"):
            if path.name[8:24] < first[8:]:
                path.unlink()
                segments += 1
    return Pruned([backup.name for backup in dropped], segments)


# -- point-in-time recovery ----------------------------------------------------------------------


def archive_current_wal(conn: psycopg.Connection[Any], step: Step) -> None:
    """End the server's current WAL segment and wait until it is archived, so that the archive
    holds everything committed until now, and a commit after (recovery to a time stops at the
    first commit after it, and fails when it finds none)."""
    conn.execute("SELECT pg_current_xact_id()")  # a transaction of its own: a commit record
    row = conn.execute("SELECT pg_walfile_name(pg_switch_wal())").fetchone()
    segment = str(row[0]) if row else ""
    step(f"waiting for WAL segment {segment} to be archived", 0, 1)
    deadline = time.monotonic() + ARCHIVED_TIMEOUT_SECONDS
    while True:
        row = conn.execute(
            "SELECT last_archived_wal, last_failed_wal, "
            "last_failed_time > coalesce(last_archived_time, '-infinity') "
            "FROM pg_stat_archiver"
        ).fetchone()
        archived, failed, failing = row if row else (None, None, False)
        if archived and len(str(archived)) == len(segment) and str(archived) >= segment:
            return
        if failing and failed and str(failed)[:24] >= segment:
            raise BackupError(
                f"the server cannot archive WAL segment {failed}: its log says why", 1
            )
        if time.monotonic() > deadline:
            raise BackupError(
                f"WAL segment {segment} not archived after {ARCHIVED_TIMEOUT_SECONDS} s", 1
            )
        time.sleep(0.05)


@dataclass(frozen=True)
class Cluster:
    """A data directory, the programs that run it, and the system user they run as (None: this
    process's; PostgreSQL refuses to run as root)."""

    pgdata: Path
    bin: Path
    user: str | None

    def pg_ctl(self, *args: str, pgdata: Path | None = None) -> subprocess.CompletedProcess[str]:
        # Output to files, not pipes: a pipe would be held open by the server pg_ctl starts.
        with tempfile.TemporaryFile("w+") as out:
            done = subprocess.run(
                [str(self.bin / "pg_ctl"), "-D", str(pgdata or self.pgdata), *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                user=self.user,
                cwd="/",  # the server's user may not reach this process's directory
                timeout=RECOVERY_TIMEOUT_SECONDS,
            )
            out.seek(0)
            return subprocess.CompletedProcess(done.args, done.returncode, out.read(), "")

    def running(self, pgdata: Path | None = None) -> bool:
        return self.pg_ctl("status", pgdata=pgdata).returncode == 0

    def stop(self, pgdata: Path | None = None, mode: str = "fast") -> None:
        """Stop the server of `pgdata` (default: the cluster's) if it runs; `mode` as
        pg_ctl's (fast: a shutdown checkpoint; immediate: none, for a server thrown away)."""
        if self.running(pgdata):
            done = self.pg_ctl("-w", "-m", mode, "stop", pgdata=pgdata)
            if done.returncode != 0:
                raise BackupError(f"cannot stop the server: {done.stdout.strip()}", 1)


def choose_base_backup(archive: Archive, target: datetime) -> BaseBackup:
    """The newest base backup finished before `target`; BackupError (code 2) when none is."""
    backups = base_backups(archive)
    before = [backup for backup in backups if backup.finished_at <= target]
    if before:
        return before[-1]
    if not backups:
        raise BackupError(
            f"no base backup in {archive.base}: take one with `skilltree db basebackup`"
        )
    raise BackupError(
        f"no base backup finished before {target.isoformat()}: the oldest finished at "
        f"{backups[0].finished_at.isoformat()}"
    )


def recover(cluster: Cluster, archive: Archive, target: datetime, step: Step) -> Path:
    """A new data directory next to `cluster`'s, recovered up to `target` and promoted, its
    server stopped; BackupError (code 2) when no base backup precedes `target` or the archived
    WAL does not reach it."""
    chosen = choose_base_backup(archive, target)
    scratch = cluster.pgdata.with_name(cluster.pgdata.name + ".restoring")
    shutil.rmtree(scratch, ignore_errors=True)
    step(f"copying base backup {chosen.name}", 0, 3)
    # Not the lock files of sockets in the data directory (the embedded server's are there):
    # the server started on the copy would take them for another server's.
    shutil.copytree(
        chosen.path, scratch, ignore=shutil.ignore_patterns(BACKUP_RECORD, ".s.PGSQL.*")
    )
    (scratch / "recovery.signal").touch()
    sockets = Path(tempfile.mkdtemp(prefix="skilltree-restore-"))
    log = cluster.pgdata.with_name(cluster.pgdata.name + ".restoring.log")
    server: subprocess.Popen[bytes] | None = None
    try:
        _own(scratch, cluster.user, 0o700)
        _own(sockets, cluster.user, 0o700)
        step(f"replaying the archived WAL up to {target.isoformat()}", 1, 3)
        server = _start_recovery(cluster, archive, scratch, sockets, log, target)
        _wait_promoted(server, sockets, log, target)
        step("stopping the recovered server", 2, 3)
        _end(server, cluster, scratch)
    except BaseException:
        if server is not None:
            _end(server, cluster, scratch)
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(sockets, ignore_errors=True)
    log.unlink(missing_ok=True)
    return scratch


def _end(server: subprocess.Popen[bytes], cluster: Cluster, pgdata: Path) -> None:
    """Stop the recovery's server cleanly (a shutdown checkpoint), or kill it."""
    if server.poll() is None:
        try:
            cluster.stop(pgdata)
        except (BackupError, subprocess.SubprocessError):
            server.kill()
    server.wait()


def _own(path: Path, user: str | None, mode: int) -> None:
    path.chmod(mode)
    if user is not None:
        for root, dirs, files in os.walk(path):
            shutil.chown(root, user, user)
            for name in [*dirs, *files]:
                shutil.chown(os.path.join(root, name), user, user)


def _start_recovery(
    cluster: Cluster, archive: Archive, pgdata: Path, sockets: Path, log: Path, target: datetime
) -> subprocess.Popen[bytes]:
    settings = {
        "listen_addresses": "",
        "unix_socket_directories": str(sockets),
        "port": str(RECOVERY_PORT),
        "restore_command": restore_command(archive.wal),
        "recovery_target_time": target.isoformat(),
        "recovery_target_action": "promote",
    }
    options = [f"-c{name}={value}" for name, value in settings.items()]
    with log.open("w") as output:
        return subprocess.Popen(
            [str(cluster.bin / "postgres"), "-D", str(pgdata), *options],
            stdout=output,
            stderr=subprocess.STDOUT,
            user=cluster.user,
            cwd="/",
            start_new_session=True,
        )


def _wait_promoted(
    server: subprocess.Popen[bytes], sockets: Path, log: Path, target: datetime
) -> None:
    deadline = time.monotonic() + RECOVERY_TIMEOUT_SECONDS
    while True:
        if server.poll() is not None:
            raise _replay_failed(log.read_text(), target)
        if _promoted(sockets):
            return
        if time.monotonic() > deadline:
            raise BackupError(f"recovery did not finish in {RECOVERY_TIMEOUT_SECONDS} s", 1)
        time.sleep(0.05)


def _promoted(sockets: Path) -> bool:
    try:
        with psycopg.connect(
            host=str(sockets),
            port=RECOVERY_PORT,
            user="postgres",
            dbname="postgres",
            connect_timeout=2,
        ) as conn:
            row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
            return row is not None and row[0] is False
    except psycopg.OperationalError:
        return False  # not accepting connections yet


def _replay_failed(log: str, target: datetime) -> BackupError:
    if _NOT_REACHED in log:
        return BackupError(
            f"the archived WAL ends before {target.isoformat()}: segments are missing from the "
            "archive, or the time is later than its last archived commit"
        )
    fatal = [line for line in log.splitlines() if "FATAL" in line or "PANIC" in line]
    return BackupError(f"recovery failed: {(fatal or ['see the server log'])[-1].strip()}", 1)


def swap_in(
    cluster: Cluster, recovered: Path, start: Callable[[], object], carry: tuple[str, ...] = ()
) -> None:
    """Put `recovered` in the place of `cluster`'s data directory (its server stopped), with
    the files `carry` names taken from the old one, then `start` the server; the old directory
    is deleted once it has started, put back (and the server started on it) if it does not."""
    old = cluster.pgdata.with_name(cluster.pgdata.name + ".before-restore")
    if old.exists():
        raise BackupError(
            f"{old} is left from an earlier restore: move it back to {cluster.pgdata} or delete "
            "it, then try again"
        )
    cluster.stop()
    cluster.pgdata.rename(old)
    recovered.rename(cluster.pgdata)
    try:
        for name in carry:
            _carry(old / name, cluster.pgdata / name)
        start()
    except BaseException:
        cluster.stop()
        failed = cluster.pgdata.with_name(cluster.pgdata.name + ".failed-restore")
        shutil.rmtree(failed, ignore_errors=True)
        cluster.pgdata.rename(failed)
        old.rename(cluster.pgdata)
        start()
        raise
    shutil.rmtree(old)


def _carry(source: Path, target: Path) -> None:
    if target.is_dir():
        shutil.rmtree(target)
    else:
        target.unlink(missing_ok=True)
    if source.is_dir():
        shutil.copytree(source, target)
    elif source.exists():
        shutil.copy2(source, target)
    if source.exists():
        stat = source.stat()
        os.chown(target, stat.st_uid, stat.st_gid)


def restore_to_time(
    cluster: Cluster,
    archive: Archive,
    target: datetime,
    live: Database,
    start: Callable[[], object],
    step: Step,
    carry: tuple[str, ...] = (),
) -> BaseBackup:
    """Rebuild `cluster`'s databases as they were at `target`: the server behind `live` (the
    cluster's, running) archives its WAL up to now, a new data directory is recovered to
    `target` from the newest base backup before it, then swapped in and `start`ed (swap_in).
    BackupError (code 2) when no base backup precedes `target`, the time is not past, or the
    archived WAL does not reach it; the live server is untouched until the recovery succeeded."""
    chosen = choose_base_backup(archive, target)
    with live.connect(autocommit=True) as conn:
        require_archiving(conn, archive)
        now = conn.execute("SELECT now()").fetchone()
        if now is None or target >= now[0]:
            raise BackupError(f"{target.isoformat()} is not in the past (the server's clock)")
        archive_current_wal(conn, step)
    recovered = recover(cluster, archive, target, step)
    step("swapping the recovered data directory in", 3, 4)
    swap_in(cluster, recovered, start, carry)
    step("restored", 4, 4)
    return chosen
