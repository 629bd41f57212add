"""FastAPI dependencies: the request's unit of work and the signed-in user.

A request authenticates first, as the database owner (a bearer token may belong to any learner,
so its `user_sessions` row must be readable before we know whose it is); then its session
switches to the role `skilltree_app` with that learner's id (none when anonymous), and every
query the endpoint runs sees that learner's rows only (row-level security, docs/security.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from skilltree.accounts import service as accounts
from skilltree.db.rls import act_as_learner
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
# never a success the database did not keep. Still the owner's: only authentication uses it.
OwnerSession = Annotated[Session, Depends(get_session, scope="function")]

# auto_error=False: a missing token is our NotAuthenticated problem, not FastAPI's own answer.
_bearer = HTTPBearer(
    auto_error=False, description="A session token from /auth/register or /auth/login."
)


async def get_authentication(
    session: OwnerSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> accounts.Authenticated | None:
    """The live session the request's bearer token opens, None without a token; a token that
    is not valid is NotAuthenticated, on every endpoint. Only a token needs the database (in
    the thread pool): an anonymous request is answered here, on the event loop."""
    if credentials is None:
        return None
    return await run_in_threadpool(accounts.authenticate, session, credentials.credentials)


OptionalAuthentication = Annotated[accounts.Authenticated | None, Depends(get_authentication)]


def get_learner_session(session: OwnerSession, authentication: OptionalAuthentication) -> Session:
    """The request's unit of work, from here on as `skilltree_app` for the signed-in learner."""
    act_as_learner(session, authentication.user.id if authentication else None)
    return session


DbSession = Annotated[Session, Depends(get_learner_session)]


# `switched: DbSession` below: an endpoint that asks only for the user still runs as the role.
# The dependencies below only read what those above found: `async def`, so they run on the event
# loop rather than each taking a trip through the thread pool.


async def get_authenticated(
    authentication: OptionalAuthentication, switched: DbSession
) -> accounts.Authenticated:
    """The request's live session (`Authorization: Bearer <token>`), or NotAuthenticated."""
    if authentication is None:
        raise NotAuthenticated()
    return authentication


Authentication = Annotated[accounts.Authenticated, Depends(get_authenticated)]


async def get_current_user(authentication: Authentication) -> User:
    """The signed-in user, with their profile loaded."""
    return authentication.user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_optional_user(
    authentication: OptionalAuthentication, switched: DbSession
) -> User | None:
    """The signed-in user, or None without a token (a token that is not valid is still a 401)."""
    return authentication.user if authentication else None


OptionalUser = Annotated[User | None, Depends(get_optional_user)]

AUTHORING_ROLES = frozenset({UserRole.AUTHOR, UserRole.ADMIN})


async def get_author(user: CurrentUser) -> User:
    """The signed-in user if they may author trees (AUTHOR or ADMIN), else Forbidden."""
    if user.role not in AUTHORING_ROLES:
        raise Forbidden("Only authors and admins can change skill trees.")
    return user


AuthorUser = Annotated[User, Depends(get_author)]
