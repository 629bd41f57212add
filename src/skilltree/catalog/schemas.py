"""Catalog API shapes: categories, tree summaries, the full tree document, and what authors send
to write trees and skills (camelCase JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints, field_validator, model_validator

from skilltree.catalog.keys import KEY_PATTERN
from skilltree.documents import CompletionPolicy
from skilltree.models.catalog import SLUG_PATTERN
from skilltree.models.enums import (
    DifficultyLevel,
    SkillProgressStatus,
    SkillType,
    TreeProgressStatus,
)
from skilltree.schemas import CamelModel, NotNull, Page, TreeRef, exactly_one_of, refuse_null
from skilltree.storable import check_text


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
    is_published: bool
    """False for drafts, which only their author and admins see."""
    is_featured: bool
    is_ai_generated: bool
    category: CategoryRef
    skill_count: int
    """How many active skills the tree has."""


class TreePage(Page[TreeSummary]):
    """One page of published trees, and how many match in all."""


class SkillProgressOut(CamelModel):
    """The signed-in learner's state in a skill; only `status` when they have no row for it
    (LOCKED or AVAILABLE, derived from its prerequisites)."""

    status: SkillProgressStatus
    progress_percent: float | None = None
    time_spent_minutes: int | None = None
    attempts_count: int | None = None
    unlocked_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None


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
    completion_policy: CompletionPolicy
    """The methods that may complete the skill, with their parameters (not in the spec)."""
    is_active: bool
    is_optional: bool
    is_milestone: bool
    created_at: datetime
    updated_at: datetime
    created_by: str | None
    updated_by: str | None


class TreeProgressOut(CamelModel):
    """The signed-in learner's progress in a tree (null when not enrolled)."""

    status: TreeProgressStatus
    progress_percent: float
    skills_completed: int
    total_skills: int
    time_spent_minutes: int
    milestones_reached: list[str]
    started_at: datetime | None
    last_activity_at: datetime | None
    completed_at: datetime | None


class TreeDocument(CamelModel):
    """A tree (a draft: for its author and admins only) with its category, prerequisite trees
    and every active skill."""

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
    learning_order: list[str]
    """Active skill ids in a valid learning order (ties by positionY, positionX, id)."""
    layers: list[list[str]]
    """Active skill ids by topological layer (layer 0 needs nothing)."""
    progress: TreeProgressOut | None = None
    """The signed-in learner's progress in the tree; null when anonymous or not enrolled."""
    skill_states: dict[str, SkillProgressOut] | None = None
    """The signed-in learner's state in every active skill, by skill id; null when anonymous."""


MapSkill = tuple[str, str, str | None, float, float, int, int, int | None, bool, bool, list[int]]
"""A skill on a tree's map: [id, name, shortName, positionX, positionY, nodeSize, xpValue,
estimatedMinutes, isOptional, isMilestone, dependencies], `dependencies` being the indexes of its
prerequisites in the map's `skills`."""


class TreeMap(CamelModel):
    """What draws a tree (a draft: for its author and admins only): its own fields and, per
    active skill, only what the graph shows, as arrays in the order `skillFields` names. The
    same for every viewer; a skill's details come with GET /skills/{id}, and a learner's states
    with GET /me/trees/{slug}/states."""

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
    structure_version: int
    """The tree's version as its skills and edges go: bumped by every change to them."""
    layout_config: dict[str, Any]
    theme_config: dict[str, Any]
    is_published: bool
    is_featured: bool
    is_ai_generated: bool
    created_by: str | None
    category: CategoryRef
    skill_fields: list[str]
    """The names of a skill's values, in order: id, name, shortName, positionX, positionY,
    nodeSize, xpValue, estimatedMinutes, isOptional, isMilestone, dependencies."""
    skills: list[MapSkill]
    """Every active skill, ordered by positionY, positionX, then id (by code point)."""
    learning_order: list[int]
    """Indexes in `skills`, in a valid learning order."""
    layers: list[list[int]]
    """Indexes in `skills` by topological layer (layer 0 needs nothing)."""


