"""The tree file: a whole skill tree as one versioned JSON document (see docs/tree-format.md).

Like `skilltree.documents`, fields are named exactly as the file's camelCase keys, unknown keys are
refused and types are strict (`"60"` is not a number); enums take their string values. The JSON
columns (`content`, `resources`, `assessments`, `layoutConfig`, `themeConfig`) are only shaped as
JSON objects or arrays here: the service checks each against its `skilltree.documents` model (the
question bank and the rubric against theirs).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from skilltree.catalog.keys import KEY_PATTERN
from skilltree.documents import CompletionPolicy, Number
from skilltree.models.catalog import SLUG_PATTERN
from skilltree.models.enums import DifficultyLevel, SkillType
from skilltree.schemas import CamelModel
from skilltree.storable import check_text

MAX_TREE_FILE_BYTES = 50 * 1024 * 1024
"""The largest tree file POST /api/v1/trees/import accepts (other bodies keep the API's limit)."""
MAX_INT = 2**31 - 1


Text = Annotated[str, AfterValidator(check_text)]
"""Text PostgreSQL can store (`parse_json` refuses any other first; this keeps parsed documents
given to `validate_tree_file` as safe)."""
Key = Annotated[str, StringConstraints(pattern=KEY_PATTERN)]
"""A skill's key: unique within its tree, as `skilltree.catalog.keys` makes them."""
Slug = Annotated[str, StringConstraints(max_length=200, pattern=SLUG_PATTERN)]
Count = Annotated[int, Field(ge=0, le=MAX_INT)]
Lenient = Field(strict=False)
"""Enums take their string value from JSON (strict mode would want the Python enum)."""


class FileModel(BaseModel):
    """Base of the tree-file models: strict, closed to unknown keys."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Position(FileModel):
    """Where a skill's node sits in the tree's drawing."""

    x: Annotated[Number, Field(allow_inf_nan=False)]
    y: Annotated[Number, Field(allow_inf_nan=False)]


class TreeEntry(FileModel):
    """The tree itself: catalogue fields, category and prerequisite trees by slug."""

    slug: Slug
    name: Annotated[Text, StringConstraints(min_length=1, max_length=200)]
    category: Slug
    """The slug of an existing category."""
    description: Text | None = None
    shortDescription: Annotated[Text, StringConstraints(max_length=300)] | None = None
    difficulty: Annotated[DifficultyLevel, Lenient] = DifficultyLevel.BEGINNER
    estimatedHours: Annotated[Number, Field(ge=0, allow_inf_nan=False)] | None = None
    tags: list[Text] = []
    version: Annotated[Text, StringConstraints(min_length=1, max_length=50)] = "1.0.0"
    layoutConfig: dict[str, Any] = {}
    """A `skilltree.documents.LayoutConfig`."""
    themeConfig: dict[str, Any] = {}
    """A `skilltree.documents.ThemeConfig`."""
    isFeatured: bool = False
    isAiGenerated: bool = False
    prerequisites: list[Slug] = []
    """Slugs of existing trees to learn before this one."""


class SkillEntry(FileModel):
    """One skill, named by its key; it refers to other skills of the file by key."""

    key: Key
    name: Annotated[Text, StringConstraints(min_length=1, max_length=200)]
    shortName: Annotated[Text, StringConstraints(max_length=50)] | None = None
    description: Text | None = None
    learningObjectives: list[Text] = []
    skillType: Annotated[SkillType, Lenient] = SkillType.KNOWLEDGE
    difficulty: Annotated[DifficultyLevel, Lenient] = DifficultyLevel.BEGINNER
    estimatedMinutes: Count | None = None
    xpValue: Count = 10
    dependencies: list[str] = []
    """Keys of the skills to learn before this one."""
    parent: str | None = None
    """Key of the skill this one is grouped under (the spec's `parentSkillId`), if any."""
    position: Position | None = None
    """Omitted: placed by layer (see docs/tree-format.md)."""
    nodeSize: Annotated[int, Field(ge=1, le=3)] = 1
    content: dict[str, Any] | None = None
    """A `skilltree.documents.SkillContent`."""
    resources: list[Any] | None = None
    """A `skilltree.documents.SkillResources`."""
    assessments: list[Any] | None = None
    """A `skilltree.documents.SkillAssessments`."""
    completionPolicy: CompletionPolicy | None = None
    """The methods that complete the skill, with their parameters; left out or null: ASSESSMENT
    when the skill has assessments, else MANUAL (`documents.default_completion_policy`)."""
    questionBank: dict[str, Any] | None = None
    """A `skilltree.assessments.schemas.QuestionBank`, keys and explanations included (exported
    only for the tree's author, admins and the command line); left out or null: no bank."""
    rubric: dict[str, Any] | None = None
    """A `skilltree.reviews.schemas.Rubric`: the criteria a reviewer scores a PROJECT submission
    by (exported to anyone who may export the tree: learners see it too); left out or null: no
    rubric."""
    isActive: bool = True
    isOptional: bool = False
    isMilestone: bool = False


class TreeFile(FileModel):
    """A whole tree: `{"format": "skilltree.tree", "version": 1, "tree": ..., "skills": [...]}`."""

    format: Literal["skilltree.tree"] = "skilltree.tree"
    version: Literal[1] = 1
    tree: TreeEntry
    skills: list[SkillEntry]


class Envelope(FileModel):
    """The outer shape alone, checked before the tree and each skill are (so all errors show)."""

    format: Literal["skilltree.tree"]
    version: Literal[1]
    tree: dict[str, Any]
    skills: list[Any]


class ImportSummary(CamelModel):
    """What an import did to the tree `slug` and its skills (matched by key)."""

    slug: str
    tree_created: bool
    is_published: bool
    created: int
    """Skills whose key was new."""
    updated: int
    """Skills whose key was known and whose fields or dependencies changed."""
    unchanged: int
    """Skills whose key was known and that were already exactly as in the file."""
    removed: int
    """Skills whose key is no longer in the file (with their edges and learners' progress)."""
    dependencies: int
    """Dependency edges of the tree after the import."""
