"""Catalog API: categories and published trees."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from skilltree.catalog import service
from skilltree.catalog.schemas import Category, TreeDocument, TreePage
from skilltree.dependencies import DbSession
from skilltree.models import DifficultyLevel

router = APIRouter(tags=["catalog"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {
        "description": "No published tree has this slug (problem+json, code `NotFound`).",
        "content": {"application/problem+json": {}},
    }
}


@router.get("/categories", response_model=list[Category])
def list_categories(session: DbSession) -> list[Category]:
    """Active categories, in display order (sort order, then name)."""
    return service.list_categories(session)


@router.get("/trees", response_model=TreePage)
def list_trees(
    session: DbSession,
    category: Annotated[str | None, Query(description="Only trees of this category slug.")] = None,
    difficulty: Annotated[DifficultyLevel | None, Query(description="Only this level.")] = None,
    tag: Annotated[str | None, Query(description="Only trees carrying this tag.")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=100)] = 20,
) -> TreePage:
    """Published trees, featured first then by name, filtered and paginated."""
    return service.browse_trees(
        session,
        category_slug=category,
        difficulty=difficulty,
        tag=tag,
        page=page,
        page_size=page_size,
    )


@router.get("/trees/{slug}", response_model=TreeDocument, responses=_NOT_FOUND)
def get_tree(slug: str, session: DbSession) -> Response:
    """A published tree with its category, prerequisite trees and every active skill (ordered
    by positionY, positionX), each with the ids of its `dependencies` and `dependents`."""
    # PostgreSQL builds the whole document; sending its text as it is skips a parse and a
    # re-serialisation of up to thousands of skills (see benchmarks/RESULTS.md).
    return Response(service.tree_document(session, slug), media_type="application/json")
