"""`skilltree db basebackup` and `skilltree db restore --to-time`: continuous archiving and
point-in-time recovery of the embedded server (operations/archive.py)."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import psycopg
import typer

from skilltree.config import Settings, get_settings
from skilltree.operations import archive as archives
from skilltree.operations import backup as backups
from skilltree.operations.backup_commands import _first_line, _progress
from skilltree.terminal import fail

NOT_EMBEDDED = (
    "DATABASE_URL is set: SkillTree archives only the WAL of the embedded server it runs; "
    "for a server of your own, use pgBackRest (docs/operations.md#pgbackrest)"
)


def _embedded_settings() -> Settings:
    settings = get_settings()
    if settings.database_url:
        raise fail(NOT_EMBEDDED, 2)
    return settings


def _embedded_server() -> backups.Database:
    """The embedded server's database (the server started on demand, its archiving as
    configured)."""
    from skilltree.db.session import database_url

    try:
        return backups.Database.from_url(database_url())
    except Exception as exc:  # the embedded server could not start
        raise fail(f"cannot start the embedded PostgreSQL server: {_first_line(exc)}", 2) from None


def basebackup_command() -> None:
    """Take a base backup of the embedded server (pg_basebackup) into
    SKILLTREE_DATA_DIR/archive/base, where its WAL is archived (EMBEDDED_ARCHIVING), then apply
    the retention (ARCHIVE_RETENTION_DAYS): from the backups kept, `skilltree db restore
    --to-time` can rebuild the database as it was at any moment since the oldest. Run it daily
    from cron. Exits 2 when DATABASE_URL is set, the server cannot be reached or does not
    archive yet."""
    settings = _embedded_settings()
    archive = archives.Archive.of(settings.skilltree_data_dir)
    source = _embedded_server()
    try:
        with _progress() as step:
            backup = archives.take_base_backup(source, archive, step)
            pruned = archives.prune(archive, settings.archive_retention_days, datetime.now(UTC))
    except backups.BackupError as exc:
        raise fail(exc.message, exc.code) from None
    except psycopg.Error as exc:
        raise fail(_first_line(exc), 1) from None
    kept = archives.base_backups(archive)
    typer.echo(f"{backup.path}: base backup finished at {backup.finished_at.isoformat()}")
    typer.echo(
        f"retention {settings.archive_retention_days} days: {len(kept)} base backups kept, "
        f"{len(pruned.backups)} deleted, {pruned.segments:,} WAL segments deleted"
    )
    typer.echo(f"restorable from {kept[0].finished_at.isoformat()} on")


def parse_time(value: str) -> datetime:
    """An ISO 8601 timestamp (`2026-12-07T04:15:00Z`, `2026-12-07 05:15:00+01:00`); one
    without a zone is UTC."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise fail(
            f"--to-time: {value!r} is not a timestamp such as 2026-12-07T04:15:00Z", 2
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def restore_to_time(moment: datetime) -> None:
    """`skilltree db restore --to-time`: the embedded server's databases as they were at
    `moment` (archive.restore_to_time), refused while another process uses the server."""
    from skilltree.db import embedded

    settings = _embedded_settings()
    data_dir = settings.skilltree_data_dir.expanduser().resolve()
    archive = archives.Archive.of(data_dir)
    try:
        archives.choose_base_backup(archive, moment)  # before starting anything
    except backups.BackupError as exc:
        raise fail(exc.message, exc.code) from None
    live = _embedded_server()
    users = [pid for pid in embedded.users(data_dir) if pid != os.getpid()]
    if users:
        raise fail(
            f"the embedded server is in use by processes {', '.join(map(str, users))} "
            "(skilltree serve, ...): stop them, then restore",
            2,
        )
    cluster = archives.Cluster(data_dir / "pgdata", embedded.binaries(), embedded.server_user())
    try:
        with _progress() as step:
            chosen = archives.restore_to_time(
                cluster,
                archive,
                moment,
                live,
                lambda: embedded.restart(data_dir),
                step,
                # The server's list of users and its log go on with the new directory.
                carry=embedded.KEPT_ACROSS_RESTORES,
            )
        restarted = backups.Database({**live.params, "host": embedded.restart(data_dir)}, None)
        with restarted.connect() as conn:
            row = conn.execute("SELECT timeline_id FROM pg_control_checkpoint()").fetchone()
    except backups.BackupError as exc:
        raise fail(exc.message, exc.code) from None
    except psycopg.Error as exc:
        raise fail(_first_line(exc), 1) from None
    typer.echo(
        f"restored to {moment.isoformat()} from base backup {chosen.name} and the archived "
        f"WAL; the server is on timeline {row[0] if row else '?'}"
    )
