"""The `skilltree` command line: serve the API, manage the database, import and export trees."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from skilltree.accounts.commands import users_app
from skilltree.analytics.commands import analytics_app
from skilltree.config import MAX_WORKERS, get_settings
from skilltree.db.commands import db_app
from skilltree.errors import DatabaseUnavailable, InvalidSettings
from skilltree.gc_tuning import tune_collector
from skilltree.integrations.commands import integration_app
from skilltree.listeners import register_listeners
from skilltree.search.commands import search_app
from skilltree.terminal import connect, fail
from skilltree.treefile.commands import tree_app

app = typer.Typer(help="SkillTree: skill-tree learning engine on PostgreSQL.", no_args_is_help=True)

Workers = Annotated[
    int | None,
    typer.Option(
        min=1, max=MAX_WORKERS, help="API processes (env WORKERS; default: one per core)."
    ),
]


@app.callback()
def _settings_first() -> None:
    # Before any command: a setting out of bounds is one line and exit code 2, not a traceback
    # (or a server that starts and then fails its requests).
    try:
        get_settings()
    except InvalidSettings as exc:
        raise fail(exc.message, 2) from None
    register_listeners()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on (env HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (env PORT).")] = None,
    workers: Workers = None,
) -> None:
    """Serve the HTTP API (the database must be migrated: see `skilltree db upgrade`)."""
    from skilltree import serving
    from skilltree.db import migrate

    settings = get_settings()
    engine = connect()
    if migrate.current_revision(engine) != migrate.head_revision():
        raise fail(
            "the database is not migrated to the latest revision: run `skilltree db upgrade`"
        )
    workers = workers or settings.workers
    for warning in serving.start_warnings(settings, engine, workers):
        typer.echo(f"warning: {warning}", err=True)
    if not settings.database_url:
        # The embedded server was started (or joined) here, once: the workers connect to it.
        os.environ["DATABASE_URL"] = engine.url.render_as_string(hide_password=False)
    engine.dispose()  # this process serves nothing itself when there are several workers
    started = serving.run(
        settings, host=host or settings.host, port=port or settings.port, workers=workers
    )
    if not started:
        raise fail("the API did not start (see the log above)")


@app.command()
def run(
    host: Annotated[str | None, typer.Option(help="Interface to listen on (env HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (env PORT).")] = None,
    workers: Workers = None,
) -> None:
    """Migrate, load the demo data (idempotent) and serve: what `make run` does."""
    from skilltree.db import migrate
    from skilltree.db.session import unit_of_work
    from skilltree.seed import load_demo, load_spec_seed

    engine = connect()
    migrate.upgrade(engine)
    with unit_of_work(engine) as session:
        load_spec_seed(session)
        load_demo(session)
    serve(host=host, port=port, workers=workers)


app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(tree_app, name="tree")
app.add_typer(analytics_app, name="analytics")
app.add_typer(search_app, name="search")
app.add_typer(integration_app, name="integration")


def main() -> None:
    """Entry point that never shows a traceback for a known SkillTree error."""
    tune_collector()
    try:
        app()
    except DatabaseUnavailable as exc:
        typer.echo(f"error: {exc.message}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        # Ctrl-C: the server has shut down cleanly (uvicorn re-raises the signal after it);
        # the embedded database stops as the process exits.
        sys.exit(130)
