"""`skilltree db history list|archive|restore`: the partitioned event history
(operations/history.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import typer
from sqlalchemy import Engine

from skilltree.config import get_settings
from skilltree.operations import history
from skilltree.terminal import connect, fail

history_app = typer.Typer(
    help="The progress event history's monthly partitions: list, archive, restore.",
    no_args_is_help=True,
)


def _partitioned() -> Engine:
    engine = connect()
    if not history.is_partitioned(engine):
        raise fail("the event history is not partitioned: run `skilltree db upgrade`", 2)
    return engine


def archived_line(done: history.Archived) -> str:
    """One line saying what an archive run did."""
    line = "event history: archived " + (
        ", ".join(f"{m:%Y-%m}" for m in done.months) if done.months else "no month"
    )
    if done.unfolded:
        line += "; kept (events not folded yet: run `skilltree analytics fold`): " + ", ".join(
            f"{m:%Y-%m}" for m in done.unfolded
        )
    return line


@history_app.command("list")
def list_command() -> None:
    """Every partition of the history, live or archived, with its estimated rows and size."""
    engine = _partitioned()
    for month in history.months(engine):
        where = "archived" if month.archived else "live"
        name = "default" if month.first_day is None else f"{month.first_day:%Y-%m}"
        typer.echo(
            f"{name:8} {where:8} ~{month.rows:>12,} events {month.bytes / 2**20:>10,.1f} MiB"
        )


@history_app.command()
def archive(
    keep_months: Annotated[
        int | None,
        typer.Option(
            "--keep-months",
            min=1,
            help="Months kept attached, the current one counted (default: "
            "HISTORY_RETENTION_MONTHS).",
        ),
    ] = None,
) -> None:
    """Detach the months older than the retention into the schema `progress_archive`. XP,
    streaks and the analytics' figures stay as they are; a month holding events the
    analytics have not folded yet is kept (run `skilltree analytics fold` first)."""
    keep = keep_months or get_settings().history_retention_months
    if keep is None:
        raise fail("say how many months to keep: --keep-months N or HISTORY_RETENTION_MONTHS", 2)
    engine = _partitioned()
    typer.echo(archived_line(history.archive(engine, keep, datetime.now(UTC))))


@history_app.command()
def restore(
    month: Annotated[
        str | None, typer.Argument(help="The month to attach again, YYYY-MM (default: every one).")
    ] = None,
) -> None:
    """Attach archived months to the history again."""
    chosen = None
    if month is not None:
        try:
            chosen = datetime.strptime(month, "%Y-%m").date()
        except ValueError:
            raise fail(f"not a month (YYYY-MM): {month}", 2) from None
    engine = _partitioned()
    done: list[date] = history.restore(engine, chosen)
    typer.echo("event history: restored " + (", ".join(f"{m:%Y-%m}" for m in done) or "no month"))
