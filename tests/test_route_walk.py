"""Every route of the app, every parameter and body field, hostile values: never a 5xx.

The routes come from `app.routes` and their parameters and bodies from the app's own OpenAPI
document, so a new route or field is walked without editing this test. Each value goes alone into
one place of an otherwise plausible request (real slugs and ids where a name says so). A path or
query parameter is sent as an anonymous caller, a learner, the tree's author and an admin (for the
platform's figures); a body as the author, whom no route with a body refuses, so the value reaches
the deepest code it can (as anyone else it would stop at 401 or 403). Each request is rolled back
after it: none disturbs the next.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.routing import Mount

from tests.api import api_client
from tests.factories import Person, add_dependency, make_category, make_skill, make_tree

HOSTILE: dict[str, Any] = {
    "NUL": "\x00",
    "lone surrogate": "\ud800",
    "10,000 characters": "x" * 10_000,
    "negative number": -1,
    "huge number": 10**30,
}
"""Hostile values: text goes as text, numbers as JSON numbers (as digits in a URL)."""
FORMAT_EXTREMES: dict[str, dict[str, str]] = {
    "date": {"first day": "0001-01-01", "last day": "9999-12-31"},
}
"""Values valid for a string format that still reach past what arithmetic on them can hold."""
PLAUSIBLE_TEXT = "walk"
"""Matches every slug, key and username pattern of the API."""


def url_text(value: Any) -> str:
    """`value` percent-encoded as a client sends it; a lone surrogate as its (invalid) UTF-8."""
    return quote(str(value).encode("utf-8", "surrogatepass"), safe="")


@dataclass(frozen=True)
class Case:
    """One request: `value` in one place of `route`, the rest plausible."""

    method: str
    path: str
    place: str
    value_name: str
    query: dict[str, str]
    body: bytes | None = None
    """The JSON body (b"" for an empty one), or None for none at all."""
    in_body: bool = False

    def describe(self) -> str:
        return f"{self.method} {self.path} with {self.value_name} in {self.place}"


class Walk:
    """Builds the cases of each route from the app's OpenAPI document."""

    def __init__(self, app: FastAPI, known: dict[str, str]) -> None:
        self.spec = app.openapi()
        self.known = known
        """Real values for parameters and body fields of these names (a slug, a skill's id)."""

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        """`schema` with its `$ref` followed and a nullable `anyOf` reduced to its value."""
        while True:
            if "$ref" in schema:
                schema = self.spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
            elif "anyOf" in schema:
                schema = next(s for s in schema["anyOf"] if s.get("type") != "null")
            else:
                return schema

    def example(self, schema: dict[str, Any], name: str | None = None) -> Any:
        """A plausible value for `schema`: the known one for `name`, else from its rules."""
        if name in self.known:
            return self.known[name]
        schema = self.resolve(schema)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return schema["enum"][0]
        if "default" in schema:
            return copy.deepcopy(schema["default"])
        kind = schema.get("type")
        if kind == "object":
            return {
                key: self.example(field, key)
                for key, field in schema.get("properties", {}).items()
                if key in schema.get("required", []) or key in self.known
            }
        if kind == "array":
            items = self.resolve(schema.get("items", {}))
            return [self.example(items)] if items.get("type") == "object" else []
        if kind in {"integer", "number"}:
            return max(schema.get("minimum", 1), 1)
        if kind == "boolean":
            return False
        if schema.get("format") == "email":
            return "walker@example.com"
        if schema.get("format") == "date":
            return "2024-01-01"
        return PLAUSIBLE_TEXT * max(1, -(-schema.get("minLength", 1) // len(PLAUSIBLE_TEXT)))

    def places(
        self, schema: dict[str, Any], at: tuple[str | int, ...] = ()
    ) -> Iterator[tuple[tuple[str | int, ...], dict[str, Any]]]:
        """Every leaf of a body schema, at its path (into the first item of each list)."""
        schema = self.resolve(schema)
        if schema.get("type") == "object" and schema.get("properties"):
            for key, field in schema["properties"].items():
                yield from self.places(field, (*at, key))
        elif schema.get("type") == "array" and schema.get("items"):
            yield from self.places(schema["items"], (*at, 0))
        elif schema.get("type") == "object":  # a free-form document: a hostile member of it
            yield (*at, PLAUSIBLE_TEXT), {}
        else:
            yield at, schema

    def cases(self, method: str, path: str, in_schema: bool) -> Iterator[Case]:
        operation = self.spec["paths"].get(path, {}).get(method.lower()) if in_schema else None
        if operation is None:  # not documented: its path parameters only
            parameters = [
                {"name": name, "in": "path", "schema": {"type": "string"}}
                for name in re.findall(r"{(\w+)(?::\w+)?}", path)
            ]
        else:
            parameters = operation.get("parameters", [])
        parameters = [p for p in parameters if p["in"] in {"path", "query"}]
        plausible = {p["name"]: str(self.example(p["schema"], p["name"])) for p in parameters}

        def url(values: dict[str, str]) -> tuple[str, dict[str, str]]:
            """The path filled in and the query: `values` where given, else plausible ones."""
            filled = path
            query = {}
            for p in parameters:
                value = values.get(p["name"]) or url_text(plausible[p["name"]])
                if p["in"] == "path":
                    filled = re.sub(rf"{{{p['name']}(?::\w+)?}}", value, filled)
                elif p["name"] in values or p.get("required"):
                    query[p["name"]] = value
            return filled, query

        body_schema = None
        if operation is not None:
            content = operation.get("requestBody", {}).get("content", {})
            body_schema = content.get("application/json", {}).get("schema")
        body = self.example(body_schema) if body_schema is not None else None
        plausible_body = None if body is None else as_json(body)

        for p in parameters:
            extremes = FORMAT_EXTREMES.get(self.resolve(p["schema"]).get("format", ""), {})
            for value_name, value in (HOSTILE | extremes).items():
                filled, query = url({p["name"]: url_text(value)})
                place = f"{p['in']} {p['name']}"
                yield Case(method, filled, place, value_name, query, plausible_body)
        if body_schema is None:
            return
        filled, query = url({})
        yield Case(method, filled, "body", "nothing", query, b"", in_body=True)
        for value_name, value in HOSTILE.items():  # as the whole body
            yield Case(method, filled, "body", value_name, query, as_json(value), in_body=True)
        for at, leaf in self.places(body_schema):
            if leaf.get("type") == "boolean":
                continue
            values = HOSTILE | FORMAT_EXTREMES.get(leaf.get("format", ""), {})
            if leaf.get("type") in {"integer", "number"}:  # text there is only a type error
                values = {k: v for k, v in values.items() if not isinstance(v, str)}
            for value_name, value in values.items():
                yield Case(
                    method,
                    filled,
                    f"body {at}",
                    value_name,
                    query,
                    as_json(placed(body, at, value)),
                    in_body=True,
                )


def as_json(value: Any) -> bytes:
    """`value` as JSON text; a lone surrogate as its `\\ud800` escape, as a client sends it."""
    return json.dumps(value).encode()


def placed(body: Any, at: tuple[str | int, ...], value: Any) -> Any:
    """A copy of `body` with `value` at `at` (lists grow by one item where `at` goes past)."""
    result = copy.deepcopy(body)
    container = result
    for i, key in enumerate(at):
        last = i == len(at) - 1
        if isinstance(key, int):
            while len(container) <= key:
                container.append(value if last else {})
        if last:
            container[key] = value
        else:
            if not isinstance(key, int) and not isinstance(container.get(key), dict | list):
                container[key] = [] if isinstance(at[i + 1], int) else {}
            container = container[key]
    return result


def routes(app: FastAPI) -> Iterator[tuple[str, str, bool]]:
    """(method, path, documented) of every route of `app`; a mount as a path below it."""
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, Mount):
            yield "GET", f"{route.path}/{{path}}", False
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):
            yield method, route.path, bool(getattr(route, "include_in_schema", False))


