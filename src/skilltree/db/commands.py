"""`skilltree db ...`: migrate, inspect, reset and seed the database; write its live schema and
new migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import make_url
from sqlalchemy.exc import DBAPIError

from skilltree.config import Settings, get_settings
from skilltree.db import live_schema
from skilltree.operations.archive_commands import basebackup_command
from skilltree.operations.backup_commands import backup_command, restore_command
from skilltree.operations.commands import doctor_command
from skilltree.terminal import connect, fail

db_app = typer.Typer(help="Migrate, inspect, reset and seed the database.", no_args_is_help=True)
db_app.command("doctor")(doctor_command)
db_app.command("backup")(backup_command)
db_app.command("restore")(restore_command)
db_app.command("basebackup")(basebackup_command)


@db_app.command()
def upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    from skilltree.db import migrate

    engine = connect()
    migrate.upgrade(engine, revision)
    current = migrate.current_revision(engine)
    typer.echo(f"database at revision {current}")
    if current == migrate.head_revision():
        # Trees changed by no tree writer since 0035 (made before it): their ranks for "what
        # next" (graph.ranks), so that it never reads their whole graph.
        # Likewise their graphs as the first request of a tree version reads them (graph.snapshots;
        # made before 0047, or changed by plain SQL since).
        from skilltree.db.session import unit_of_work
        from skilltree.graph.ranks import rank_unranked
        from skilltree.graph.snapshots import store_missing

        with unit_of_work(engine) as session:
            ranked = rank_unranked(session)
            stored = store_missing(session)
        if ranked:
            typer.echo(f"ranked {ranked} tree{'s' if ranked != 1 else ''} for what next")
        if stored:
            typer.echo(f"stored the graph of {stored} tree{'s' if stored != 1 else ''}")


@db_app.command()
def downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, or `base`.")] = "-1",
) -> None:
    """Revert migrations down to REVISION (default: one step back)."""
    from skilltree.db import migrate

    engine = connect()
    migrate.downgrade(engine, revision)
    typer.echo(f"database at revision {migrate.current_revision(engine) or 'base (empty)'}")


@db_app.command()
def status() -> None:
    """Show the database's revision against the latest one this version ships."""
    from skilltree.db import migrate

    engine = connect()
    current, head = migrate.current_revision(engine), migrate.head_revision()
    typer.echo(f"current: {current or 'base (empty)'}")
    typer.echo(f"head:    {head}")
    typer.echo("up to date" if current == head else "behind: run `skilltree db upgrade`")


def is_disposable(url: str, embedded: bool) -> bool:
    """Whether a reset may go ahead without --force: the embedded server or a test database."""
    return embedded or "test" in (make_url(url).database or "")


@db_app.command()
def reset(
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Allow resetting a database that is not disposable.")
    ] = False,
) -> None:
    """Drop every SkillTree table and migrate again from empty: ALL DATA IS LOST."""
    from skilltree.db import migrate
    from skilltree.db.session import describe_url

    engine = connect()
    where = describe_url(str(engine.url))
    if not force and not is_disposable(str(engine.url), get_settings().database_url is None):
        raise fail(
            f"refusing to reset {where}: it is neither the embedded server nor a database whose "
            "name contains 'test' (use --force if you really mean it)"
        )
    if not yes:
        typer.confirm(f"Erase all SkillTree data in {where}?", abort=True)
    migrate.downgrade(engine, "base")
    migrate.upgrade(engine)
    typer.echo(f"reset {where}: migrated to {migrate.current_revision(engine)}")


@db_app.command()
def seed(
    demo: Annotated[bool, typer.Option("--demo", help="Also load the larger demo data.")] = False,
) -> None:
    """Load the spec's seed data (and with --demo the demo trees and learners); idempotent."""
    from skilltree.db.session import unit_of_work
    from skilltree.seed import load_demo, load_spec_seed

    engine = connect()
    with unit_of_work(engine) as session:
        load_spec_seed(session)
        if demo:
            load_demo(session, show_progress=True)
    typer.echo("seed data loaded" + (" with the demo" if demo else ""))


