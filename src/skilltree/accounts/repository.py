"""Accounts queries: a login's password checked and a token's session found through the
database's account functions (db/schema/accounts.sql; the API's role reads no hash and no email:
security.sql), and users with their profile."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session, joinedload, undefer
from sqlalchemy.orm.attributes import set_committed_value

from skilltree.db.rls import fetch_all
from skilltree.models import User, UserSession


@dataclass(frozen=True)
class PasswordSettings:
    """Which active account a login names (its id) and how its password was hashed (its PHC
    string but the hash, and the hash's length); None's when it names none."""

    user_id: str | None
    settings: str | None
    hash_length: int | None


@dataclass(frozen=True)
class Account:
    """An account a password or a token was proven for: its id and email."""

    user_id: str
    email: str


def password_settings(
    session: Session, *, email: str | None, username: str | None
) -> PasswordSettings:
    """The password settings of the active account with `email` (else `username`); None's when
    there is none."""
    user_id, settings, hash_length = session.execute(
        text(
            "SELECT user_id, settings, hash_length"
            " FROM account_password_settings(:email, :username)"
        ),
        {"email": email, "username": username},
    ).one()
    return PasswordSettings(user_id, settings, hash_length)


def verify_login(
    session: Session, *, email: str | None, username: str | None, hashed: str
) -> Account | None:
    """The active account with `email` (else `username`) if `hashed` is its password hash; it
    becomes the transaction's learner and its last login is now. None otherwise."""
    user_id, user_email = session.execute(
        text("SELECT user_id, email FROM account_verify_login(:email, :username, :hashed)"),
        {"email": email, "username": username, "hashed": hashed},
    ).one()
    return Account(user_id, user_email) if user_id is not None else None


# The role's switch and the look-up in one round trip (rls.fetch_all).
_SESSION_SQL = "SELECT session_id, user_id, email FROM account_session(%(token_hash)s, %(user)s)"


def find_live_session(
    session: Session, token_hash: bytes, user: str | None, settings: dict[str, str]
) -> tuple[UserSession, User] | None:
    """The active, unexpired session with `token_hash` of `user` (the user its token names; None
    for an older token, found by its hash alone) and its active user (profile and email loaded),
    after `settings` (the switch to the API's role); the user becomes the transaction's
    learner."""
    [(session_id, user_id, email)] = fetch_all(
        session, _SESSION_SQL, {"token_hash": token_hash, "user": user}, settings=settings
    )
    if session_id is None:
        return None
    statement = (
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .options(joinedload(User.profile))
        .where(UserSession.user_id == user_id, UserSession.id == session_id)
    )
    found = session.execute(statement).tuples().one_or_none()
    if found is not None:
        show_email(found[1], email)
    return found


def user_with_profile(session: Session, account: Account) -> User:
    """The user `account` names, with their profile and the email the account proved."""
    user = session.scalars(
        select(User).options(joinedload(User.profile)).where(User.id == account.user_id)
    ).one()
    show_email(user, account.email)
    return user


def show_email(user: User, email: str) -> None:
    """Give `user` its email as loaded, without reading it (the API's role may not)."""
    set_committed_value(user, "email", email)


def find_user_by_email(session: Session, email: str) -> User | None:
    """The user whose (lower-cased) email is `email`, with their profile: for the owner (CLI),
    which may read emails."""
    statement = (
        select(User)
        .options(joinedload(User.profile), undefer(User.email))
        .where(User.email == email)
    )
    return session.scalars(statement).one_or_none()