@pytest.fixture
def client(engine: Engine, session: Session) -> Iterator[TestClient]:
    with api_client(engine, session, raise_server_exceptions=False) as client:
        yield client


def test_no_hostile_value_in_any_place_gets_a_server_error(
    client: TestClient, session: Session, author: Person, learner: Person, admin: Person
) -> None:
    category = make_category(session)
    tree = make_tree(session, category, created_by=author.id)
    first, second = make_skill(session, tree), make_skill(session, tree)
    add_dependency(session, second, first)
    session.commit()
    assert isinstance(client.app, FastAPI)
    walk = Walk(
        client.app,
        known={
            "slug": tree.slug,
            "skill_id": first.id,
            "category": category.slug,
            "categorySlug": category.slug,
        },
    )
    callers = {
        "anonymous": {},
        "learner": learner.headers,
        "author": author.headers,
        "admin": admin.headers,
    }

    failures: list[str] = []
    sent = 0
    for method, path, documented in routes(client.app):
        for case in walk.cases(method, path, documented):
            for caller, headers in callers.items():
                if case.in_body and caller != "author":
                    continue
                request = session.begin_nested()  # rolled back: no request disturbs the next
                try:
                    response = client.request(
                        case.method,
                        case.path + ("?" + urlencode(case.query, safe="%") if case.query else ""),
                        content=case.body,
                        headers=headers
                        | ({} if case.body is None else {"content-type": "application/json"}),
                    )
                finally:
                    request.rollback()
                sent += 1
                if response.status_code >= 500:
                    failures.append(
                        f"{case.describe()} as {caller}: {response.status_code} "
                        f"{response.text[:200]}"
                    )
    assert sent > 1000  # the walk found the routes
    assert failures == [], "\n".join(failures)
