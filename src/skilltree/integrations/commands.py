"""`skilltree integration ...`: manage integrations from the command line (as the tables'
owner, who may manage every one): create, list, rotate a secret, remove one, disable, enable."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError

from skilltree.errors import SkillTreeError
from skilltree.terminal import connect, fail

integration_app = typer.Typer(
    help="Manage integrations: systems that complete skills through signed webhooks.",
    no_args_is_help=True,
)

IntegrationId = Annotated[str, typer.Argument(help="The integration's id.")]


def _secret_lines(integration_id: str, secret_id: str, secret: str) -> None:
    typer.echo(f"integration {integration_id}")
    typer.echo(f"secret {secret_id}: {secret}")
    typer.echo("(shown this once: give it to the integration now)", err=True)


@integration_app.command("create")
def create(
    name: Annotated[str, typer.Option(help="What the integration is (1-100 characters).")],
    tree: Annotated[
        str | None, typer.Option(help="The slug of the tree whose skills it completes.")
    ] = None,
) -> None:
    """Register an integration of a tree, or of the whole platform without --tree; print its
    id and first signing secret."""
    from skilltree.db.session import unit_of_work
    from skilltree.integrations import service
    from skilltree.integrations.schemas import IntegrationCreate

    try:
        data = IntegrationCreate(name=name, tree_slug=tree)
    except ValidationError as exc:
        options = {"name": "--name", "treeSlug": "--tree", "tree_slug": "--tree"}
        problems = (
            f"{options.get(str(e['loc'][0]), e['loc'][0])}: {e['msg']}" for e in exc.errors()
        )
        raise fail("; ".join(problems)) from None
    engine = connect()
    try:
        with unit_of_work(engine) as session:
            made = service.create(session, data, service.OPERATOR)
    except SkillTreeError as exc:
        raise fail(exc.message) from None
    _secret_lines(made.integration.id, made.secret_id, made.secret)


@integration_app.command("list")
def list_integrations() -> None:
    """Every integration: id, state, tree, name, and its secrets' ids and expiry."""
    from skilltree.db.session import unit_of_work
    from skilltree.integrations import service

    engine = connect()
    with unit_of_work(engine) as session:
        found = service.listed(session, service.OPERATOR)
    for i in found:
        state = "active" if i.is_active else "disabled"
        scope = i.tree.slug if i.tree else "(platform)"
        typer.echo(f"{i.id}\t{state}\t{scope}\t{i.name}")
        for s in i.secrets:
            ends = f"expires {s.expires_at.isoformat()}" if s.expires_at else "until removed"
            typer.echo(f"  secret {s.id}\tmade {s.created_at.isoformat()}\t{ends}")


@integration_app.command("rotate")
def rotate(
    integration_id: IntegrationId,
    expire_others_in: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=30 * 24 * 3600,
            help="Seconds the old secrets stay valid (default: until removed).",
        ),
    ] = None,
) -> None:
    """Give the integration a new secret (printed once); the old ones stay valid until
    `remove-secret` (or --expire-others-in), so it can switch without a refused delivery."""
    from skilltree.db.session import unit_of_work
    from skilltree.integrations import service
    from skilltree.integrations.schemas import RotateRequest

    engine = connect()
    try:
        with unit_of_work(engine) as session:
            made = service.rotate(
                session,
                integration_id,
                RotateRequest(expire_others_in_seconds=expire_others_in),
                service.OPERATOR,
            )
    except SkillTreeError as exc:
        raise fail(exc.message) from None
    _secret_lines(made.integration.id, made.secret_id, made.secret)


@integration_app.command("remove-secret")
def remove_secret(
    integration_id: IntegrationId,
    secret_id: Annotated[str, typer.Argument(help="The id of the secret to remove.")],
) -> None:
    """Remove one secret (the end of a rotation): deliveries it signs are refused from now on."""
    from skilltree.db.session import unit_of_work
    from skilltree.integrations import service

    engine = connect()
    try:
        with unit_of_work(engine) as session:
            service.remove_secret(session, integration_id, secret_id, service.OPERATOR)
    except SkillTreeError as exc:
        raise fail(exc.message) from None
    typer.echo(f"removed secret {secret_id} of integration {integration_id}")


def _set_active(integration_id: str, active: bool) -> None:
    from skilltree.db.session import unit_of_work
    from skilltree.integrations import service
    from skilltree.integrations.schemas import IntegrationUpdate

    engine = connect()
    try:
        with unit_of_work(engine) as session:
            service.update(
                session, integration_id, IntegrationUpdate(is_active=active), service.OPERATOR
            )
    except SkillTreeError as exc:
        raise fail(exc.message) from None
    typer.echo(f"integration {integration_id} is {'active' if active else 'disabled'}")


@integration_app.command("disable")
def disable(integration_id: IntegrationId) -> None:
    """Disable the integration: its deliveries are refused (401) until it is enabled."""
    _set_active(integration_id, False)


@integration_app.command("enable")
def enable(integration_id: IntegrationId) -> None:
    """Enable a disabled integration again."""
    _set_active(integration_id, True)