class TreeStates(CamelModel):
    """A learner's standing in a tree: only what differs from the tree's defaults (a skill that
    needs nothing is AVAILABLE, any other LOCKED)."""

    structure_version: int
    """The tree's structure version these states are of (as the map's)."""
    progress: TreeProgressOut | None
    """The learner's progress in the tree; null when not enrolled."""
    skill_states: dict[str, SkillProgressOut]
    """By skill id: the skills the learner has a row for, and those their progress unlocked;
    every skill not listed is in its default state."""


class SkillDetail(TreeSkill):
    """A skill as its tree's authors see it: active or not, with every prerequisite edge."""


class TreePrerequisites(CamelModel):
    """The trees to learn before a tree, by name."""

    prerequisites: list[TreeRef]


# --- what authors send ---

Slug = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=SLUG_PATTERN)]
SkillKey = Annotated[str, StringConstraints(pattern=KEY_PATTERN)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
ShortName = Annotated[str, StringConstraints(min_length=1, max_length=50)]
ShortDescription = Annotated[str, StringConstraints(max_length=300)]
LongText = Annotated[str, StringConstraints(max_length=100_000)]
Line = Annotated[str, StringConstraints(min_length=1, max_length=500)]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=50)]
Version = Annotated[str, StringConstraints(min_length=1, max_length=50)]
Hours = Annotated[float, Field(ge=0, le=1_000_000, allow_inf_nan=False)]
Minutes = Annotated[int, Field(ge=0, le=10_000_000)]
Xp = Annotated[int, Field(ge=0, le=1_000_000)]
Coordinate = Annotated[float, Field(ge=-1e9, le=1e9, allow_inf_nan=False)]
NodeSize = Annotated[int, Field(ge=1, le=3)]
MAX_DEPENDENCIES = 500


class AuthoringInput(CamelModel):
    """A body that writes text columns, which PostgreSQL cannot store with NUL characters or lone
    surrogates (the API refuses them before; this keeps library callers as safe)."""

    @field_validator("*")
    @classmethod
    def _storable(cls, value: object) -> object:
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str):
                check_text(text)
        return value


class TreeCreate(AuthoringInput):
    """A new tree; its category by slug or by id (exactly one). JSON configs are checked against
    their documents (`layoutConfig`: theme, nodeSpacing, levelHeight, direction; `themeConfig`:
    colours #RRGGBB and fontFamily)."""

    model_config = ConfigDict(json_schema_extra=exactly_one_of("categorySlug", "categoryId"))

    category_slug: Slug | None = None
    category_id: Id | None = None
    slug: Slug
    name: Name
    description: LongText | None = None
    short_description: ShortDescription | None = None
    difficulty: DifficultyLevel = DifficultyLevel.BEGINNER
    estimated_hours: Hours | None = None
    tags: Annotated[list[Tag], Field(max_length=50)] = Field(default_factory=list)
    version: Version = "1.0.0"
    layout_config: dict[str, Any] = Field(default_factory=dict)
    theme_config: dict[str, Any] = Field(default_factory=dict)
    is_published: bool = False
    is_featured: bool = False
    is_ai_generated: bool = False

    @model_validator(mode="after")
    def _one_category(self) -> TreeCreate:
        if (self.category_slug is None) == (self.category_id is None):
            raise ValueError("give exactly one of categorySlug and categoryId")
        return self


class TreeUpdate(AuthoringInput):
    """The fields of a tree to change; the others keep their values. `null` clears a field that
    may be empty (description, shortDescription, estimatedHours) and is refused elsewhere."""

    model_config = ConfigDict(
        json_schema_extra={"not": {"required": ["categorySlug", "categoryId"]}}
    )

    category_slug: Slug | NotNull = None
    category_id: Id | NotNull = None
    slug: Slug | NotNull = None
    name: Name | NotNull = None
    description: LongText | None = None
    short_description: ShortDescription | None = None
    difficulty: DifficultyLevel | NotNull = None
    estimated_hours: Hours | None = None
    tags: Annotated[list[Tag], Field(max_length=50)] | NotNull = None
    version: Version | NotNull = None
    layout_config: dict[str, Any] | NotNull = None
    theme_config: dict[str, Any] | NotNull = None
    is_published: bool | NotNull = None
    is_featured: bool | NotNull = None
    is_ai_generated: bool | NotNull = None

    _not_null = field_validator(
        "category_slug",
        "category_id",
        "slug",
        "name",
        "difficulty",
        "tags",
        "version",
        "layout_config",
        "theme_config",
        "is_published",
        "is_featured",
        "is_ai_generated",
    )(refuse_null)

    @model_validator(mode="after")
    def _one_category(self) -> TreeUpdate:
        if {"category_slug", "category_id"} <= self.model_fields_set:
            raise ValueError("give at most one of categorySlug and categoryId")
        return self


