"""Catalog API shapes: categories, tree summaries and the full tree document (camelCase JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from skilltree.models.enums import DifficultyLevel, SkillType
from skilltree.schemas import CamelModel


class Category(CamelModel):
    """A family of skill trees."""

    id: str
    name: str
    slug: str
    description: str | None
    color: str | None
    icon: str | None
    sort_order: int


class CategoryRef(CamelModel):
    """The category a tree belongs to, as shown with the tree."""

    id: str
    name: str
    slug: str


class TreeSummary(CamelModel):
    """A published tree as listed in the catalog."""

    id: str
    name: str
    slug: str
    short_description: str | None
    difficulty: DifficultyLevel
    estimated_hours: float | None
    tags: list[str]
    version: str
    is_featured: bool
    is_ai_generated: bool
    category: CategoryRef
    skill_count: int
    """How many active skills the tree has."""


class TreePage(CamelModel):
    """One page of published trees, and how many match in all."""

    items: list[TreeSummary]
    total: int
    page: int
    page_size: int


class TreeSkill(CamelModel):
    """An active skill of a tree, with its prerequisite edges to other active skills."""

    id: str
    skill_tree_id: str
    parent_skill_id: str | None
    key: str
    """Stable name of the skill within its tree, as tree files use it (not in the spec)."""
    name: str
    short_name: str | None
    description: str | None
    learning_objectives: list[str]
    skill_type: SkillType
    difficulty: DifficultyLevel
    estimated_minutes: int | None
    xp_value: int
    dependencies: list[str]
    """Ids of the skills to learn before this one."""
    dependents: list[str]
    """Ids of the skills that need this one."""
    position_x: float
    position_y: float
    node_size: int
    content: dict[str, Any] | None
    resources: list[Any] | None
    assessments: list[Any] | None
    is_active: bool
    is_optional: bool
    is_milestone: bool
    created_at: datetime
    updated_at: datetime
    created_by: str | None
    updated_by: str | None


class TreeDocument(CamelModel):
    """A published tree with its category, prerequisite trees and every active skill."""

    id: str
    category_id: str
    name: str
    slug: str
    description: str | None
    short_description: str | None
    difficulty: DifficultyLevel
    estimated_hours: float | None
    prerequisites: list[str]
    """Ids of the trees to learn before this one."""
    tags: list[str]
    version: str
    layout_config: dict[str, Any]
    theme_config: dict[str, Any]
    is_published: bool
    is_featured: bool
    is_ai_generated: bool
    created_at: datetime
    updated_at: datetime
    created_by: str | None
    updated_by: str | None
    category: CategoryRef
    skills: list[TreeSkill]
    """Ordered by positionY, positionX, id."""
