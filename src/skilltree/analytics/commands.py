"""`skilltree analytics ...`: a tree's funnel in the terminal, folding the aggregates, and
refreshing the time-to-complete snapshots."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from skilltree.terminal import connect, fail

if TYPE_CHECKING:
    from sqlalchemy import Engine

analytics_app = typer.Typer(help="Learning analytics.", no_args_is_help=True)


@analytics_app.command("tree")
def tree_command(slug: Annotated[str, typer.Argument(help="The tree's slug.")]) -> None:
    """Print the funnel of tree SLUG: learners per stage of every active skill."""
    from skilltree.analytics import service
    from skilltree.catalog import repository as catalog_repository
    from skilltree.db.session import unit_of_work

    engine = connect()
    with unit_of_work(engine) as session:
        tree = catalog_repository.find_tree(session, slug)
        if tree is None:
            raise fail(f"no skill tree has the slug {slug!r}")
        funnel = service.tree_funnel(session, tree)
    table = Table(title=f"{tree.name} ({slug}): {funnel.enrolments:,} enrolled")
    for column in ("skill", "key", "unlocked", "started", "completed", "skipped"):
        table.add_column(column, justify="left" if column in {"skill", "key"} else "right")
    for skill in funnel.skills:
        table.add_row(
            skill.name,
            skill.key,
            f"{skill.unlocked:,}",
            f"{skill.started:,}",
            f"{skill.completed:,}",
            f"{skill.skipped:,}",
        )
    Console().print(table)


@analytics_app.command("fold")
def fold_command() -> None:
    """Fold the progress events recorded since the last fold into the analytics aggregates
    (a long history in several short transactions, so learners are never held up for long)."""
    from skilltree.operations import jobs

    engine = connect()
    with jobs.recorded(engine, jobs.FOLD):
        total, through = _fold_all(engine)
    typer.echo(f"folded {total:,} events; aggregates now hold every event up to id {through}")


@analytics_app.command("refresh-times")
def refresh_times_command(
    every_tree: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Recompute every tree with completions, changed or not (after loading "
            "progress rows without their events).",
        ),
    ] = False,
) -> None:
    """Recompute the time-to-complete snapshot of every tree whose learners completed skills
    or logged time on completed ones since it (one grouped pass per tree, each in its own
    transaction; learners are never held up). Folds first: a snapshot is exact up to the
    fold's watermark."""
    from skilltree.analytics import repository
    from skilltree.db.session import unit_of_work
    from skilltree.operations import jobs

    engine = connect()
    with jobs.recorded(engine, jobs.REFRESH_TIMES):
        with jobs.recorded(engine, jobs.FOLD):
            _, through = _fold_all(engine)
        with unit_of_work(engine) as session:
            due = repository.skill_times_due(session)
            if every_tree:
                due = sorted(set(due) | set(repository.trees_with_completions(session)))
        refreshed = 0
        for tree_id in due:
            with unit_of_work(engine) as session:
                if repository.refresh_skill_times(session, tree_id) is not None:
                    refreshed += 1
    typer.echo(
        f"refreshed the times of {refreshed:,} tree{'' if refreshed == 1 else 's'}; "
        f"every snapshot is exact up to event {through}"
    )


def _fold_all(engine: Engine) -> tuple[int, int]:
    """Fold every event committed by now, in chunks; (events folded, the new watermark)."""
    from skilltree.analytics import repository
    from skilltree.db.session import unit_of_work

    with unit_of_work(engine) as session:
        through, _, tail = repository.fold_state(session)
    target, total = through + tail, 0  # the newest event now; later ones wait for the next run
    while through < target:
        with unit_of_work(engine) as session:
            total += repository.fold(session, max_ids=repository.FOLD_CHUNK)
            before, (through, _, _) = through, repository.fold_state(session)
        if through == before:  # the newest events were deleted meanwhile: nothing left
            break
    return total, through
