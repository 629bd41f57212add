"""Shared API schema pieces: camelCase models, a tree's reference and pagination."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class CamelModel(BaseModel):
    """A model whose JSON uses the spec's camelCase names; Python code uses snake_case."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, from_attributes=True, extra="forbid"
    )


class TreeRef(CamelModel):
    """A tree named by its id, slug and name."""

    id: str
    slug: str
    name: str


class PageParams(CamelModel):
    """Which page of a list to return."""

    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(20, ge=1, le=100)

    @property
    def offset(self) -> int:
        """Rows to skip before this page."""
        return (self.page - 1) * self.page_size
