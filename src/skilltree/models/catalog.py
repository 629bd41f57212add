"""Categories, skill trees, skills and the prerequisite edges between them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    FetchedValue,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    func,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from skilltree.catalog.keys import KEY_PATTERN
from skilltree.db.base import AuditMixin, Base, IdMixin, TimestampMixin
from skilltree.models.enums import DifficultyLevel, SkillType, pg_enum

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
HEX_COLOUR_PATTERN = r"^#[0-9A-Fa-f]{6}$"


class SkillCategory(IdMixin, TimestampMixin, Base):
    """A family of skill trees (Programming, Web Development, ...)."""

    __tablename__ = "skill_categories"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    color: Mapped[str | None] = mapped_column(String(7))
    icon: Mapped[str | None] = mapped_column(String(100))
    sort_order: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))

    __table_args__ = (
        Index("idx_category_slug", "slug"),
        Index("idx_category_sort", "sort_order"),
        CheckConstraint(f"slug ~ '{SLUG_PATTERN}'", name="slug_kebab_case"),
        CheckConstraint(f"color ~ '{HEX_COLOUR_PATTERN}'", name="color_hex"),
    )


class SkillTree(IdMixin, AuditMixin, Base):
    """A published or draft graph of skills that a learner works through."""

    __tablename__ = "skill_trees"

    category_id: Mapped[str] = mapped_column(
        Text, ForeignKey("skill_categories.id", ondelete="RESTRICT", onupdate="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    short_description: Mapped[str | None] = mapped_column(String(300))
    difficulty: Mapped[DifficultyLevel] = mapped_column(
        pg_enum(DifficultyLevel), server_default=DifficultyLevel.BEGINNER.value
    )
    estimated_hours: Mapped[float | None] = mapped_column(Float)
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"))
    version: Mapped[str] = mapped_column(Text, server_default=text("'1.0.0'"))
    layout_config: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    theme_config: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    is_published: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    is_featured: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    is_ai_generated: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    search_vector: Mapped[str] = mapped_column(TSVECTOR, deferred=True)
    """Weighted search document, kept by a trigger in the configured text-search configuration
    (name A, tags B, short description and description C; docs/search.md)."""
    structure_version: Mapped[int] = mapped_column(BigInteger, server_default=text("1"))
    """Bumped by triggers on any change to what the tree's document shows (not in the spec)."""

    __table_args__ = (
        Index("idx_tree_category_published", "category_id", "is_published"),
        Index("idx_tree_slug", "slug"),
        Index("idx_tree_difficulty", "difficulty", "is_published"),
        Index("idx_tree_tags", "tags", postgresql_using="gin"),
        Index("idx_tree_fulltext", "search_vector", postgresql_using="gin"),
        Index(
            "idx_tree_name_trgm",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        ),
        # Type-ahead's "starts with" as a B-tree range.
        Index(
            "idx_tree_name_prefix",
            func.lower(literal_column("name")).label("lower_name"),
            postgresql_ops={"lower_name": "text_pattern_ops"},
        ),
        CheckConstraint(f"slug ~ '{SLUG_PATTERN}'", name="slug_kebab_case"),
        CheckConstraint("estimated_hours >= 0", name="estimated_hours_non_negative"),
    )


class SkillTreePrerequisite(Base):
    """Tree `skill_tree_id` asks that tree `prerequisite_id` be learnt first."""

    __tablename__ = "skill_tree_prerequisites"

    skill_tree_id: Mapped[str] = mapped_column(
        Text, ForeignKey("skill_trees.id", ondelete="CASCADE", onupdate="CASCADE")
    )
    prerequisite_id: Mapped[str] = mapped_column(
        Text, ForeignKey("skill_trees.id", ondelete="CASCADE", onupdate="CASCADE")
    )

    __table_args__ = (
        # The spec's GIN index on the `prerequisites` array becomes this edge table's key.
        PrimaryKeyConstraint("skill_tree_id", "prerequisite_id", name="idx_tree_prerequisites"),
        Index("idx_tree_prerequisite_dependents", "prerequisite_id"),
        CheckConstraint("skill_tree_id <> prerequisite_id", name="not_self"),
    )


