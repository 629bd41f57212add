"""The catalog as learners browse it: categories, published trees, one tree with its skills."""

from __future__ import annotations

from sqlalchemy.orm import Session

from skilltree.catalog import repository
from skilltree.catalog.schemas import Category, CategoryRef, TreePage, TreeSummary
from skilltree.errors import NotFound
from skilltree.models import DifficultyLevel


def list_categories(session: Session) -> list[Category]:
    """Every active category, in display order."""
    return [Category.model_validate(c) for c in repository.active_categories(session)]


def browse_trees(
    session: Session,
    *,
    category_slug: str | None = None,
    difficulty: DifficultyLevel | None = None,
    tag: str | None = None,
    page: int = 1,
    page_size: int = 20,
) -> TreePage:
    """One page of the published trees that match the filters, featured trees first."""
    total = repository.count_published_trees(
        session, category_slug=category_slug, difficulty=difficulty, tag=tag
    )
    rows = repository.published_trees(
        session,
        category_slug=category_slug,
        difficulty=difficulty,
        tag=tag,
        offset=(page - 1) * page_size,
        limit=page_size,
    )
    items = [
        TreeSummary(
            id=tree.id,
            name=tree.name,
            slug=tree.slug,
            short_description=tree.short_description,
            difficulty=tree.difficulty,
            estimated_hours=tree.estimated_hours,
            tags=tree.tags,
            version=tree.version,
            is_featured=tree.is_featured,
            is_ai_generated=tree.is_ai_generated,
            category=CategoryRef.model_validate(category),
            skill_count=skill_count,
        )
        for tree, category, skill_count in rows
    ]
    return TreePage(items=items, total=total, page=page, page_size=page_size)


def tree_document(session: Session, slug: str) -> str:
    """The published tree `slug` with all its active skills, as JSON text (a TreeDocument)."""
    document = repository.tree_document_json(session, slug)
    if document is None:
        raise NotFound(f"No published skill tree has the slug {slug!r}.")
    return document