class SkillCreate(AuthoringInput):
    """A new skill. Without `key`, one is made from the name. Without a position, the skill is
    placed by its topological layer: y is the layer times levelHeight, x its place in the layer
    times nodeSpacing (from the tree's layoutConfig, else 200 and 220). `dependencies` are ids of
    skills of the same tree. Without `completionPolicy`, it is completed by ASSESSMENT when it has
    assessments, else by MANUAL."""

    key: SkillKey | None = None
    name: Name
    short_name: ShortName | None = None
    description: LongText | None = None
    learning_objectives: Annotated[list[Line], Field(max_length=100)] = Field(default_factory=list)
    skill_type: SkillType = SkillType.KNOWLEDGE
    difficulty: DifficultyLevel = DifficultyLevel.BEGINNER
    estimated_minutes: Minutes | None = None
    xp_value: Xp = 10
    position_x: Coordinate | None = None
    position_y: Coordinate | None = None
    node_size: NodeSize = 1
    content: dict[str, Any] | None = None
    resources: list[Any] | None = None
    assessments: list[Any] | None = None
    completion_policy: CompletionPolicy | None = None
    """Left out or null: ASSESSMENT when the skill has assessments, else MANUAL."""
    is_active: bool = True
    is_optional: bool = False
    is_milestone: bool = False
    parent_skill_id: Id | None = None
    dependencies: Annotated[list[Id], Field(max_length=MAX_DEPENDENCIES)] = Field(
        default_factory=list
    )


class SkillUpdate(AuthoringInput):
    """The fields of a skill to change; the others keep their values. `null` clears a field that
    may be empty and is refused elsewhere. A skill stays in its tree; its dependencies are
    replaced with PUT /skills/{id}/dependencies."""

    key: SkillKey | NotNull = None
    name: Name | NotNull = None
    short_name: ShortName | None = None
    description: LongText | None = None
    learning_objectives: Annotated[list[Line], Field(max_length=100)] | NotNull = None
    skill_type: SkillType | NotNull = None
    difficulty: DifficultyLevel | NotNull = None
    estimated_minutes: Minutes | None = None
    xp_value: Xp | NotNull = None
    position_x: Coordinate | NotNull = None
    position_y: Coordinate | NotNull = None
    node_size: NodeSize | NotNull = None
    content: dict[str, Any] | None = None
    resources: list[Any] | None = None
    assessments: list[Any] | None = None
    completion_policy: CompletionPolicy | None = None
    """null: back to the default, from the skill's assessments as they are after this change
    (ASSESSMENT when it has some, else MANUAL). Changing assessments alone keeps the policy."""
    is_active: bool | NotNull = None
    is_optional: bool | NotNull = None
    is_milestone: bool | NotNull = None
    parent_skill_id: Id | None = None

    _not_null = field_validator(
        "key",
        "name",
        "learning_objectives",
        "skill_type",
        "difficulty",
        "xp_value",
        "position_x",
        "position_y",
        "node_size",
        "is_active",
        "is_optional",
        "is_milestone",
    )(refuse_null)


class DependencyList(CamelModel):
    """The whole list of a skill's direct prerequisites: ids of skills of the same tree."""

    dependencies: Annotated[list[Id], Field(max_length=MAX_DEPENDENCIES)]


class PrerequisiteList(CamelModel):
    """The whole list of a tree's prerequisite trees, by slug."""

    prerequisites: Annotated[list[Slug], Field(max_length=100)]