class Skill(IdMixin, AuditMixin, Base):
    """One thing to learn, a node of its tree's prerequisite graph."""

    __tablename__ = "skills"

    skill_tree_id: Mapped[str] = mapped_column(
        Text, ForeignKey("skill_trees.id", ondelete="CASCADE", onupdate="CASCADE")
    )
    parent_skill_id: Mapped[str | None] = mapped_column(
        Text, ForeignKey("skills.id", ondelete="SET NULL", onupdate="CASCADE")
    )
    key: Mapped[str] = mapped_column(String(100))
    """Stable name of the skill within its tree, used by tree files (not in the spec)."""
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str | None] = mapped_column(String(50))
    description: Mapped[str | None] = mapped_column(Text)
    learning_objectives: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default=text("'{}'::text[]")
    )
    skill_type: Mapped[SkillType] = mapped_column(
        pg_enum(SkillType), server_default=SkillType.KNOWLEDGE.value
    )
    difficulty: Mapped[DifficultyLevel] = mapped_column(
        pg_enum(DifficultyLevel), server_default=DifficultyLevel.BEGINNER.value
    )
    estimated_minutes: Mapped[int | None] = mapped_column(Integer)
    xp_value: Mapped[int] = mapped_column(Integer, server_default=text("10"))
    position_x: Mapped[float] = mapped_column(Float, server_default=text("0"))
    position_y: Mapped[float] = mapped_column(Float, server_default=text("0"))
    node_size: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    content: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    resources: Mapped[list[Any] | None] = mapped_column(JSONB)
    assessments: Mapped[list[Any] | None] = mapped_column(JSONB)
    completion_policy: Mapped[dict[str, Any]] = mapped_column(
        JSONB(none_as_null=True), server_default=FetchedValue(), server_onupdate=FetchedValue()
    )
    """The methods that may complete the skill, with their parameters (a
    `skilltree.documents.CompletionPolicy`; not in the spec). Written as None (SQL NULL) or left
    out, the database sets the default: ASSESSMENT with assessments, else MANUAL (the trigger
    `skills_completion_policy_default`, live in db/schema/)."""
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    is_optional: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    is_milestone: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    search_vector: Mapped[str] = mapped_column(TSVECTOR, deferred=True)
    """Weighted search document, kept by a trigger in the configured text-search configuration
    (name A, short name B, description and learning objectives C; docs/search.md)."""

    __table_args__ = (
        # Target of the composite foreign keys that keep edges and progress inside one tree.
        UniqueConstraint("id", "skill_tree_id", name="skills_id_skill_tree_id_key"),
        UniqueConstraint("skill_tree_id", "key", name="skills_skill_tree_id_key_key"),
        Index("idx_skill_tree_active", "skill_tree_id", "is_active"),
        Index("idx_skill_parent", "parent_skill_id"),
        Index("idx_skill_type_difficulty", "skill_type", "difficulty"),
        Index("idx_skill_position", "position_x", "position_y"),
        Index("idx_skill_milestones", "is_milestone", "is_active"),
        Index("idx_skill_fulltext", "search_vector", postgresql_using="gin"),
        Index(
            "idx_skill_name_trgm",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        ),
        # Type-ahead's "starts with" as a B-tree range, carrying what it reads.
        Index(
            "idx_skill_name_prefix",
            func.lower(literal_column("name")).label("lower_name"),
            postgresql_ops={"lower_name": "text_pattern_ops"},
            postgresql_include=["name", "skill_tree_id", "is_active"],
        ),
        CheckConstraint("node_size BETWEEN 1 AND 3", name="node_size_range"),
        CheckConstraint("xp_value >= 0", name="xp_value_non_negative"),
        CheckConstraint("estimated_minutes >= 0", name="estimated_minutes_non_negative"),
        CheckConstraint("parent_skill_id <> id", name="parent_not_self"),
        CheckConstraint(f"key ~ '{KEY_PATTERN}'", name="key_format"),
        CheckConstraint(
            "completion_policy_is_valid(completion_policy)", name="completion_policy_valid"
        ),
    )


