"""The OpenAPI document names every answer an operation can give, as the app gives it.

FastAPI documents each endpoint's success and the errors the endpoint names itself (`responses=`
with a description each). The answers that come from the app's shared machinery are the same on
every route that uses it, so they are added here, once, from what each route depends on:

- every route checks its input (`refuse_unstorable_input`, FastAPI's validation): 422;
- a route that reads the caller refuses a bad `Authorization` header: 401, and its security says
  whether a bearer token is required (it refuses anonymous callers) or optional (it serves them);
- a route for authors (`get_author`): 403; with a path parameter: 404; taking an
  `Idempotency-Key`: 409; with a body: 413; using the database: 503 (deadline, lost connection).

Every error answer is `application/problem+json` with the `Problem` schema, unless the endpoint
declares another content for it. tests/test_openapi_contract.py holds the app to this document.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic.json_schema import models_json_schema

from skilltree.app import PROBLEM_JSON
from skilltree.dependencies import get_authenticated, get_authentication, get_author, get_session
from skilltree.schemas import Problem

Answers = dict[int | str, dict[str, Any]]
"""`responses=` of an endpoint: a description per status (the content is added here)."""

_SHARED: dict[str, dict[str, Any]] = {
    "validation": {
        "description": "The request is not valid (`ValidationFailed`): `errors` names each "
        "parameter or field and its problem."
    },
    "not signed in": {
        "description": "Sign in first (`NotAuthenticated`): no valid session token (missing, "
        "unknown, expired or ended)."
    },
    "bad token": {
        "description": "The `Authorization` header is not `Bearer` with a valid session token "
        "(`NotAuthenticated`); without the header you are anonymous."
    },
    "not an author": {
        "description": "Only authors and admins may do this (`Forbidden`); an author only to "
        "their own trees."
    },
    "not found": {"description": "Nothing that you may see has this {names} (`NotFound`)."},
    "key reused": {
        "description": "This `Idempotency-Key` was already used for another request "
        "(`IdempotencyKeyReused`)."
    },
    "too large": {"description": "The body is larger than allowed (`BodyTooLarge`)."},
    "unavailable": {
        "description": "The request ran out of time (`DeadlineExceeded`) or lost its database "
        "connection (`DatabaseUnavailable`): nothing of it was written; send it again."
    },
}
_HEADERS_BY_STATUS: dict[str, dict[str, Any]] = {
    "401": {
        "WWW-Authenticate": {
            "description": "`Bearer`: the authentication the API takes.",
            "required": True,
            "schema": {"type": "string"},
        }
    },
    "429": {
        "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "required": True,
            "schema": {"type": "integer"},
        }
    },
    "503": {
        "Retry-After": {
            "description": "Seconds to wait before sending the request again.",
            "schema": {"type": "integer"},
        }
    },
}


def install_openapi(app: FastAPI) -> None:
    """Make `app.openapi()` FastAPI's document with the shared answers and security added
    (call it once every router is included)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document_shared_answers(app, generate())
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def document_shared_answers(app: FastAPI, document: dict[str, Any]) -> None:
    """Add to `document` (FastAPI's, for `app`) the answers and security each route has from
    the dependencies it shares with others, and the `Problem` schema of every error answer."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for fastapi_422 in ("HTTPValidationError", "ValidationError"):  # a shape the app never sends
        schemas.pop(fastapi_422, None)
    _, problem_schemas = models_json_schema(
        [(Problem, "serialization")], ref_template="#/components/schemas/{model}"
    )
    schemas.update(problem_schemas["$defs"])
    for route in iter_route_contexts(app.routes):  # included routers' routes, with their prefix
        if isinstance(route.original_route, APIRoute) and route.include_in_schema:
            calls = _dependencies(route.dependant)
            for method in route.methods or ():
                operation = document["paths"][route.path_format][method.lower()]
                _document_operation(operation, calls, route.responses)


def _document_operation(
    operation: dict[str, Any], calls: set[Callable[..., Any]], own: Answers
) -> None:
    parameters = operation.get("parameters", [])
    path_names = [p["name"] for p in parameters if p["in"] == "path"]
    shared: dict[int, dict[str, Any]] = {422: _SHARED["validation"]}
    if get_authentication in calls:
        if get_authenticated in calls:
            shared[401] = _SHARED["not signed in"]
        else:  # anonymous callers are served: a token is optional ({} needs nothing)
            shared[401] = _SHARED["bad token"]
            operation["security"] = [{}, *operation.get("security", [])]
    if get_author in calls:
        shared[403] = _SHARED["not an author"]
    if path_names:
        names = " and ".join(f"`{name}`" for name in path_names)
        shared[404] = {"description": _SHARED["not found"]["description"].format(names=names)}
    if any(p["in"] == "header" and p["name"] == "Idempotency-Key" for p in parameters):
        shared[409] = _SHARED["key reused"]
    if "requestBody" in operation:
        shared[413] = _SHARED["too large"]
    if get_session in calls:
        shared[503] = _SHARED["unavailable"]

    responses: dict[str, dict[str, Any]] = operation["responses"]
    for code, shared_answer in shared.items():
        if code not in own:  # the endpoint's own description is the more precise
            responses[str(code)] = copy.deepcopy(shared_answer)  # over FastAPI's 422 too
    for status, answer in responses.items():
        if not status.isdigit() or int(status) < 400:
            continue
        declared = own.get(int(status), own.get(status, {}))
        if "content" not in declared and "model" not in declared:
            answer["content"] = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        if status in _HEADERS_BY_STATUS:
            answer.setdefault("headers", {}).update(copy.deepcopy(_HEADERS_BY_STATUS[status]))


def _dependencies(dependant: Dependant) -> set[Callable[..., Any]]:
    """Every dependency a route runs, at any depth."""
    found: set[Callable[..., Any]] = set()
    waiting = [dependant]
    while waiting:
        current = waiting.pop()
        if current.call is not None:
            found.add(current.call)
        waiting.extend(current.dependencies)
    return found
