"""What PostgreSQL says about a refused write: the constraint it broke and the error's detail."""

from __future__ import annotations

import psycopg
from sqlalchemy.exc import DBAPIError


def violated_constraint(error: DBAPIError) -> str | None:
    """The name of the constraint PostgreSQL reported in `error`, if any."""
    if isinstance(error.orig, psycopg.Error):
        return error.orig.diag.constraint_name
    return None


def error_detail(error: DBAPIError) -> str | None:
    """The DETAIL line PostgreSQL sent with `error` (our triggers put JSON there), if any."""
    if isinstance(error.orig, psycopg.Error):
        return error.orig.diag.message_detail
    return None


def sqlstate(error: DBAPIError) -> str | None:
    """The SQLSTATE code of `error` (e.g. "40P01" for deadlock_detected), if any."""
    if isinstance(error.orig, psycopg.Error):
        return error.orig.sqlstate
    return None