class SkillDependency(Base):
    """Skill `skill_id` needs skill `depends_on_id` (same tree) first."""

    __tablename__ = "skill_dependencies"

    skill_id: Mapped[str] = mapped_column(Text)
    depends_on_id: Mapped[str] = mapped_column(Text)
    skill_tree_id: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        # The spec's GIN indexes on `dependencies[]` / `dependents[]` become these two B-trees.
        PrimaryKeyConstraint("skill_id", "depends_on_id", name="idx_skill_dependencies"),
        Index("idx_skill_dependents", "depends_on_id", "skill_id"),
        # One tree's edges (its graph's read) without scanning every tree's (migration 0032).
        Index("idx_skill_dependencies_tree", "skill_tree_id"),
        ForeignKeyConstraint(
            ["skill_id", "skill_tree_id"],
            ["skills.id", "skills.skill_tree_id"],
            name="skill_dependencies_skill_fkey",
            ondelete="CASCADE",
            onupdate="CASCADE",
        ),
        ForeignKeyConstraint(
            ["depends_on_id", "skill_tree_id"],
            ["skills.id", "skills.skill_tree_id"],
            name="skill_dependencies_depends_on_fkey",
            ondelete="CASCADE",
            onupdate="CASCADE",
        ),
        CheckConstraint("skill_id <> depends_on_id", name="not_self"),
    )


# The tables' comments, as migration 0035 writes them.
SKILL_RANKS_COMMENT = (
    'What "what next" ranks an active skill by, of its tree\'s graph of active skills: its'
    " longest chain of dependents, its direct dependents, its direct prerequisites (0: a root)."
    " Written by the tree's writers (skilltree.graph.ranks); current only while its tree is in"
    " skill_tree_ranks."
)
SKILL_TREE_RANKS_COMMENT = (
    "The trees whose skill_ranks are current: a change of a tree's graph, by any writer, deletes"
    " its row (skills_bump_tree_versions, skill_dependencies_bump_tree_versions);"
    " skilltree.graph.ranks writes it again with the ranks."
)


class SkillRank(Base):
    """What "what next" ranks an active skill by, stored by its tree's writers (graph.ranks)."""

    __tablename__ = "skill_ranks"

    skill_id: Mapped[str] = mapped_column(Text, primary_key=True)
    skill_tree_id: Mapped[str] = mapped_column(Text)
    chain_ahead: Mapped[int] = mapped_column(Integer)
    """The longest chain of active skills that need it, one after another (0: none)."""
    dependents: Mapped[int] = mapped_column(Integer)
    """Its active direct dependents."""
    prerequisites: Mapped[int] = mapped_column(Integer)
    """Its active direct prerequisites (0: a root)."""

    __table_args__ = (
        # A tree's ranks (graph.ranks) and its roots (what next, enrolling) by one index.
        Index("idx_skill_ranks_tree", "skill_tree_id", "prerequisites"),
        ForeignKeyConstraint(
            ["skill_id", "skill_tree_id"],
            ["skills.id", "skills.skill_tree_id"],
            name="skill_ranks_skill_fkey",
            ondelete="CASCADE",
            onupdate="CASCADE",
        ),
        CheckConstraint(
            "chain_ahead >= 0 AND dependents >= 0 AND prerequisites >= 0", name="counts"
        ),
        {"comment": SKILL_RANKS_COMMENT},
    )


