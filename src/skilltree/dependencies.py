"""FastAPI dependencies: the request's unit of work and the signed-in user."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from skilltree.accounts import service as accounts
from skilltree.errors import Forbidden, NotAuthenticated
from skilltree.models import User, UserRole


def get_session(request: Request) -> Iterator[Session]:
    """The request's unit of work: committed before the response is sent, or rolled back."""
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# scope="function": the commit runs before the response is sent, so a failed commit is a 500,
# never a success the database did not keep.
DbSession = Annotated[Session, Depends(get_session, scope="function")]

# auto_error=False: a missing token is our NotAuthenticated problem, not FastAPI's own answer.
_bearer = HTTPBearer(
    auto_error=False, description="A session token from /auth/register or /auth/login."
)


def get_authenticated(
    session: DbSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> accounts.Authenticated:
    """The request's live session (`Authorization: Bearer <token>`), or NotAuthenticated."""
    if credentials is None:
        raise NotAuthenticated()
    return accounts.authenticate(session, credentials.credentials)


Authentication = Annotated[accounts.Authenticated, Depends(get_authenticated)]


def get_current_user(authentication: Authentication) -> User:
    """The signed-in user, with their profile loaded."""
    return authentication.user


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_optional_user(
    session: DbSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User | None:
    """The signed-in user, or None without a token (a token that is not valid is still a 401)."""
    if credentials is None:
        return None
    return accounts.authenticate(session, credentials.credentials).user


OptionalUser = Annotated[User | None, Depends(get_optional_user)]

AUTHORING_ROLES = frozenset({UserRole.AUTHOR, UserRole.ADMIN})


def get_author(user: CurrentUser) -> User:
    """The signed-in user if they may author trees (AUTHOR or ADMIN), else Forbidden."""
    if user.role not in AUTHORING_ROLES:
        raise Forbidden("Only authors and admins can change skill trees.")
    return user


AuthorUser = Annotated[User, Depends(get_author)]
