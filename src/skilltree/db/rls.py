"""Row-level security: the API's queries run as `skilltree_app`, seeing one learner's rows.

Migration 0008 makes the learner tables show a row only when its `user_id` equals the setting
`app.current_user_id`, for the role `skilltree_app`. Both the role and the setting are set for
the current transaction only (`SET LOCAL`), so they end with it and never leak to the next user
of a pooled connection (PgBouncer in transaction mode included).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

APP_ROLE = "skilltree_app"
"""The role the API's queries run as (NOLOGIN; the login user is a member of it)."""

LEARNER_SETTING = "app.current_user_id"
"""The setting the policies compare `user_id` with; empty means no learner."""


def act_as_learner(session: Session, user_id: str | None) -> None:
    """Run the rest of the transaction as `skilltree_app` for `user_id` (None: no learner).

    `set_config('role', ..., true)` is `SET LOCAL ROLE`, written so that both settings go in
    one round trip.
    """
    session.execute(
        text("SELECT set_config('role', :role, true), set_config(:setting, :user_id, true)"),
        {"role": APP_ROLE, "setting": LEARNER_SETTING, "user_id": user_id or ""},
    )


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
