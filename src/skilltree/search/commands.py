"""`skilltree search ...`: rebuild search documents in the configured text-search configuration."""

from __future__ import annotations

from typing import Annotated

import typer

from skilltree.config import get_settings
from skilltree.errors import InvalidInput
from skilltree.terminal import connect, fail

search_app = typer.Typer(help="Search over skills and trees.", no_args_is_help=True)


@search_app.command("reindex")
def reindex_command(
    config: Annotated[
        str | None,
        typer.Option(
            "--config",
            metavar="NAME",
            help="Text-search configuration, e.g. english, simple, german "
            "[default: env TEXT_SEARCH_CONFIG, else english].",
        ),
    ] = None,
) -> None:
    """Make CONFIG the text-search configuration and rebuild every skill's and tree's search
    document with it, in one transaction (searches and writes wait for it)."""
    from skilltree.db.session import unit_of_work
    from skilltree.search import service

    wanted = config or get_settings().text_search_config
    engine = connect()
    try:
        with unit_of_work(engine) as session:
            skills, trees = service.reindex(session, wanted)
    except InvalidInput as exc:
        raise fail(exc.message) from None
    typer.echo(f"search documents rebuilt in {wanted!r}: {skills} skills, {trees} trees")


@search_app.command("status")
def status_command() -> None:
    """Show the configuration the documents are built in, and the one configured."""
    from skilltree.db.session import unit_of_work
    from skilltree.search import service

    wanted = get_settings().text_search_config
    with unit_of_work(connect()) as session:
        current = service.current_config(session)
    typer.echo(f"documents built in: {current}")
    typer.echo(f"configured (TEXT_SEARCH_CONFIG): {wanted}")
    if current != wanted:
        typer.echo("run `skilltree search reindex` to rebuild them in the configured one")
