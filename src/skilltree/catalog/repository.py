"""Catalog queries: active categories, published trees, and the tree document SQL."""

from __future__ import annotations

from collections.abc import Sequence
from importlib.resources import files
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, func, select
from sqlalchemy.orm import Session

from skilltree.models import DifficultyLevel, Skill, SkillCategory, SkillTree

# Written in psycopg's placeholder style and run as it is (exec_driver_sql), so the benchmark's
# floor executes exactly the same text through plain psycopg.
TREE_DOCUMENT_SQL = files("skilltree.catalog").joinpath("tree_document.sql").read_text("utf-8")

_ACTIVE_SKILL_COUNT = (
    select(func.count())
    .where(Skill.skill_tree_id == SkillTree.id, Skill.is_active)
    .correlate(SkillTree)
    .scalar_subquery()
)


def active_categories(session: Session) -> Sequence[SkillCategory]:
    """Active categories by sort order, then name."""
    query = (
        select(SkillCategory)
        .where(SkillCategory.is_active)
        .order_by(SkillCategory.sort_order, SkillCategory.name)
    )
    return session.scalars(query).all()


def _published_tree_conditions(
    category_slug: str | None, difficulty: DifficultyLevel | None, tag: str | None
) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = []
    if category_slug is not None:
        conditions.append(SkillCategory.slug == category_slug)
    if difficulty is not None:
        conditions.append(SkillTree.difficulty == difficulty)
    if tag is not None:
        # `tags @> ARRAY[tag]`, which the GIN index idx_tree_tags serves.
        conditions.append(SkillTree.tags.contains([tag]))
    return and_(SkillTree.is_published, *conditions)


def count_published_trees(
    session: Session,
    *,
    category_slug: str | None = None,
    difficulty: DifficultyLevel | None = None,
    tag: str | None = None,
) -> int:
    """How many published trees match the filters."""
    query = (
        select(func.count())
        .select_from(SkillTree)
        .join(SkillCategory, SkillCategory.id == SkillTree.category_id)
        .where(_published_tree_conditions(category_slug, difficulty, tag))
    )
    return session.scalar(query) or 0


def published_trees(
    session: Session,
    *,
    category_slug: str | None = None,
    difficulty: DifficultyLevel | None = None,
    tag: str | None = None,
    offset: int = 0,
    limit: int = 20,
) -> Sequence[Row[tuple[SkillTree, SkillCategory, int]]]:
    """Published trees matching the filters, featured first, then by name: (tree, category, skill
    count) rows."""
    query = (
        select(SkillTree, SkillCategory, _ACTIVE_SKILL_COUNT)
        .join(SkillCategory, SkillCategory.id == SkillTree.category_id)
        .where(_published_tree_conditions(category_slug, difficulty, tag))
        .order_by(SkillTree.is_featured.desc(), SkillTree.name, SkillTree.id)
        .offset(offset)
        .limit(limit)
    )
    return session.execute(query).tuples().all()


def tree_document_json(session: Session, slug: str) -> str | None:
    """The JSON text of the published tree `slug` with its active skills, built by PostgreSQL in
    one statement; None when no published tree has that slug."""
    parameters: dict[str, Any] = {"slug": slug}
    result = session.connection().exec_driver_sql(TREE_DOCUMENT_SQL, parameters)
    document: str | None = result.scalar()
    return document
