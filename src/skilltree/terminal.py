"""What every command shares: one-line errors and the database connection."""

from __future__ import annotations

import typer
from sqlalchemy import Engine

from skilltree.errors import DatabaseUnavailable


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print `message` as one line on stderr and return the Exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def connect() -> Engine:
    """The configured database's engine, or exit 2 with one line naming what is unreachable."""
    from skilltree.db.session import check_connection, get_engine

    try:
        engine = get_engine()
        check_connection(engine)
    except DatabaseUnavailable as exc:
        raise fail(exc.message, 2) from None
    except Exception as exc:  # the embedded server could not start
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise fail(f"cannot start the embedded PostgreSQL server: {first_line}", 2) from None
    return engine