class SkillTreeRanks(Base):
    """A tree whose `skill_ranks` are current (graph.ranks)."""

    __tablename__ = "skill_tree_ranks"

    skill_tree_id: Mapped[str] = mapped_column(
        Text, ForeignKey("skill_trees.id", ondelete="CASCADE", onupdate="CASCADE"), primary_key=True
    )
    active_skills: Mapped[int] = mapped_column(
        Integer,
        comment="The tree's active skills when its ranks were stored (what enrolling counts as"
        " the enrolment's total_skills).",
    )
    """Its active skills, counted with the ranks (migration 0046): what enrolling reads."""

    __table_args__ = (
        CheckConstraint("active_skills >= 0", name="active_skills"),
        {"comment": SKILL_TREE_RANKS_COMMENT},
    )


class SkillTreeGraph(Base):
    """A tree's graph as its writers stored it, valid at its structure version (graph.snapshots:
    what the first request of a tree version reads instead of every skill and edge)."""

    __tablename__ = "skill_tree_graphs"

    skill_tree_id: Mapped[str] = mapped_column(
        Text, ForeignKey("skill_trees.id", ondelete="CASCADE", onupdate="CASCADE"), primary_key=True
    )
    structure_version: Mapped[int] = mapped_column(BigInteger)
    # Each column of the skills by place is one bytea laid out as graph.packing says.
    skills: Mapped[int] = mapped_column(Integer)
    edges: Mapped[int] = mapped_column(Integer)
    ids: Mapped[bytes] = mapped_column(LargeBinary)
    """The active skills by position (y, x, then the id's code points); "place" below: an index."""
    names: Mapped[bytes] = mapped_column(LargeBinary)
    positions_y: Mapped[bytes] = mapped_column(LargeBinary)
    positions_x: Mapped[bytes] = mapped_column(LargeBinary)
    estimated_minutes: Mapped[bytes] = mapped_column(LargeBinary)
    optional: Mapped[bytes] = mapped_column(LargeBinary)
    xp_values: Mapped[bytes] = mapped_column(LargeBinary)
    milestones: Mapped[bytes] = mapped_column(LargeBinary)
    prerequisite_ends: Mapped[bytes] = mapped_column(LargeBinary)
    """Where each skill's active prerequisites end in `prerequisites`, by place (cumulative)."""
    prerequisites: Mapped[bytes] = mapped_column(LargeBinary)
    """Their places, skill after skill (each skill's in ascending order)."""
    dependent_ends: Mapped[bytes] = mapped_column(LargeBinary)
    dependents: Mapped[bytes] = mapped_column(LargeBinary)
    """Each skill's active direct dependents as places, as `prerequisites` (and `dependent_ends`
    as `prerequisite_ends`)."""
    roots: Mapped[bytes] = mapped_column(LargeBinary)
    """The places of the skills that need no other, ascending."""
    chains_ahead: Mapped[bytes] = mapped_column(LargeBinary)
    """Each skill's longest chain of dependents, by place."""
    drawn_top_down: Mapped[bool] = mapped_column(Boolean)
    """Whether every prerequisite comes before its skill by position."""

    __table_args__ = (
        CheckConstraint(
            "skills >= 0 AND edges >= 0"
            " AND length(positions_y) = 8 * skills AND length(positions_x) = 8 * skills"
            " AND length(estimated_minutes) = 4 * skills AND length(optional) = skills"
            " AND length(xp_values) = 4 * skills AND length(milestones) = skills"
            " AND length(prerequisite_ends) = 4 * skills AND length(prerequisites) = 4 * edges"
            " AND length(dependent_ends) = 4 * skills AND length(dependents) = 4 * edges"
            " AND length(roots) % 4 = 0 AND length(roots) <= 4 * skills"
            " AND length(chains_ahead) = 4 * skills",
            name="lengths",
        ),
        {
            "comment": "A tree's graph of active skills as the first request of a tree version"
            " reads it (skilltree.graph.snapshots): its skills by position with their facts,"
            " each one's active prerequisites and dependents as places, its chain ahead, whether"
            " every prerequisite comes before its skill; a column of bytes each"
            " (skilltree.graph.packing). Stored by the tree's writers; valid only at its"
            " structure_version."
        },
    )
