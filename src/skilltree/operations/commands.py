"""`skilltree db doctor`: the weekly check of the database, in the terminal or as JSON."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn
from rich.table import Table

from skilltree.operations import doctor
from skilltree.operations.doctor import Report, Thresholds, format_bytes
from skilltree.terminal import connect

DEFAULTS = Thresholds()


def doctor_command(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as one JSON object (for machines).")
    ] = False,
    top: Annotated[int, typer.Option(min=1, max=100, help="Rows shown per list.")] = 5,
    record: Annotated[
        bool,
        typer.Option(
            help="Keep this run's table and index sizes for the next run's growth "
            "(--no-record: write nothing)."
        ),
    ] = True,
    min_cache_hit_ratio: Annotated[
        float,
        typer.Option(min=0, max=1, help="Share of block reads shared buffers should serve."),
    ] = DEFAULTS.min_cache_hit_ratio,
    max_bloat_ratio: Annotated[
        float,
        typer.Option(min=0, max=1, help="Estimated dead share of a table (past --min-bloat-mb)."),
    ] = DEFAULTS.max_bloat_ratio,
    min_bloat_mb: Annotated[
        int, typer.Option(min=0, help="Dead space smaller than this is never a problem.")
    ] = DEFAULTS.min_bloat_bytes // (1024 * 1024),
    max_query_seconds: Annotated[
        float, typer.Option(min=0, help="How long one statement may run.")
    ] = DEFAULTS.max_query_seconds,
    max_idle_in_transaction_seconds: Annotated[
        float, typer.Option(min=0, help="How long a session may sit idle inside a transaction.")
    ] = DEFAULTS.max_idle_in_transaction_seconds,
    max_vacuum_overdue: Annotated[
        float,
        typer.Option(
            min=0, help="Dead rows, in times the count that sets autovacuum off for a table."
        ),
    ] = DEFAULTS.max_vacuum_overdue,
    min_dead_rows: Annotated[
        int, typer.Option(min=0, help="Fewer dead rows in a table are never a problem.")
    ] = DEFAULTS.min_dead_rows,
    max_xid_age: Annotated[
        int, typer.Option(min=0, help="Age of a table's oldest unfrozen transaction id.")
    ] = DEFAULTS.max_xid_age,
    max_replication_lag_seconds: Annotated[
        float, typer.Option(min=0, help="How far behind a streaming replica may replay.")
    ] = DEFAULTS.max_replication_lag_seconds,
    max_duplicate_indexes: Annotated[
        int, typer.Option(min=0, help="Sets of identical indexes allowed.")
    ] = DEFAULTS.max_duplicate_indexes,
    max_unused_indexes: Annotated[
        int | None,
        typer.Option(min=0, help="Indexes never scanned allowed (default: shown only)."),
    ] = None,
    max_growth_percent: Annotated[
        float | None,
        typer.Option(
            min=0,
            help="Growth of a table or index since the last run, past --min-growth-mb "
            "(default: shown only).",
        ),
    ] = None,
    min_growth_mb: Annotated[
        int, typer.Option(min=0, help="Growth smaller than this is never a problem.")
    ] = DEFAULTS.min_growth_bytes // (1024 * 1024),
) -> None:
    """What an operator checks weekly, read from the database itself: top statements by total
    and mean time (pg_stat_statements), unused and duplicate indexes, estimated bloat, cache hit
    ratio, table and index sizes with growth since the last run, long-running and
    idle-in-transaction sessions, autovacuum lag, replication lag. Exits 1 when a threshold is
    crossed (cron or CI can alert on it), 2 when the database cannot be reached."""
    thresholds = Thresholds(
        min_cache_hit_ratio=min_cache_hit_ratio,
        max_bloat_ratio=max_bloat_ratio,
        min_bloat_bytes=min_bloat_mb * 1024 * 1024,
        max_query_seconds=max_query_seconds,
        max_idle_in_transaction_seconds=max_idle_in_transaction_seconds,
        max_vacuum_overdue=max_vacuum_overdue,
        min_dead_rows=min_dead_rows,
        max_xid_age=max_xid_age,
        max_replication_lag_seconds=max_replication_lag_seconds,
        max_duplicate_indexes=max_duplicate_indexes,
        max_unused_indexes=max_unused_indexes,
        max_growth_percent=max_growth_percent,
        min_growth_bytes=min_growth_mb * 1024 * 1024,
    )
    engine = connect()
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        console=Console(stderr=True),
        transient=True,
        disable=as_json,
    ) as progress:
        task = progress.add_task("checking", total=len(doctor.CHECKS))

        def step(check: str) -> None:
            progress.update(task, description=f"checking {check.replace('_', ' ')}", advance=1)

        report = doctor.examine(engine, thresholds, top=top, record=record, step=step)
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2))
    else:
        show(report, Console())
    if report.problems:
        raise typer.Exit(1)


def show(report: Report, console: Console) -> None:
    """The report as tables, then its problems (or that there are none)."""
    console.print(
        f"[bold]{report.database}[/bold] on PostgreSQL {report.server_version}, "
        f"{report.checked_at:%Y-%m-%d %H:%M %Z}"
    )
    statements = report.statements
    if statements.get("available"):
        for key, title in (("by_total_time", "total"), ("by_mean_time", "mean")):
            _table(
                console,
                f"Top statements by {title} time",
                statements[key],
                {"calls": "calls", "total_ms": "total ms", "mean_ms": "mean ms", "query": "query"},
            )
    else:
        console.print(f"[yellow]Top statements: {statements.get('note')}[/yellow]")
    _table(
        console,
        "Unused indexes (never scanned since the statistics' reset)",
        report.unused_indexes,
        {"index": "index", "table": "table", "bytes": "size"},
    )
    _table(
        console,
        "Duplicate indexes",
        [
            dict(
                d, indexes=", ".join(d["indexes"]), why="the spec names it" if d["expected"] else ""
            )
            for d in report.duplicate_indexes
        ],
        {"table": "table", "indexes": "indexes", "bytes": "wasted", "why": "kept because"},
    )
    _table(
        console,
        "Estimated bloat",
        report.bloat,
        {"table": "table", "bytes": "size", "wasted": "wasted", "ratio": "share"},
    )
    cache = report.cache
    ratio = cache.get("ratio")
    console.print(
        "Cache hit ratio: "
        + (f"{ratio:.2%}" if ratio is not None else "no reads yet")
        + f" ({cache.get('hits', 0):,} hits, {cache.get('reads', 0):,} reads)"
    )
    sizes = report.sizes
    previous = sizes.get("previous_run")
    _table(
        console,
        "Largest tables and indexes"
        + (f" (growth since {previous:%Y-%m-%d %H:%M})" if previous else " (no earlier run)"),
        sizes.get("largest", []),
        {"relation": "relation", "kind": "kind", "bytes": "size", "growth": "growth"},
    )
    console.print(f"All tables and indexes: {format_bytes(sizes.get('total_bytes', 0))}")
    if sizes.get("note"):
        console.print(f"[yellow]Sizes {sizes['note']}[/yellow]")
    columns = {"pid": "pid", "user": "user", "state": "state", "query": "query"}
    _table(
        console,
        "Long-running statements",
        report.sessions.get("long_running", []),
        {**columns, "query_seconds": "seconds"},
    )
    _table(
        console,
        "Idle in transaction",
        report.sessions.get("idle_in_transaction", []),
        {**columns, "state_seconds": "seconds"},
    )
    _table(
        console,
        "Autovacuum (most dead rows for their trigger first)",
        report.autovacuum,
        {
            "table": "table",
            "dead_rows": "dead rows",
            "vacuum_at": "vacuum at",
            "last_vacuum": "last vacuum",
            "xid_age": "xid age",
        },
    )
    _table(
        console,
        "Replication",
        report.replication,
        {"role": "role", "replica": "replica", "state": "state", "lag_seconds": "lag s"},
    )
    if report.problems:
        console.print(f"[bold red]{len(report.problems)} problem(s):[/bold red]")
        for problem in report.problems:
            console.print(f"  [red]{problem.check}[/red]: {problem.message}")
    else:
        console.print("[bold green]No threshold crossed.[/bold green]")


def _table(
    console: Console, title: str, rows: list[dict[str, Any]], columns: dict[str, str]
) -> None:
    if not rows:
        console.print(f"{title}: none")
        return
    table = Table(title=title, title_justify="left")
    for heading in columns.values():
        table.add_column(heading, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(key, row.get(key)) for key in columns))
    console.print(table)


def _cell(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if key in {"bytes", "wasted", "growth"} and isinstance(value, int | float):
        return format_bytes(value)
    if key == "ratio" and isinstance(value, float):
        return f"{value:.0%}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
