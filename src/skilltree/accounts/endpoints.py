"""Accounts API: register, login, logout, me."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool

from skilltree.accounts import service
from skilltree.accounts.schemas import LoginRequest, RegisterRequest, SignedInOut, UserOut
from skilltree.accounts.throttle import LoginThrottle
from skilltree.config import Settings
from skilltree.dependencies import Authentication, CurrentUser, DbSession

router = APIRouter(tags=["accounts"])


class PasswordTurns:
    """At most `size` requests of the process hash a password at once; the others wait here,
    on the event loop, holding no thread and no database connection."""

    def __init__(self, size: int) -> None:
        # asyncio's, not anyio's: made outside any event loop, bound to the first that waits on
        # it (uvicorn runs one loop for the app's life).
        self._semaphore = asyncio.Semaphore(size)
        self.waiting = 0
        """Requests waiting for a turn now."""

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Wait for a turn, and hold it for the block."""
        self.waiting += 1
        try:
            await self._semaphore.acquire()
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            self._semaphore.release()


def install_password_protection(app: FastAPI, settings: Settings) -> None:
    """Give `app` its sign-in throttle and its turns to hash a password (`app.state`)."""
    app.state.login_throttle = LoginThrottle.from_settings(settings)
    app.state.password_turns = PasswordTurns(settings.password_hashing_concurrency)


async def password_turn(request: Request) -> AsyncIterator[None]:
    """One of PASSWORD_HASHING_CONCURRENCY turns to hash a password, for the whole request.

    Waited for before the request has a thread or a database connection (the endpoints declare
    it before their session): a flood of sign-ins queues at no cost to other requests, instead
    of holding the thread pool and the connection pool while argon2 runs; and argon2 runs at a
    lower priority than requests (`passwords.HASHING_NICENESS`). benchmarks/bench_logins.py
    measures both."""
    turns: PasswordTurns = request.app.state.password_turns
    async with turns.turn():
        yield


PasswordTurn = Annotated[None, Depends(password_turn, scope="function")]

_NOT_AUTHENTICATED: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid session token (missing, unknown, expired or ended)."}
}


def _client(request: Request) -> service.Client:
    return service.Client(
        ip_address=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


@router.post(
    "/auth/register",
    status_code=201,
    responses={
        409: {"description": "The email or the username (whatever its case) is already taken."},
        400: {
            "description": "A password that is too easy to guess (`InvalidInput`): one of the "
            "most common, or containing the username or the email's local part (`errors` says "
            "which)."
        },
    },
)
async def register(
    body: RegisterRequest, request: Request, turn: PasswordTurn, session: DbSession
) -> SignedInOut:
    """Create an account and its profile, and sign it in: the answer carries a bearer token."""
    return await run_in_threadpool(_register, body, _client(request), session)


def _register(body: RegisterRequest, client: service.Client, session: DbSession) -> SignedInOut:
    signed_in = service.register(
        session,
        email=body.email,
        username=body.username,
        password=body.password,
        first_name=body.first_name,
        last_name=body.last_name,
        client=client,
    )
    return SignedInOut(token=signed_in.token, user=UserOut.model_validate(signed_in.user))


@router.post(
    "/auth/login",
    responses={
        401: {"description": "The login or the password is not correct."},
        429: {
            "description": "Too many failed sign-ins of this account or from this address "
            "lately: no password is checked until `Retry-After` seconds have passed.",
            "headers": {
                "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}
            },
        },
    },
)
async def login(
    body: LoginRequest, request: Request, turn: PasswordTurn, session: DbSession
) -> SignedInOut:
    """Sign in with an email or a username (any case) and the password; answers a new bearer
    token. Failed sign-ins are counted per account and per client address: past
    LOGIN_FAILURES_PER_ACCOUNT or LOGIN_FAILURES_PER_ADDRESS within LOGIN_FAILURE_WINDOW_SECONDS,
    the answer is 429, whatever the password."""
    return await run_in_threadpool(
        _login, body, _client(request), request.app.state.login_throttle, session
    )


def _login(
    body: LoginRequest, client: service.Client, throttle: LoginThrottle, session: DbSession
) -> SignedInOut:
    signed_in = service.login(
        session,
        email=body.email,
        username=body.username,
        password=body.password,
        client=client,
        throttle=throttle,
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
