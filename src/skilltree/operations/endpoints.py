"""GET /health (the process is up), GET /ready (the database answers, at the schema's head) and
GET /metrics (Prometheus, behind METRICS_TOKEN): what load balancers, orchestrators and
Prometheus ask (docs/operations.md#monitoring)."""

from __future__ import annotations

import hmac
from functools import cache

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from skilltree import metrics
from skilltree.app import problem
from skilltree.config import get_settings
from skilltree.errors import NotAuthenticated

router = APIRouter(tags=["operations"])

READY_RETRY_SECONDS = 5


@cache
def head_revision() -> str | None:
    """The schema revision this version of SkillTree needs (read from its migrations once)."""
    from skilltree.db import migrate

    return migrate.head_revision()


def database_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: no SkillTree schema); SQLAlchemyError when the
    database does not answer."""
    from skilltree.db import migrate

    return migrate.current_revision(engine)


@router.get(
    "/health",
    responses={200: {"content": {"application/json": {"example": {"status": "ok"}}}}},
)
async def health() -> JSONResponse:
    """Whether the API process is up and answering (it asks the database nothing: see
    /ready)."""
    return JSONResponse({"status": "ok"})


@router.get(
    "/ready",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {"status": "ready", "database": "ok", "revision": "0037"}
                }
            }
        },
        503: {
            "description": "The database does not answer (`DatabaseUnavailable`), or its schema "
            "is not the one this version needs (`SchemaNotAtHead`: run `skilltree db upgrade`)."
        },
    },
)
def ready(request: Request) -> JSONResponse:
    """Whether the API can serve: its database answers and its schema is at the revision this
    version of SkillTree needs."""
    head = head_revision()
    try:
        revision = database_revision(request.app.state.engine)
    except SQLAlchemyError:
        return problem(
            503,
            "The database does not answer.",
            code="DatabaseUnavailable",
            instance=request.url.path,
            headers={"Retry-After": str(READY_RETRY_SECONDS)},
        )
    if revision != head:
        return problem(
            503,
            f"The database's schema is at revision {revision or 'none'}; this version needs "
            f"{head}: run `skilltree db upgrade`.",
            code="SchemaNotAtHead",
            instance=request.url.path,
            headers={"Retry-After": str(READY_RETRY_SECONDS)},
            extra={"revision": revision, "head": head},
        )
    return JSONResponse({"status": "ready", "database": "ok", "revision": revision})


@router.get("/metrics", include_in_schema=False)
def prometheus_metrics(request: Request) -> Response:
    """Every metric in Prometheus' text format, for the bearer of METRICS_TOKEN (404 when it
    is not set: the endpoint is off)."""
    token = get_settings().metrics_token
    if token is None:
        raise StarletteHTTPException(404)
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        presented.strip().encode(), token.get_secret_value().encode()
    ):
        raise NotAuthenticated("GET /metrics needs `Authorization: Bearer <METRICS_TOKEN>`.")
    return Response(
        metrics.exposition(request.app.state.engine, request.app.state.replicas),
        media_type=metrics.CONTENT_TYPE,
    )