@db_app.command()
def housekeeping(
    keep_days: Annotated[
        int,
        typer.Option(
            "--keep-idempotency-days",
            min=1,
            help="Keep the answers to Idempotency-Key requests this many days.",
        ),
    ] = 7,
    keep_deliveries_days: Annotated[
        int,
        typer.Option(
            "--keep-deliveries-days",
            min=1,
            help="Keep integrations' accepted webhook deliveries this many days (replays of "
            "older ones are refused as stale anyway).",
        ),
    ] = 7,
) -> None:
    """Routine upkeep, safe to run at any time (daily from cron): forget old Idempotency-Key
    answers and integrations' old deliveries, fold the XP histogram's pending changes and drop
    its empty rows, and apply ARCHIVE_RETENTION_DAYS to the embedded server's archive of base
    backups and WAL when there is one (as `db basebackup` does)."""
    from datetime import UTC, datetime, timedelta

    from skilltree.config import get_settings
    from skilltree.db.session import unit_of_work
    from skilltree.gamification.repository import compact_xp_histogram
    from skilltree.idempotency import forget_keys
    from skilltree.integrations.repository import forget_deliveries
    from skilltree.operations import archive, jobs

    engine = connect()
    now = datetime.now(UTC)
    with jobs.recorded(engine, jobs.HOUSEKEEPING):
        with unit_of_work(engine) as session:
            forgotten = forget_keys(session, now - timedelta(days=keep_days))
        with unit_of_work(engine) as session:
            deliveries = forget_deliveries(session, now - timedelta(days=keep_deliveries_days))
        with unit_of_work(engine) as session:
            folded, dropped = compact_xp_histogram(session)
        settings = get_settings()
        archived = archive.Archive.of(settings.skilltree_data_dir)
        pruned = None
        if archived.base.is_dir():
            pruned = archive.prune(archived, settings.archive_retention_days, now)
    typer.echo(f"idempotency keys older than {keep_days} days deleted: {forgotten:,}")
    typer.echo(
        f"integration deliveries older than {keep_deliveries_days} days deleted: {deliveries:,}"
    )
    typer.echo(f"XP histogram: {folded:,} pending changes folded, {dropped:,} empty rows dropped")
    if pruned is not None:
        typer.echo(
            f"archive retention {settings.archive_retention_days} days: {len(pruned.backups)} base"
            f" backups deleted, {pruned.segments:,} WAL segments deleted"
        )


@db_app.command("dump-schema")
def dump_schema(
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 naming what differs.")
    ] = False,
    directory: Annotated[
        Path, typer.Option(help="Where the files go.", file_okay=False)
    ] = live_schema.SCHEMA_DIR,
) -> None:
    """Write the live schema's SQL files (src/skilltree/db/schema/, one per domain) from a
    scratch database migrated to head: run it after adding a migration (`make schema`)."""
    default = Settings.model_fields["text_search_config"].default
    if get_settings().text_search_config != default:
        raise fail(
            f"the live schema is the one migrations install with TEXT_SEARCH_CONFIG={default} "
            "(its search triggers name it): unset TEXT_SEARCH_CONFIG and run this again"
        )
    try:
        files = live_schema.dump_migrated(connect())
    except live_schema.LiveSchemaError as exc:
        raise fail(str(exc)) from None
    except DBAPIError as exc:  # no CREATEDB, say
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise fail(f"cannot build the scratch database at head: {reason}") from None
    if check:
        differences = live_schema.differences(files, live_schema.committed(directory))
        for line in differences:
            typer.echo(line)
        if differences:
            raise fail("the live schema's files differ from the migrations: run `make schema`")
        typer.echo(f"{_shown(directory)}: up to date")
        return
    changed = live_schema.write(files, directory)
    typer.echo(
        f"{_shown(directory)}: " + (", ".join(changed) + " rewritten" if changed else "up to date")
    )


def _shown(path: Path) -> str:
    return (
        str(path.resolve().relative_to(Path.cwd()))
        if path.resolve().is_relative_to(Path.cwd())
        else str(path)
    )


@db_app.command("new-migration")
def new_migration(
    message: Annotated[str, typer.Argument(help="What the migration does, in one line.")],
    functions: Annotated[
        list[str] | None,
        typer.Option("--function", help="A function to redefine (every overload of the name)."),
    ] = None,
    views: Annotated[list[str] | None, typer.Option("--view", help="A view to redefine.")] = None,
) -> None:
    """Write the next migration, redefining the named functions and views: its upgrade and its
    frozen downgrade both start as their whole live definitions (src/skilltree/db/schema/);
    edit the upgrade, then `skilltree db upgrade` and `make schema` (docs/development.md)."""
    from skilltree.db.new_migration import CannotWriteMigration, write_migration

    try:
        path = write_migration(message, functions or [], views or [])
    except CannotWriteMigration as exc:
        raise fail(str(exc)) from None
    typer.echo(f"{_shown(path)}: edit UPGRADE, then `skilltree db upgrade` and `make schema`")
