"""Shared API schema pieces: camelCase models, error answers, a tree's reference and pagination."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from pydantic.json_schema import SkipJsonSchema

WHITE_SPACE = r"\x09-\x0d\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
"""Every character `str.isspace` takes (what `str.strip` removes), as a regex class's content:
OpenAPI patterns are ECMAScript's, whose `\\s` is not Python's (U+FEFF is white space there)."""
NOT_BLANK = rf"[^{WHITE_SPACE}]"
"""A pattern (JSON Schema patterns are not anchored): something other than white space."""

NotNull = SkipJsonSchema[None]
"""`X | NotNull = None`: a field that may be left out (None) but never sent as null, as its
schema says: pair it with `refuse_null`."""


def exactly_one_of(*names: str) -> dict[str, Any]:
    """A model's `json_schema_extra`: exactly one of the fields `names` is given, not null (the
    model's own validator checks it; this says it in the OpenAPI document)."""
    return {
        "oneOf": [{"required": [n], "properties": {n: {"not": {"type": "null"}}}} for n in names]
    }


def refuse_null(value: object) -> object:
    """A field validator for a `NotNull` field: null is not "left out"."""
    if value is None:
        raise ValueError("may not be null; leave the field out to keep its value")
    return value


class CamelModel(BaseModel):
    """A model whose JSON uses the spec's camelCase names; Python code uses snake_case."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, from_attributes=True, extra="forbid"
    )


class FieldProblem(BaseModel):
    """One wrong parameter or field: where it is, what is wrong, and the kind of problem."""

    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """An error answer (RFC 9457 `application/problem+json`); some errors add members of their
    own, e.g. `cycle` (DependencyCycle) or `missing` (SkillLocked)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="Always `about:blank`: `code` names the kind of error.")
    title: str = Field(description="The HTTP status's phrase.")
    status: int
    detail: str = Field(description="What went wrong, for a person.")
    code: str = Field(description="Stable: the error's name (docs/api.md#errors).")
    instance: str | None = Field(None, description="The path of the request.")
    errors: list[FieldProblem] | None = Field(None, description="Each wrong field, located.")


class TreeRef(CamelModel):
    """A tree named by its id, slug and name."""

    id: str
    slug: str
    name: str


@dataclass(frozen=True)
class PageParams:
    """Which page of a list to return (`skilltree.dependencies.paging` reads it from the query)."""

    page: int = 1
    page_size: int = 20

    @property
    def offset(self) -> int:
        """Rows to skip before this page."""
        return (self.page - 1) * self.page_size


ItemT = TypeVar("ItemT")


class Page(CamelModel, Generic[ItemT]):
    """One page of a list, and how many items there are in all. A list's answer subclasses
    `Page[ItsItem]` under a name of its own (the OpenAPI document's schema name), adding any
    member of its own after these."""

    items: list[ItemT]
    total: int
    page: int
    page_size: int
