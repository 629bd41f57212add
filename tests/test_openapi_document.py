"""What the OpenAPI document says of errors, security and field rules (schemathesis then holds
the app to it: tests/test_openapi_contract.py)."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import pytest
from sqlalchemy import create_engine

from skilltree.app import create_app
from skilltree.schemas import NOT_BLANK, exactly_one_of
from skilltree.search.schemas import QUERY_PATTERN, checked_query

DOCUMENT: dict[str, Any] = create_app(create_engine("postgresql+psycopg://")).openapi()
OPERATIONS = [
    (method.upper(), path, operation)
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
]
BEARER_OPTIONAL = [{}, {"HTTPBearer": []}]
BEARER_REQUIRED = [{"HTTPBearer": []}]


def operation(method: str, path: str) -> dict[str, Any]:
    found: dict[str, Any] = DOCUMENT["paths"][f"/api/v1{path}"][method.lower()]
    return found


def schema(name: str) -> dict[str, Any]:
    found: dict[str, Any] = DOCUMENT["components"]["schemas"][name]
    return found


def ecmascript(pattern: str) -> re.Pattern[str]:
    """`pattern` as an OpenAPI (ECMAScript) regex means it: `$` is the end, never before a
    final line break as in Python."""
    return re.compile(pattern.replace("$", r"\Z"))


def test_every_error_answer_is_a_documented_problem() -> None:
    for method, path, op in OPERATIONS:
        for status, answer in op["responses"].items():
            if int(status) < 400:
                continue
            assert answer["content"] == {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            }, f"{method} {path} {status}"
    assert set(schema("Problem")["required"]) == {"type", "title", "status", "detail", "code"}
    assert "HTTPValidationError" not in DOCUMENT["components"]["schemas"]  # never sent


def test_every_operation_documents_422_and_503() -> None:
    for method, path, op in OPERATIONS:
        assert "422" in op["responses"], f"{method} {path}"
        if path != "/health":
            assert "503" in op["responses"], f"{method} {path}"
            assert "Retry-After" in op["responses"]["503"]["headers"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/auth/register"),
        ("POST", "/auth/login"),
        ("GET", "/categories"),
        ("GET", "/trees"),
        ("GET", "/trees/{slug}"),
        ("GET", "/skills/{skill_id}/prerequisites"),
        ("GET", "/leaderboard"),
        ("GET", "/search"),
    ],
)
def test_public_operations_take_a_token_without_needing_one(method: str, path: str) -> None:
    op = operation(method, path)
    assert op["security"] == BEARER_OPTIONAL
    assert "WWW-Authenticate" in op["responses"]["401"]["headers"]  # a token that is not valid


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/me"),
        ("POST", "/auth/logout"),
        ("POST", "/trees"),
        ("POST", "/skills/{skill_id}/complete"),
        ("GET", "/analytics/platform/active"),
    ],
)
def test_operations_for_the_signed_in_need_a_token(method: str, path: str) -> None:
    assert operation(method, path)["security"] == BEARER_REQUIRED
    assert "401" in operation(method, path)["responses"]


def test_the_health_check_takes_no_token() -> None:
    assert "security" not in DOCUMENT["paths"]["/health"]["get"]


def test_answers_follow_what_each_route_depends_on() -> None:
    assert set(operation("POST", "/trees")["responses"]) >= {"401", "403", "413", "422", "503"}
    assert {"403", "404", "409", "413"}.isdisjoint(operation("GET", "/categories")["responses"])
    assert {"404", "409"} <= set(operation("POST", "/skills/{skill_id}/start")["responses"])
    assert "404" in operation("GET", "/skills/{skill_id}/prerequisites")["responses"]
    assert "413" in operation("POST", "/skills/{skill_id}/activity")["responses"]


def test_sign_in_documents_its_throttle() -> None:
    throttled = operation("POST", "/auth/login")["responses"]["429"]
    assert throttled["headers"]["Retry-After"]["required"] is True


def test_parameter_rules_are_in_the_document() -> None:
    (q,) = (p for p in operation("GET", "/search")["parameters"] if p["name"] == "q")
    assert q["schema"]["minLength"] == 1
    assert q["schema"]["pattern"] == QUERY_PATTERN
    (key,) = (
        p
        for p in operation("POST", "/skills/{skill_id}/start")["parameters"]
        if p["name"] == "Idempotency-Key"
    )
    assert any(s.get("pattern") for s in key["schema"]["anyOf"])
    (first_day,) = (
        p
        for p in operation("GET", "/analytics/trees/{slug}/completions")["parameters"]
        if p["name"] == "from"
    )
    assert ecmascript(first_day["schema"]["pattern"]).search("1970-01-01")
    assert not ecmascript(first_day["schema"]["pattern"]).search("1969-12-31")


def test_body_rules_are_in_the_document() -> None:
    assert schema("LoginRequest")["oneOf"] == exactly_one_of("email", "username")["oneOf"]
    assert schema("TreeCreate")["oneOf"] == exactly_one_of("categorySlug", "categoryId")["oneOf"]
    assert schema("TreeUpdate")["not"] == {"required": ["categorySlug", "categoryId"]}
    # Fields that may be left out but not cleared: null is not in their schema.
    for model, field in [
        ("TreeUpdate", "difficulty"),
        ("TreeUpdate", "themeConfig"),
        ("SkillUpdate", "isActive"),
    ]:
        assert "anyOf" not in schema(model)["properties"][field], f"{model}.{field}"
    first_name = schema("RegisterRequest")["properties"]["firstName"]["anyOf"][0]
    assert first_name["pattern"] == NOT_BLANK


def _code_points() -> list[str]:
    """Every character a pattern and a Python rule could disagree on (controls, format and
    separator characters, white space) and a few ordinary ones."""
    return [
        char
        for char in map(chr, range(0x110000))
        if unicodedata.category(char) in {"Cc", "Cf", "Zs", "Zl", "Zp"} or char.isspace()
    ] + ["a", "é", "字", "😀"]


def _accepted(text: str) -> bool:
    try:
        checked_query(text)
    except ValueError:
        return False
    return True


def test_the_documented_q_pattern_is_the_rule_search_applies() -> None:
    pattern = ecmascript(QUERY_PATTERN)
    for char in _code_points():
        for text in (char, f"a{char}", f"{char}a{char}"):
            assert bool(pattern.search(text)) == _accepted(text), repr(text)


def test_not_blank_is_what_strip_leaves_something_of() -> None:
    pattern = ecmascript(NOT_BLANK)
    for char in _code_points():
        for text in (char, f"{char}a{char}"):
            assert bool(pattern.search(text)) == bool(text.strip()), repr(text)


@pytest.mark.parametrize(
    ("path", "answer", "last_page", "default_size", "max_size"),
    [
        ("/trees", "TreePage", 100_000, 20, 100),
        ("/search", "SearchPage", 10_000, 20, 100),
        ("/analytics/trees/{slug}/learners", "LearnerPage", 100_000, 50, 200),
    ],
)
def test_lists_answer_the_one_page_envelope(
    path: str, answer: str, last_page: int, default_size: int, max_size: int
) -> None:
    members = list(schema(answer)["properties"])
    assert members[:4] == ["items", "total", "page", "pageSize"]
    assert set(members) <= set(schema(answer)["required"])
    parameters = {p["name"]: p["schema"] for p in operation("GET", path)["parameters"]}
    assert parameters["page"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": last_page,
        "default": 1,
        "title": "Page",
    }
    assert parameters["pageSize"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": max_size,
        "default": default_size,
        "title": "Pagesize",
    }
