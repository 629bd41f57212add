"""`skilltree users ...`: manage accounts from the command line."""

from __future__ import annotations

from typing import Annotated

import typer

from skilltree.errors import NotFound
from skilltree.models import UserRole
from skilltree.terminal import connect, fail

users_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)


@users_app.command("set-role")
def set_role(
    email: Annotated[str, typer.Argument(help="The user's email.")],
    role: Annotated[UserRole, typer.Argument(help="LEARNER, AUTHOR or ADMIN.")],
) -> None:
    """Give a user a role: AUTHOR may write trees, ADMIN may do everything."""
    from skilltree.accounts import service
    from skilltree.db.session import unit_of_work

    engine = connect()
    try:
        with unit_of_work(engine) as session:
            user = service.set_role(session, email, role)
    except NotFound as exc:
        raise fail(exc.message) from None
    typer.echo(f"{user.email} is now {user.role.value}")
