"""FastAPI dependencies: the request's unit of work and the signed-in user.

Every query of a request runs as the role `skilltree_app`, for the learner its bearer token
belongs to (none when anonymous), and sees that learner's rows only (row-level security,
docs/security.md). A token is resolved by the database function `account_session` in the
switch's round trip (the role may not read token hashes): it makes the token's user the learner.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Literal, TypeVar

from anyio import CancelScope, CapacityLimiter, to_thread
from fastapi import Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from skilltree.accounts import service as accounts
from skilltree.db.replicas import ON_REPLICA, ReplicaSet
from skilltree.db.rls import act_as_learner, begin_as_learner
from skilltree.db.session import session_factory
from skilltree.errors import Forbidden, NotAuthenticated
from skilltree.models import User, UserRole
from skilltree.schemas import PageParams
from skilltree.storable import text_problem, unstorable


async def refuse_unstorable_input(request: Request) -> None:
    """Refuse (422, each place named) a path or query parameter or a member of the JSON body that
    PostgreSQL cannot store: text with a NUL character or a lone surrogate, or a body nested more
    than `MAX_JSON_DEPTH` deep. Every route depends on this (`create_app`), before any other of
    its dependencies, so no endpoint, query or serialiser meets such input."""
    problems = [
        {"loc": (place, name), "msg": problem.msg, "type": problem.type}
        for place, items in (
            ("path", request.path_params.items()),
            ("query", request.query_params.multi_items()),
        )
        for name, value in items
        if isinstance(value, str) and (problem := text_problem(value)) is not None
    ]
    if await _has_json_body(request):
        # FastAPI parsed the body before any dependency runs, and Starlette kept it: no second
        # parse. Bodies are small (MAX_BODY_BYTES; tree files take their own path).
        problems += [e.as_dict() for e in unstorable(await request.json(), ("body",))]
    if problems:
        raise RequestValidationError(problems)


async def _has_json_body(request: Request) -> bool:
    # FastAPI parses a body as JSON when its route takes one, it is not empty and its
    # Content-Type says JSON (none is not JSON: FastAPI's strict default, kept by the app).
    if getattr(request.scope.get("route"), "body_field", None) is None:
        return False
    if not await request.body():  # read already, kept by Starlette
        return False
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's unit of work: committed before the response is sent, or rolled back.

    A new session does no I/O, so it is made here on the event loop; its end (the commit, or the
    rollback, and giving its connection back) takes one trip through the thread pool, shielded
    from cancellation and with a limiter of its own (as FastAPI runs a sync dependency's exit:
    a full pool must not keep a finished request from giving its connection back).

    With read replicas, a read that went to one (`get_learner_session`) is ended here too, and
    a signed-in caller's request that may have written (any method but GET, HEAD, OPTIONS) keeps
    their next reads on the primary until a replica has replayed it (`ReplicaSet.wrote`)."""
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    session = factory()
    session.info[_FINISH_EARLY] = True
    try:
        yield session
    except BaseException:
        await _end(session, commit=False)
        if _REPLICA_SESSION in session.info:
            await _end_replica_read(request, session, commit=False)
        raise
    if session.in_transaction():
        await _end(session, commit=True)
    else:  # nothing to commit, no connection to give back: no I/O, no trip
        session.close()
    if _REPLICA_SESSION in session.info:
        await _end_replica_read(request, session, commit=True)


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def _end_replica_read(request: Request, session: Session, *, commit: bool) -> None:
    replica_session: Session | None = session.info.pop(_REPLICA_SESSION, None)
    if replica_session is None:  # the caller's possible write, recorded after its commit
        replicas: ReplicaSet = session.info[REPLICAS]
        learner = session.info.get(_LEARNER)
        if learner is not None and request.method not in _SAFE_METHODS:
            replicas.wrote(learner)
        return
    if replica_session.in_transaction():
        await _end(replica_session, commit=commit)
    else:
        replica_session.close()


_FINISH_EARLY = "skilltree.request.finish_early"
"""session.info key: the session is a request's own unit of work (`get_session` made it)."""
_REPLICA_SESSION = "skilltree.request.replica_session"
"""session.info key of the request's unit of work, with read replicas: the session on a replica
its endpoint reads through (ended by `get_session`), or None when it reads the primary."""
_LEARNER = "skilltree.request.learner"
"""session.info key, with read replicas: the id of the signed-in caller."""
REPLICAS = "skilltree.request.replicas"
"""session.info key of every request's unit of work when the app has read replicas: their
ReplicaSet (`create_app` gives its sessionmaker this info). Without replicas it is absent, and
the request path costs two dictionary look-ups more than without the feature (this key's in
`get_learner_session`, `_REPLICA_SESSION`'s in `get_session`)."""


def finish_early(session: Session) -> None:
    """Commit the request's unit of work now, in the caller's thread: for an endpoint that only
    reads, at the end of its own trip through the thread pool, which saves `get_session` the trip
    of its own (it then has nothing left to do but forget the session). A failed commit raises
    here, so it is still a 500. A session that `get_session` did not make (the test suite's own)
    is left to whoever made it."""
    if session.info.get(_FINISH_EARLY):
        session.commit()


async def _end(session: Session, *, commit: bool) -> None:
    with CancelScope(shield=True):
        await to_thread.run_sync(_finish, session, commit, limiter=CapacityLimiter(1))


