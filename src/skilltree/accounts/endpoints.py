"""Accounts API: register, login, logout, me."""

from __future__ import annotations

from fastapi import APIRouter, Request

from skilltree.accounts import service
from skilltree.accounts.schemas import LoginRequest, RegisterRequest, SignedInOut, UserOut
from skilltree.dependencies import Authentication, CurrentUser, DbSession

router = APIRouter(tags=["accounts"])


def _client(request: Request) -> service.Client:
    return service.Client(
        ip_address=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


@router.post(
    "/auth/register",
    status_code=201,
    responses={409: {"description": "The email or the username is taken (`AlreadyExists`)."}},
)
def register(body: RegisterRequest, request: Request, session: DbSession) -> SignedInOut:
    """Create an account and its profile, and sign it in: the answer carries a bearer token."""
    signed_in = service.register(
        session,
        email=body.email,
        username=body.username,
        password=body.password,
        first_name=body.first_name,
        last_name=body.last_name,
        client=_client(request),
    )
    return SignedInOut(token=signed_in.token, user=UserOut.model_validate(signed_in.user))


@router.post(
    "/auth/login",
    responses={
        401: {"description": "The login or the password is not correct (`InvalidCredentials`)."},
        # Sign-in throttling (issue 12 part 5) answers this; documented ahead of it.
        429: {"description": "Too many failed sign-ins (`TooManyAttempts`): wait `Retry-After`."},
    },
)
def login(body: LoginRequest, request: Request, session: DbSession) -> SignedInOut:
    """Sign in with an email or a username and the password; answers a new bearer token."""
    signed_in = service.login(
        session,
        email=body.email,
        username=body.username,
        password=body.password,
        client=_client(request),
    )
    return SignedInOut(token=signed_in.token, user=UserOut.model_validate(signed_in.user))


@router.post("/auth/logout", status_code=204)
def logout(authentication: Authentication, session: DbSession) -> None:
    """End the current session: its token is refused from now on."""
    service.logout(session, authentication.login)


@router.get("/me")
def me(user: CurrentUser) -> UserOut:
    """The signed-in user, with their profile."""
    return UserOut.model_validate(user)
