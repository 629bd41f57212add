"""Row-level security: the API's queries run as `skilltree_app`, seeing one learner's rows.

Migration 0008 makes the learner tables show a row only when its `user_id` equals the setting
`app.current_user_id`, for the role `skilltree_app`. Both the role and the setting are set for
the current transaction only (`SET LOCAL`), so they end with it and never leak to the next user
of a pooled connection (PgBouncer in transaction mode included).

A request that has sent nothing yet (an anonymous one) does not switch in a trip through the
thread pool of its own: `begin_as_learner` leaves the settings on the session, and they go out as
the first statement of its transaction, from the `after_begin` hook below (`switch_at_begin`,
registered by `skilltree.listeners`), which runs before any
statement of the transaction can; or, when that first statement is run by `fetch_all`, in the
same round trip as it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import psycopg
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, SessionTransaction

from skilltree.db.session import require_listener

APP_ROLE = "skilltree_app"
"""The role the API's queries run as (NOLOGIN; the login user is a member of it)."""

LEARNER_SETTING = "app.current_user_id"
"""The setting the policies compare `user_id` with; empty means no learner."""


def act_as_learner(
    session: Session, user_id: str | None, limits: Mapping[str, str] | None = None
) -> None:
    """Run the rest of the transaction as `skilltree_app` for `user_id` (None: no learner),
    under `limits` (settings such as `statement_timeout`, for this transaction only).

    `set_config('role', ..., true)` is `SET LOCAL ROLE`, written so that every setting goes in
    one round trip.
    """
    _set_config(session.connection(), learner_settings(user_id, limits))


_AT_BEGIN = "skilltree.rls.at_begin"
"""session.info key: the settings the session's transaction is to begin with."""


def begin_as_learner(
    session: Session, user_id: str | None, limits: Mapping[str, str] | None = None
) -> None:
    """`act_as_learner` for a session that has not begun a transaction yet, without a round trip
    now: its transaction will begin with the switch (see `switch_at_begin`)."""
    if session.in_transaction():
        raise RuntimeError("begin_as_learner needs a session that has not begun a transaction")
    require_listener("after_begin", switch_at_begin)
    session.info[_AT_BEGIN] = learner_settings(user_id, limits)


def switch_at_begin(
    session: Session, transaction: SessionTransaction, connection: Connection
) -> None:
    """Every session's `after_begin` (skilltree.listeners): the switch `begin_as_learner` left."""
    # Runs when the session's transaction takes its connection, before the statement that made
    # it do so: nothing of the transaction runs as the owner.
    settings = session.info.pop(_AT_BEGIN, None)
    if settings is not None:
        _set_config(connection, settings)


def fetch_all(
    session: Session,
    statement: str,
    parameters: Mapping[str, Any],
    *,
    settings: Mapping[str, str] | None = None,
) -> list[tuple[Any, ...]]:
    """The rows of `statement` (psycopg placeholders), run in the session's transaction through
    psycopg itself, after `settings` (name to value, for the rest of the transaction). As the
    transaction's first statement it also takes the switch the transaction is to begin with
    (`begin_as_learner`), ahead of `settings`. Whatever is to be set shares the statement's
    round trip: a pipeline sends them in order, so the statement runs after them, and not at all
    if one fails. (psycopg's BEGIN still goes first on its own: in a pipeline too, psycopg waits
    for its answer.) For queries that only read: unlike `Session.execute`, nothing pending in
    the session is flushed first. psycopg's errors come out as SQLAlchemy's DBAPIError, as they
    would from `Session.execute` (a cancelled read is the API's 503, as a cancelled write)."""
    at_begin = session.info.pop(_AT_BEGIN, None)
    try:
        driver = _driver(session.connection())  # its after_begin finds nothing left to send
    except BaseException:
        if at_begin is not None:
            session.info[_AT_BEGIN] = at_begin
        raise
    first = {**(at_begin or {}), **(settings or {})}
    try:
        if not first:
            with driver.cursor() as cursor:
                return cursor.execute(statement, parameters).fetchall()
        with driver.cursor() as switch, driver.cursor() as cursor:
            with driver.pipeline():
                switch.execute(*_set_config_statement(first))
                cursor.execute(statement, parameters)
            return cursor.fetchall()
    except psycopg.Error as error:  # as SQLAlchemy would raise it: the API's 503s, its handlers
        raise DBAPIError.instance(statement, dict(parameters), error, psycopg.Error) from error


def _driver(connection: Connection) -> psycopg.Connection[Any]:
    return cast("psycopg.Connection[Any]", connection.connection.driver_connection)


def learner_settings(
    user_id: str | None, limits: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The settings that make a transaction run as `skilltree_app` for `user_id` (None: no
    learner) under `limits` (request deadlines), for `fetch_all`; the role first, so the
    settings after it are set as the role."""
    return {"role": APP_ROLE, LEARNER_SETTING: user_id or "", **(limits or {})}


def _set_config(connection: Connection, settings: Mapping[str, str]) -> None:
    connection.exec_driver_sql(*_set_config_statement(settings))


def _set_config_statement(settings: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """One statement, one round trip: set_config(name, value, true) for each setting, in order.
    Names and values are bound parameters."""
    calls = ", ".join(f"set_config(%(n{i})s, %(v{i})s, true)" for i in range(len(settings)))
    parameters: dict[str, str] = {}
    for i, (name, value) in enumerate(settings.items()):
        parameters[f"n{i}"], parameters[f"v{i}"] = name, value
    return f"SELECT {calls}", parameters


def set_current_learner(session: Session, user_id: str) -> None:
    """Make `user_id` the transaction's learner, whatever role it runs as (sign-in needs it)."""
    session.execute(
        text("SELECT set_config(:setting, :user_id, true)"),
        {"setting": LEARNER_SETTING, "user_id": user_id},
    )


def act_as_owner(session: Session) -> None:
    """Back to the connection's own role with no learner, for the rest of the transaction."""
    session.execute(
        text("SELECT set_config('role', 'none', true), set_config(:setting, '', true)"),
        {"setting": LEARNER_SETTING},
    )
