"""`skilltree tree ...`: import a tree from its file, export a tree to one."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from skilltree.errors import Forbidden, InvalidInput, NotFound
from skilltree.terminal import connect, fail

tree_app = typer.Typer(
    help="Import and export whole skill trees as tree files.", no_args_is_help=True
)


@tree_app.command("import")
def import_command(
    file: Annotated[
        Path, typer.Argument(help="The tree file (docs/tree-format.md).", dir_okay=False)
    ],
    publish: Annotated[bool, typer.Option("--publish", help="Publish the tree too.")] = False,
    author: Annotated[
        str | None,
        typer.Option(
            "--author",
            metavar="EMAIL",
            help="Import as this user (recorded as creator; they must own the tree).",
        ),
    ] = None,
) -> None:
    """Create the tree of FILE, or update the tree of its slug in place (skills matched by key)."""
    from skilltree.db.session import unit_of_work
    from skilltree.treefile import service

    try:
        data = file.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {file}: {exc.strerror}") from None
    engine = connect()
    try:
        console = Console(stderr=True)
        with (
            unit_of_work(engine) as session,
            Progress(
                TextColumn("{task.description:<10}"),
                BarColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
                disable=not console.is_terminal,
            ) as progress,
        ):
            user = service.user_by_email(session, author) if author is not None else None
            task = progress.add_task("validate", total=len(service.IMPORT_PHASES))

            def on_phase(phase: service.ImportPhase) -> None:
                progress.update(
                    task, description=phase, completed=service.IMPORT_PHASES.index(phase)
                )

            summary = service.import_tree(
                session, data, author=user, publish=publish, on_phase=on_phase
            )
            progress.update(task, completed=len(service.IMPORT_PHASES))
    except InvalidInput as exc:
        for error in exc.errors:
            typer.echo(f"{file}: {service.describe_location(error.loc)}: {error.msg}", err=True)
        count = len(exc.errors)
        problems = f"{count} problem{'s' if count > 1 else ''}, nothing imported"
        raise fail(f"{file}: {problems if exc.errors else exc.message}") from None
    except (Forbidden, NotFound) as exc:
        raise fail(exc.message) from None
    typer.echo(
        f"{'created' if summary.tree_created else 'updated'} tree {summary.slug}"
        f"{' (published)' if summary.is_published else ''}: "
        f"{summary.created} skills created, {summary.updated} updated, "
        f"{summary.unchanged} unchanged, {summary.removed} removed; "
        f"{summary.dependencies} dependencies"
    )


@tree_app.command("export")
def export_command(
    slug: Annotated[str, typer.Argument(help="The tree's slug.")],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write here instead of standard output.", dir_okay=False
        ),
    ] = None,
) -> None:
    """Write the tree SLUG (published or not) as a tree file."""
    from skilltree.db.session import unit_of_work
    from skilltree.treefile import service

    engine = connect()
    try:
        with unit_of_work(engine) as session:
            document = service.export_tree(session, slug, viewer=None, operator=True)
    except NotFound as exc:
        raise fail(exc.message) from None
    text = document.model_dump_json(indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, "utf-8")
        typer.echo(f"exported tree {slug} ({len(document.skills)} skills) to {output}", err=True)
