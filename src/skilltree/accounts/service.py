"""Accounts: register, sign in and out with bearer tokens stored only as their SHA-256 hash."""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import ua_parser
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from skilltree.accounts import repository
from skilltree.accounts.passwords import hash_like, hash_password, password_weakness
from skilltree.accounts.throttle import LoginThrottle, account_key, address_key
from skilltree.config import get_settings
from skilltree.db.base import new_id
from skilltree.db.constraints import violated_constraint
from skilltree.db.rls import learner_settings, set_current_learner
from skilltree.documents import MAX_NAME_CHARS, DeviceInfo, validate_document
from skilltree.errors import (
    AlreadyExists,
    FieldError,
    InvalidCredentials,
    InvalidInput,
    NotAuthenticated,
    NotFound,
)
from skilltree.models import User, UserProfile, UserRole, UserSession

# Which field a unique constraint of `users` guards, to name it in the AlreadyExists error.
UNIQUE_USER_FIELDS = {
    "users_email_key": "email",
    "users_username_key": "username",
    "users_username_lower_key": "username",
}
ACTIVITY_RESOLUTION = timedelta(minutes=1)
"""`last_activity_at` is written at most this often per session, not on every request."""


@dataclass(frozen=True)
class Client:
    """Where a sign-in comes from, as the request tells it."""

    ip_address: str | None
    user_agent: str | None


@dataclass(frozen=True)
class SignedIn:
    """A new session's bearer token (the only copy) and its user."""

    token: str
    user: User


@dataclass(frozen=True)
class Authenticated:
    """A request's live session and its user (profile loaded)."""

    login: UserSession
    user: User


def normalise_email(email: str) -> str:
    """`email` as stored: trimmed and lower-cased, so addresses are unique whatever their case."""
    return email.strip().lower()


def token_digest(token: str) -> bytes:
    """The SHA-256 of a bearer token: what `user_sessions.token_hash` stores."""
    return hashlib.sha256(token.encode()).digest()


def register(
    session: Session,
    *,
    email: str,
    username: str,
    password: str,
    first_name: str | None = None,
    last_name: str | None = None,
    client: Client,
) -> SignedIn:
    """Create a user with a profile and sign them in; AlreadyExists if email/username is taken,
    InvalidInput (on the password) if the password is too easy to guess: a rule of SkillTree
    that the request's schema cannot say, so 400, not 422."""
    weakness = password_weakness(password, email=email, username=username)
    if weakness is not None:
        raise InvalidInput("The password is too easy to guess.", errors=[weakness])
    user = User(
        id=new_id(),
        email=normalise_email(email),
        username=username,
        password_hash=hash_password(password),
        first_name=first_name,
        last_name=last_name,
        profile=UserProfile(),
    )
    # The request signs the new user in: it acts for them from here on, so row-level security
    # lets it write their profile and session (docs/security.md).
    set_current_learner(session, user.id)
    try:
        # A savepoint, so a duplicate leaves the caller's transaction usable.
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError as error:
        field = UNIQUE_USER_FIELDS.get(violated_constraint(error) or "")
        if field is None:
            raise
        raise AlreadyExists(
            f"An account with this {field} already exists.",
            errors=[FieldError(loc=(field,), msg="is already taken", type="already_exists")],
        ) from None
    return SignedIn(token=_start_session(session, user, client), user=user)


def login(
    session: Session,
    *,
    email: str | None = None,
    username: str | None = None,
    password: str,
    client: Client,
    throttle: LoginThrottle,
) -> SignedIn:
    """Check a password and start a session; InvalidCredentials alike for any failure, and
    TooManyAttempts (before any password is checked) while `throttle` holds the account or the
    client's address back.

    The stored hash never leaves the database (db/schema/accounts.sql): the password is hashed
    with the account's settings here, and the database compares; a match makes the account the
    transaction's learner."""
    address = address_key(client.ip_address)
    throttle.check(address=address)  # first: a held-back address costs no query
    email = normalise_email(email) if email is not None else None
    found = repository.password_settings(session, email=email, username=username)
    account = account_key(found.user_id, email if email is not None else (username or "").lower())
    throttle.check(account=account)
    # Hashed even when no account matched, so an unknown login takes as long as a wrong password.
    hashed = hash_like(found.settings, found.hash_length, password)
    verified = None
    if hashed is not None:
        verified = repository.verify_login(session, email=email, username=username, hashed=hashed)
    if verified is None:
        throttle.failed(account=account, address=address)
        raise InvalidCredentials()
    throttle.succeeded(account=account)
    user = repository.user_with_profile(session, verified)
    return SignedIn(token=_start_session(session, user, client), user=user)


