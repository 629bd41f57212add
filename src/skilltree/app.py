"""The FastAPI application: routers under /api/v1, one error table, problem+json everywhere."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import psycopg
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import iter_route_contexts
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from skilltree import __version__, errors, metrics
from skilltree.cache.memory import MB
from skilltree.cache.trees import tree_store
from skilltree.config import Settings, get_settings
from skilltree.db.replicas import ReplicaSet, replica_set
from skilltree.db.session import get_engine, session_factory
from skilltree.listeners import register_listeners

logger = logging.getLogger("skilltree")

# The one place where domain errors meet HTTP.
STATUS_BY_ERROR: dict[type[errors.SkillTreeError], int] = {
    errors.NotFound: 404,
    errors.AlreadyExists: 409,
    errors.Conflict: 409,
    errors.DependencyCycle: 409,
    errors.InvalidInput: 400,
    errors.InvalidCredentials: 401,
    errors.NotAuthenticated: 401,
    errors.WebhookRefused: 401,
    errors.TooManyAttempts: 429,
    errors.Forbidden: 403,
    errors.DatabaseUnavailable: 503,
}
PROBLEM_JSON = "application/problem+json"


def status_for(error: errors.SkillTreeError) -> int:
    """The HTTP status of a domain error (its nearest mapped base class)."""
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


def problem(
    status: int,
    detail: str,
    *,
    code: str | None = None,
    instance: str | None = None,
    field_errors: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    """An RFC 9457 problem+json response; `extra` adds members (never over the standard ones)."""
    body: dict[str, Any] = {
        **(extra or {}),
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if code:
        body["code"] = code
    if instance:
        body["instance"] = instance
    if field_errors is not None:
        body["errors"] = field_errors
    return JSONResponse(
        body, status_code=status, media_type=PROBLEM_JSON, headers=dict(headers or {})
    )


class BodySizeLimit:
    """Refuse request bodies over `limit` bytes with 413, whether or not Content-Length is sent."""

    def __init__(
        self, app: ASGIApp, limit: int, path_limits: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.limit = limit
        self.path_limits = dict(path_limits or {})
        """Other limits for exact paths (tree-file imports need far more than other bodies)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.path_limits.get(scope["path"], self.limit)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, limit)
            return
        received = 0
        refused = False

        async def limited_receive() -> Message:
            # Past the limit: answer 413 ourselves, then tell the app the client has gone.
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    await self._refuse(scope, receive, send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:
                await send(message)

        await self.app(scope, limited_receive, guarded_send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = problem(
            413, f"The request body is larger than {limit} bytes.", code="BodyTooLarge"
        )
        await response(scope, receive, send)


def request_limits(settings: Settings) -> dict[str, str]:
    """The deadlines every request's transaction runs under (set with its first statement)."""
    return {
        "statement_timeout": f"{settings.statement_timeout_ms}ms",
        "idle_in_transaction_session_timeout": f"{settings.idle_in_transaction_timeout_ms}ms",
    }


def configure_caches(settings: Settings) -> None:
    """Give the in-process tree caches (documents, graphs) half of CACHE_MEMORY_MB each."""
    from skilltree.catalog.service import DOCUMENTS
    from skilltree.graph.service import GRAPHS

    budget = settings.cache_memory_mb * MB // 2
    DOCUMENTS.resize(budget)
    GRAPHS.resize(budget)


def _database_problem(exc: SQLAlchemyError) -> tuple[int, str, str] | None:
    """A request's database error that is the request's deadline or a lost connection: 503
    (the server rolled its transaction back: nothing of it was written)."""
    if isinstance(exc, DBAPIError):
        if isinstance(exc.orig, psycopg.errors.QueryCanceled):
            return 503, "DeadlineExceeded", "The request took too long and was cancelled."
        if exc.connection_invalidated or isinstance(
            exc.orig, psycopg.errors.IdleInTransactionSessionTimeout
        ):
            return 503, "DatabaseUnavailable", "The connection to the database was lost."
        if exc.statement is None and isinstance(exc.orig, psycopg.OperationalError):
            # No connection to be had (refused, a read replica gone): nothing ran.
            return 503, "DatabaseUnavailable", "The database could not be reached."
    return None


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(errors.SkillTreeError)
    async def domain_error(request: Request, exc: errors.SkillTreeError) -> JSONResponse:
        status = status_for(exc)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
        if isinstance(exc, errors.TooManyAttempts):
            headers["Retry-After"] = str(exc.retry_after)
        field_errors = [e.as_dict() for e in exc.errors] if exc.errors else None
        return problem(
            status,
            exc.message,
            code=exc.code,
            instance=request.url.path,
            field_errors=field_errors,
            headers=headers,
            extra=exc.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        field_errors = [
            {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()
        ]
        return problem(
            422,
            "The request is not valid; see `errors` for each field.",
            code="ValidationFailed",
            instance=request.url.path,
            field_errors=field_errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        unparsed = _unparsable_body(exc)
        if unparsed is not None:
            return problem(
                422,
                "The request body is not valid JSON; see `errors`.",
                code="ValidationFailed",
                instance=request.url.path,
                field_errors=[{"loc": ["body"], "msg": unparsed, "type": "json_invalid"}],
            )
        phrase = HTTPStatus(exc.status_code).phrase
        headers = exc.headers
        if exc.status_code == 405:
            allowed = _allowed_methods(request, (headers or {}).get("Allow", ""))
            headers = {**(headers or {}), "Allow": allowed}
        return problem(
            exc.status_code,
            exc.detail if isinstance(exc.detail, str) else phrase,
            code=phrase.title().replace(" ", "").replace("-", ""),  # "Not Found" -> NotFound
            instance=request.url.path,
            headers=headers,
        )

    @app.exception_handler(SQLAlchemyError)
    async def database_error(request: Request, exc: SQLAlchemyError) -> JSONResponse:
        transient = _database_problem(exc)
        if transient is not None:
            status, code, detail = transient
            logger.warning("%s on %s: %s", code, request.url.path, getattr(exc, "orig", exc))
            return problem(
                status, detail, code=code, instance=request.url.path, headers={"Retry-After": "1"}
            )
        logger.exception("database error on %s", request.url.path)
        return problem(500, "The database could not complete the request.", code="DatabaseError")

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unexpected error on %s", request.url.path)
        return problem(500, "An unexpected error occurred.", code="InternalError")


def _allowed_methods(request: Request, named: str) -> str:
    """Every method of the path whose route refused the request's method: Starlette's 405 names
    those of that one route only (`named`: GET of GET and POST /trees)."""
    routes = list(iter_route_contexts(request.app.routes))
    refused = request.scope.get("route")
    path = next((r.path_format for r in routes if r.original_route is refused), None)
    if path is None:
        return named
    return ", ".join(sorted({m for r in routes if r.path_format == path for m in r.methods or ()}))


def _unparsable_body(exc: StarletteHTTPException) -> str | None:
    """Why the JSON body could not be parsed, when `exc` is FastAPI's 400 for that: it turns
    JSON syntax errors into 422 itself but any other failure of the parser into a bare 400."""
    cause = exc.__cause__
    if exc.status_code != 400:
        return None
    if isinstance(cause, RecursionError):
        return "JSON nested too deeply"
    if isinstance(cause, UnicodeDecodeError):
        return "JSON body is not UTF-8 text"
    if isinstance(cause, ValueError):
        return f"JSON decode error: {cause}"
    return None


def _install_docs(app: FastAPI) -> None:
    # Swagger UI from the swagger-ui-bundle wheel, so /docs works on an offline machine.
    from swagger_ui_bundle import swagger_ui_path

    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="SkillTree API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon-32x32.png",
        )


def create_app(engine: Engine | None = None, replicas: ReplicaSet | None = None) -> FastAPI:
    """Build the API; `engine` defaults to the configured database's, and then `replicas` to
    DATABASE_REPLICA_URL's (started: probing); with an `engine` given, only `replicas` given."""
    from skilltree.accounts.endpoints import install_password_protection
    from skilltree.accounts.endpoints import router as accounts_router
    from skilltree.analytics.endpoints import router as analytics_router
    from skilltree.assessments.endpoints import router as assessments_router
    from skilltree.catalog.endpoints import router as catalog_router
    from skilltree.content.endpoints import router as content_router
    from skilltree.dependencies import REPLICAS, refuse_unstorable_input
    from skilltree.gamification.endpoints import router as gamification_router
    from skilltree.graph.endpoints import router as graph_router
    from skilltree.integrations.endpoints import router as integrations_router
    from skilltree.mastery.endpoints import router as mastery_router
    from skilltree.openapi import install_openapi
    from skilltree.operations.endpoints import router as operations_router
    from skilltree.progress.endpoints import router as progress_router
    from skilltree.reviews.endpoints import router as reviews_router
    from skilltree.search.endpoints import router as search_router
    from skilltree.treefile.endpoints import IMPORT_PATH
    from skilltree.treefile.endpoints import router as treefile_router
    from skilltree.treefile.schemas import MAX_TREE_FILE_BYTES
    from skilltree.web.router import install_web

    settings = get_settings()
    register_listeners()
    app = FastAPI(
        title="SkillTree API",
        version=__version__,
        description="Skill trees, prerequisites, learner progress and gamification.",
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(refuse_unstorable_input)],
    )
    app.state.engine = engine or get_engine()
    if engine is None and replicas is None:
        replicas = replica_set(app.state.engine, settings)
    app.state.replicas = replicas
    app.state.sessionmaker = session_factory(app.state.engine)
    if replicas is not None:  # each request's unit of work knows them (dependencies.py)
        app.state.sessionmaker.configure(info={REPLICAS: replicas})
    app.state.request_limits = request_limits(settings)
    configure_caches(settings)
    tree_store()  # REDIS_URL read now: a malformed one stops the start, not a request
    install_password_protection(app, settings)
    _install_error_handlers(app)
    _install_docs(app)
    app.add_middleware(
        BodySizeLimit,
        limit=settings.max_body_bytes,
        path_limits={f"/api/v1{IMPORT_PATH}": MAX_TREE_FILE_BYTES},
    )
    app.add_middleware(metrics.RequestMetrics)  # the outermost: every answer is counted
    metrics.watch_pool(app.state.engine)
    app.include_router(accounts_router, prefix="/api/v1")
    # Before the catalog: a request for /trees/import must meet the import route first, else
    # /trees/{slug} takes it (OPTIONS /trees/import answered 405 `Allow: GET`).
    app.include_router(treefile_router, prefix="/api/v1")
    app.include_router(catalog_router, prefix="/api/v1")
    app.include_router(graph_router, prefix="/api/v1")
    app.include_router(progress_router, prefix="/api/v1")
    app.include_router(assessments_router, prefix="/api/v1")
    app.include_router(integrations_router, prefix="/api/v1")
    app.include_router(content_router, prefix="/api/v1")
    app.include_router(reviews_router, prefix="/api/v1")
    app.include_router(mastery_router, prefix="/api/v1")
    app.include_router(gamification_router, prefix="/api/v1")
    app.include_router(analytics_router, prefix="/api/v1")
    app.include_router(search_router, prefix="/api/v1")
    app.include_router(operations_router)
    install_web(app)

    install_openapi(app)
    return app