def _finish(session: Session, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


# scope="function": the commit runs before the response is sent, so a failed commit is a 500,
# never a success the database did not keep. Not switched yet: only authentication uses it.
RequestSession = Annotated[Session, Depends(get_session, scope="function")]

# auto_error=False: a missing token is our NotAuthenticated problem, not FastAPI's own answer.
_bearer = HTTPBearer(
    auto_error=False, description="A session token from /auth/register or /auth/login."
)


async def get_authentication(
    request: Request,
    session: RequestSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> accounts.Authenticated | None:
    """The live session the request's bearer token opens, None without an Authorization header;
    a token that is not valid, or a header that is not `Bearer <token>` (Basic, a bare Bearer),
    is NotAuthenticated, on every endpoint. Only a token needs the database (in the thread
    pool): an anonymous request is answered here, on the event loop."""
    if credentials is None:
        if "authorization" in request.headers:  # a credential we cannot take is not no credential
            raise NotAuthenticated("The Authorization header must be `Bearer <token>`.")
        return None
    limits: dict[str, str] = request.app.state.request_limits
    return await run_in_threadpool(accounts.authenticate, session, credentials.credentials, limits)


OptionalAuthentication = Annotated[accounts.Authenticated | None, Depends(get_authentication)]


async def get_learner_session(
    request: Request, session: RequestSession, authentication: OptionalAuthentication
) -> Session:
    """The request's unit of work, as `skilltree_app` for the signed-in learner, under the
    request's deadlines (`statement_timeout`, `idle_in_transaction_session_timeout`).

    Authentication switched it already (deadlines included). Without a token, when nothing has
    run on the session yet, its transaction will begin with the switch (`begin_as_learner`: no
    I/O here, no round trip of its own); otherwise the switch is sent now, in the thread pool.

    With read replicas (DATABASE_REPLICA_URL), an endpoint marked `replica_reads` gets a session
    on a replica instead, when `ReplicaSet.engine_for` picks one: begun as the same learner,
    under the same deadlines (its token was checked on the primary, above)."""
    replicas: ReplicaSet | None = session.info.get(REPLICAS)
    if replicas is not None:
        replica_session = _replica_session(request, session, authentication, replicas)
        if replica_session is not None:
            return replica_session
    if authentication is not None:
        return session
    return await _as_no_learner(request, session)


ReplicaReads = Literal["anyone", "anonymous"]
_REPLICA_READS = "__skilltree_replica_reads__"
Endpoint = TypeVar("Endpoint", bound=Callable[..., object])


def replica_reads(who: ReplicaReads = "anyone") -> Callable[[Endpoint], Endpoint]:
    """Mark an endpoint that only reads and tolerates lag (up to REPLICA_MAX_LAG_MS): with read
    replicas its `DbSession` is on one, for `anyone` (a signed-in caller's only once the replica
    has replayed their last write) or for `anonymous` callers only (a signed-in caller's answer
    shows their own progress: the primary). Without replicas the mark is never read."""

    def mark(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, _REPLICA_READS, who)
        return endpoint

    return mark


def _replica_session(
    request: Request,
    session: Session,
    authentication: accounts.Authenticated | None,
    replicas: ReplicaSet,
) -> Session | None:
    session.info[_REPLICA_SESSION] = None
    learner = authentication.user.id if authentication is not None else None
    session.info[_LEARNER] = learner
    who = getattr(getattr(request.scope.get("route"), "endpoint", None), _REPLICA_READS, None)
    if who is None or (who == "anonymous" and learner is not None):
        return None
    engine = replicas.engine_for(learner)
    if engine is replicas.primary:
        return None
    replica_session = session_factory(engine)()
    replica_session.info[_FINISH_EARLY] = True
    replica_session.info[ON_REPLICA] = True
    begin_as_learner(replica_session, learner, request.app.state.request_limits)
    session.info[_REPLICA_SESSION] = replica_session
    return replica_session


async def _as_no_learner(request: Request, session: Session) -> Session:
    # The switch to the role with no learner: with the transaction's first statement when
    # nothing has run on the session yet, else now, in the thread pool.
    limits: dict[str, str] = request.app.state.request_limits
    if session.in_transaction():
        await run_in_threadpool(act_as_learner, session, None, limits)
    else:
        begin_as_learner(session, None, limits)
    return session


DbSession = Annotated[Session, Depends(get_learner_session)]


async def get_unsigned_in_session(request: Request, session: RequestSession) -> Session:
    """The request's unit of work as `skilltree_app` with no learner yet, for a caller that
    proves itself otherwise than with a bearer token (an integration's signed webhook): its
    `Authorization` header, if any, is not read. Its transaction begins with the switch (or,
    when something has run on the session already, the switch is sent now)."""
    return await _as_no_learner(request, session)


UnsignedInSession = Annotated[Session, Depends(get_unsigned_in_session)]


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


def paging(
    *, last_page: int = 100_000, default_size: int = 20, max_size: int = 100
) -> Callable[..., Awaitable[PageParams]]:
    """A dependency reading which page of a list to return from the query (`page`, `pageSize`)
    within these bounds: `Annotated[PageParams, Depends(paging(...))]`, or `Paging`."""

    # The bounds are given as defaults, not in `Annotated`: this module's annotations are text,
    # which FastAPI evaluates in the module's globals, where the bounds are not.
    async def get_paging(
        page: int = Query(1, ge=1, le=last_page),
        page_size: int = Query(default_size, alias="pageSize", ge=1, le=max_size),
    ) -> PageParams:
        return PageParams(page, page_size)

    return get_paging


Paging = Annotated[PageParams, Depends(paging())]
"""Which page to return: `page` (1 to 100,000) and `pageSize` (1 to 100, default 20)."""
