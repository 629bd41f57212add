"""`skilltree db backup` and `skilltree db restore`: logical backups proven to restore
(operations/backup.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import psycopg
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from skilltree.operations import backup as backups
from skilltree.terminal import fail


def _configured() -> backups.Database:
    """The configured database (DATABASE_URL, or the embedded server started on demand)."""
    from skilltree.db.session import database_url

    try:
        return backups.Database.from_url(database_url())
    except Exception as exc:  # the embedded server could not start
        raise fail(f"cannot start the embedded PostgreSQL server: {_first_line(exc)}", 2) from None


@contextmanager
def _progress() -> Iterator[backups.Step]:
    """A progress bar on stderr, gone once done; none when stderr is not a terminal (cron's
    mail stays the result lines)."""
    console = Console(stderr=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task("connecting", total=None)

        def step(description: str, done: int, total: int) -> None:
            progress.update(task, description=description, completed=done, total=total)

        yield step


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _report(differences: list[str], where: str) -> None:
    for line in differences:
        typer.echo(line)
    if differences:
        raise fail(f"{where} differs from the backup's manifest ({len(differences)} differences)")
    typer.echo(f"{where} matches the backup's manifest: every table's rows and checksum")


def backup_command(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="The dump to write (default: skilltree-DATABASE-TIMESTAMP.dump here); its "
            "manifest goes next to it as FILE.manifest.json. With --verify: the backup to verify.",
            dir_okay=False,
        ),
    ] = None,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="Write nothing: restore FILE into a scratch database on the same server, "
            "compare it with its manifest, drop the scratch database.",
        ),
    ] = False,
) -> None:
    """Back up the configured database with pg_dump (custom format) and write a manifest next to
    it: the schema revision and, per table, its row count and a checksum of its rows, read from
    the same snapshot as the dump. Exits 2 when the database cannot be reached or no suitable
    pg_dump is installed; with --verify, 1 when the restored copy differs."""
    source = _configured()
    try:
        if verify:
            if file is None:
                raise fail("--verify needs the backup FILE to verify", 2)
            with _progress() as step:
                differences = backups.verify_backup(file, source, step)
            _report(differences, f"{file} restored into a scratch database")
            return
        if file is None:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            file = Path(f"skilltree-{source.name}-{stamp}.dump")
        with _progress() as step:
            manifest = backups.backup(source, file, step)
    except backups.BackupError as exc:
        raise fail(exc.message, exc.code) from None
    except psycopg.Error as exc:  # a statement failed: no privilege to read a table, say
        raise fail(_first_line(exc), 1) from None
    tables = manifest["tables"]
    rows = sum(table["rows"] for table in tables.values())
    typer.echo(
        f"{file}: {manifest['dump']['bytes']:,} bytes, {len(tables)} tables, {rows:,} rows, "
        f"revision {manifest['revision'] or 'none (not migrated)'}"
    )
    typer.echo(f"{backups.manifest_path(file)}: the manifest")


def restore_command(
    file: Annotated[
        Path | None,
        typer.Argument(help="The backup (its manifest next to it).", dir_okay=False),
    ] = None,
    into: Annotated[
        str | None,
        typer.Option(
            "--into",
            help="Where to restore FILE: a database URL, or a database name on the configured "
            "server. Created when absent; refused unless empty.",
        ),
    ] = None,
    to_time: Annotated[
        str | None,
        typer.Option(
            "--to-time",
            metavar="TIMESTAMP",
            help="Instead of FILE: rebuild the embedded server's databases as they were at "
            "TIMESTAMP (ISO 8601, UTC unless it says otherwise, e.g. 2026-12-07T04:15:00Z) "
            "from the newest base backup before it and the archived WAL "
            "(`skilltree db basebackup`). Stop every other SkillTree process first.",
        ),
    ] = None,
) -> None:
    """Restore a backup of `skilltree db backup` into an empty database (--into), then check
    it against the manifest (revision, every table's row count and checksum), printing each
    difference; or, with --to-time, rebuild the embedded server as it was at a moment. Exits 1
    when something differs, 2 when the database cannot be reached, is not empty, no suitable
    pg_restore is installed, or no base backup or archived WAL covers the time."""
    if to_time is not None:
        if file is not None or into is not None:
            raise fail("--to-time restores the embedded server in place: no FILE, no --into", 2)
        from skilltree.operations.archive_commands import parse_time, restore_to_time

        restore_to_time(parse_time(to_time))
        return
    if file is None or into is None:
        raise fail("give the backup FILE and --into (or --to-time TIMESTAMP)", 2)
    _restore_file(file, into)


def _restore_file(file: Path, into: str) -> None:
    from skilltree.db.session import sqlalchemy_url

    if "://" in into:
        target = backups.Database.from_url(sqlalchemy_url(into))
        maintenance = target.on("postgres")
    else:
        maintenance = _configured()
        target = maintenance.on(into)
    try:
        with _progress() as step:
            differences = backups.restore(file, target, maintenance, step)
    except backups.BackupError as exc:
        raise fail(exc.message, exc.code) from None
    except psycopg.Error as exc:  # a statement failed: no privilege to read a table, say
        raise fail(_first_line(exc), 1) from None
    _report(differences, f"{target.describe()}")