def authenticate(
    session: Session, token: str, limits: Mapping[str, str] | None = None
) -> Authenticated:
    """The live session `token` opens, touched; NotAuthenticated if unknown, expired or ended.

    Runs as the API's role from its first statement, under `limits` (the request's deadlines):
    the session is switched to it, with no learner, in the look-up's round trip; a live session
    makes its user the learner."""
    now = _now()
    found = repository.find_live_session(
        session, token_digest(token), token_user(token), learner_settings(None, limits)
    )
    if found is None:
        raise NotAuthenticated()
    login, user = found
    if now - login.last_activity_at >= ACTIVITY_RESOLUTION:
        login.last_activity_at = now
    return Authenticated(login=login, user=user)


def logout(session: Session, login: UserSession) -> None:
    """End `login`: its token is refused from now on."""
    login.is_active = False
    login.ended_at = _now()
    session.flush()


def device_info(user_agent: str | None) -> dict[str, Any] | None:
    """A `DeviceInfo` document from a User-Agent header (None without one): the header's first
    512 characters, and the browser, operating system and device that ua-parser recognises in
    them (its names: "Chrome", "Mac OS X", "iPhone"; "Spider" for a known crawler)."""
    if not user_agent:
        return None
    kept = user_agent.replace("\x00", "")[:MAX_USER_AGENT_CHARS]
    parsed = ua_parser.parse(kept)
    document = {
        "userAgent": kept,
        "browser": _family(parsed.user_agent),
        "os": _family(parsed.os),
        "device": _family(parsed.device),
    }
    info = validate_document(DeviceInfo, document, at=("deviceInfo",))
    assert isinstance(info, dict)
    return info


MAX_USER_AGENT_CHARS = 512
"""How much of a User-Agent header a session keeps (and ua-parser reads: its cost stays bounded)."""


def _family(part: ua_parser.UserAgent | ua_parser.OS | ua_parser.Device | None) -> str | None:
    # A family can be a piece of the header itself (a device's model): cut to a `Name`.
    return part.family[:MAX_NAME_CHARS] if part and part.family else None


def new_token(user_id: str) -> str:
    """A bearer token for a new session of `user_id`: the id, a dot and 256 random bits. Only its
    SHA-256 is stored; the id lets the look-up find the learner first (docs/scaling.md), and
    alone opens nothing."""
    return f"{user_id}.{secrets.token_urlsafe(32)}"


def token_user(token: str) -> str | None:
    """The user id `token` names (`new_token`), or None for a token issued before tokens
    carried their user (migration 0044), which is looked up by its hash alone."""
    user_id, dot, _ = token.partition(".")
    return user_id if dot and user_id else None


def _start_session(session: Session, user: User, client: Client) -> str:
    # `user` is the transaction's learner already (register, or verify_login): row-level
    # security lets it write their new `user_sessions` row (docs/security.md).
    token = new_token(user.id)
    now = _now()
    session.add(
        UserSession(
            user_id=user.id,
            token_hash=token_digest(token),
            device_info=device_info(client.user_agent),
            ip_address=_inet(client.ip_address),
            started_at=now,
            last_activity_at=now,
            expires_at=now + timedelta(hours=get_settings().session_ttl_hours),
        )
    )
    session.flush()
    return token


def _inet(host: str | None) -> str | None:
    # The client's "host" is not always an address (test clients, Unix sockets): store only IPs.
    try:
        return str(ipaddress.ip_address(host or ""))
    except ValueError:
        return None


def _now() -> datetime:
    return datetime.now(UTC)


def find_user(session: Session, email: str) -> User | None:
    """The user with `email` (any case), or None."""
    return repository.find_user_by_email(session, normalise_email(email))


def set_role(session: Session, email: str, role: UserRole) -> User:
    """Give the user with `email` the `role`; NotFound if there is no such user."""
    user = find_user(session, email)
    if user is None:
        raise NotFound(f"No user has the email {normalise_email(email)}.")
    user.role = role
    session.flush()
    return user
