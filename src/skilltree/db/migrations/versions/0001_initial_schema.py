"""initial schema: every table, enum, index and constraint of the spec, plus updated_at triggers

Revision ID: 0001
Revises:
Create Date: 2026-11-22 01:32:18.722881
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# Tables with an `updated_at` column; a trigger keeps it current whatever the writer.
UPDATED_AT_TABLES = (
    "users",
    "user_profiles",
    "skill_categories",
    "skill_trees",
    "skills",
    "user_skill_tree_progress",
    "user_skill_progress",
    "achievements",
)
ENUM_TYPES = (
    "DifficultyLevel",
    "SkillType",
    "TreeProgressStatus",
    "SkillProgressStatus",
    "CompletionMethod",
    "AchievementCategory",
    "AchievementRarity",
)

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "achievements",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "PROGRESS",
                "STREAK",
                "EXPLORATION",
                "MASTERY",
                "SOCIAL",
                "TIME",
                name="AchievementCategory",
            ),
            server_default="PROGRESS",
            nullable=False,
        ),
        sa.Column("criteria", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("xp_reward", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("badge_icon", sa.Text(), nullable=True),
        sa.Column("badge_color", sa.String(length=7), nullable=True),
        sa.Column(
            "rarity",
            sa.Enum("COMMON", "UNCOMMON", "RARE", "LEGENDARY", name="AchievementRarity"),
            server_default="COMMON",
            nullable=False,
        ),
        sa.Column("is_visible", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "badge_color ~ '^#[0-9A-Fa-f]{6}$'", name=op.f("achievements_badge_color_hex_check")
        ),
        sa.CheckConstraint(
            "xp_reward >= 0", name=op.f("achievements_xp_reward_non_negative_check")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("achievements_pkey")),
    )
    op.create_index(
        "idx_achievement_category", "achievements", ["category", "is_active"], unique=False
    )
    op.create_index("idx_achievement_rarity", "achievements", ["rarity"], unique=False)
    op.create_table(
        "skill_categories",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("color", sa.String(length=7), nullable=True),
        sa.Column("icon", sa.String(length=100), nullable=True),
        sa.Column("sort_order", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "color ~ '^#[0-9A-Fa-f]{6}$'", name=op.f("skill_categories_color_hex_check")
        ),
        sa.CheckConstraint(
            "slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name=op.f("skill_categories_slug_kebab_case_check")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("skill_categories_pkey")),
        sa.UniqueConstraint("name", name=op.f("skill_categories_name_key")),
        sa.UniqueConstraint("slug", name=op.f("skill_categories_slug_key")),
    )
    op.create_index("idx_category_slug", "skill_categories", ["slug"], unique=False)
    op.create_index("idx_category_sort", "skill_categories", ["sort_order"], unique=False)
    op.create_table(
        "users",
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("username", sa.String(length=50), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=True),
        sa.Column("last_name", sa.String(length=100), nullable=True),
        sa.Column("avatar_url", sa.Text(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("email_verified", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.Column("updated_by", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("users_pkey")),
        sa.UniqueConstraint("email", name=op.f("users_email_key")),
        sa.UniqueConstraint("username", name=op.f("users_username_key")),
    )
    op.create_index("idx_user_activity", "users", ["is_active", "last_login_at"], unique=False)
    op.create_index("idx_user_email", "users", ["email"], unique=False)
    op.create_index("idx_user_username", "users", ["username"], unique=False)
    op.create_table(
        "skill_trees",
        sa.Column("category_id", sa.Text(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("short_description", sa.String(length=300), nullable=True),
        sa.Column(
            "difficulty",
            sa.Enum("BEGINNER", "INTERMEDIATE", "ADVANCED", "EXPERT", name="DifficultyLevel"),
            server_default="BEGINNER",
            nullable=False,
        ),
        sa.Column("estimated_hours", sa.Float(), nullable=True),
        sa.Column(
            "tags",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column("version", sa.Text(), server_default=sa.text("'1.0.0'"), nullable=False),
        sa.Column(
            "layout_config",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "theme_config",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("is_published", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_featured", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_ai_generated", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed(
                "setweight(to_tsvector('english'::regconfig, coalesce(name, '')), 'A') || setweight(to_tsvector('english'::regconfig, coalesce(short_description, '')), 'B') || setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'C')",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.Column("updated_by", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name=op.f("skill_trees_slug_kebab_case_check")
        ),
        sa.CheckConstraint(
            "estimated_hours >= 0", name=op.f("skill_trees_estimated_hours_non_negative_check")
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["skill_categories.id"],
            name=op.f("skill_trees_category_id_fkey"),
            onupdate="CASCADE",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("skill_trees_pkey")),
        sa.UniqueConstraint("slug", name=op.f("skill_trees_slug_key")),
    )
    op.create_index(
        "idx_tree_category_published", "skill_trees", ["category_id", "is_published"], unique=False
    )
    op.create_index(
        "idx_tree_difficulty", "skill_trees", ["difficulty", "is_published"], unique=False
    )
    op.create_index(
        "idx_tree_fulltext", "skill_trees", ["search_vector"], unique=False, postgresql_using="gin"
    )
    op.create_index("idx_tree_slug", "skill_trees", ["slug"], unique=False)
    op.create_index("idx_tree_tags", "skill_trees", ["tags"], unique=False, postgresql_using="gin")
    op.create_table(
        "user_achievements",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("achievement_id", sa.Text(), nullable=False),
        sa.Column(
            "earned_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("progress", sa.Float(), server_default=sa.text("100"), nullable=False),
        sa.Column("metadata", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("id", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "progress BETWEEN 0 AND 100", name=op.f("user_achievements_progress_range_check")
        ),
        sa.ForeignKeyConstraint(
            ["achievement_id"],
            ["achievements.id"],
            name=op.f("user_achievements_achievement_id_fkey"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("user_achievements_user_id_fkey"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("user_achievements_pkey")),
        sa.UniqueConstraint("user_id", "achievement_id", name="unique_user_achievement"),
    )
    op.create_index("idx_achievement_users", "user_achievements", ["achievement_id"], unique=False)
    op.create_index(
        "idx_user_achievement_date", "user_achievements", ["user_id", "earned_at"], unique=False
    )
    op.create_table(
        "user_profiles",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("bio", sa.Text(), nullable=True),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column("website", sa.Text(), nullable=True),
        sa.Column("timezone", sa.Text(), server_default=sa.text("'UTC'"), nullable=True),
        sa.Column(
            "learning_goals",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column(
            "interests",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column(
            "preferences",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("total_xp", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("current_level", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("current_streak", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("max_streak", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("skills_completed", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("hours_learned", sa.Float(), server_default=sa.text("0"), nullable=False),
        sa.Column("trees_started", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("trees_completed", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "current_level >= 1", name=op.f("user_profiles_current_level_positive_check")
        ),
        sa.CheckConstraint(
            "current_streak >= 0", name=op.f("user_profiles_current_streak_non_negative_check")
        ),
        sa.CheckConstraint(
            "hours_learned >= 0", name=op.f("user_profiles_hours_learned_non_negative_check")
        ),
        sa.CheckConstraint(
            "max_streak >= current_streak",
            name=op.f("user_profiles_max_streak_at_least_current_check"),
        ),
        sa.CheckConstraint(
            "skills_completed >= 0", name=op.f("user_profiles_skills_completed_non_negative_check")
        ),
        sa.CheckConstraint("total_xp >= 0", name=op.f("user_profiles_total_xp_non_negative_check")),
        sa.CheckConstraint(
            "trees_completed >= 0", name=op.f("user_profiles_trees_completed_non_negative_check")
        ),
        sa.CheckConstraint(
            "trees_started >= 0", name=op.f("user_profiles_trees_started_non_negative_check")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("user_profiles_user_id_fkey"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("user_profiles_pkey")),
    )
    op.create_index("idx_profile_activity", "user_profiles", ["last_activity_at"], unique=False)
    op.create_index("idx_profile_level", "user_profiles", ["current_level"], unique=False)
    op.create_index("idx_profile_xp", "user_profiles", ["total_xp"], unique=False)
    op.create_table(
        "user_sessions",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(), nullable=False),
        sa.Column("device_info", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("ip_address", postgresql.INET(), nullable=True),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "last_activity_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("id", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "is_active OR ended_at IS NOT NULL",
            name=op.f("user_sessions_ended_sessions_have_ended_at_check"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("user_sessions_user_id_fkey"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("user_sessions_pkey")),
        sa.UniqueConstraint("token_hash", name=op.f("user_sessions_token_hash_key")),
    )
    op.create_index("idx_session_activity", "user_sessions", ["last_activity_at"], unique=False)
    op.create_index(
        "idx_user_session_active", "user_sessions", ["user_id", "is_active"], unique=False
    )
    op.create_table(
        "skill_tree_prerequisites",
        sa.Column("skill_tree_id", sa.Text(), nullable=False),
        sa.Column("prerequisite_id", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "skill_tree_id <> prerequisite_id", name=op.f("skill_tree_prerequisites_not_self_check")
        ),
        sa.ForeignKeyConstraint(
            ["prerequisite_id"],
            ["skill_trees.id"],
            name=op.f("skill_tree_prerequisites_prerequisite_id_fkey"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["skill_tree_id"],
            ["skill_trees.id"],
            name=op.f("skill_tree_prerequisites_skill_tree_id_fkey"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("skill_tree_id", "prerequisite_id", name="idx_tree_prerequisites"),
    )
    op.create_index(
        "idx_tree_prerequisite_dependents",
        "skill_tree_prerequisites",
        ["prerequisite_id"],
        unique=False,
    )
    op.create_table(
        "skills",
        sa.Column("skill_tree_id", sa.Text(), nullable=False),
        sa.Column("parent_skill_id", sa.Text(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("short_name", sa.String(length=50), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "learning_objectives",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column(
            "skill_type",
            sa.Enum(
                "KNOWLEDGE", "PRACTICAL", "PROJECT", "ASSESSMENT", "MILESTONE", name="SkillType"
            ),
            server_default="KNOWLEDGE",
            nullable=False,
        ),
        sa.Column(
            "difficulty",
            sa.Enum("BEGINNER", "INTERMEDIATE", "ADVANCED", "EXPERT", name="DifficultyLevel"),
            server_default="BEGINNER",
            nullable=False,
        ),
        sa.Column("estimated_minutes", sa.Integer(), nullable=True),
        sa.Column("xp_value", sa.Integer(), server_default=sa.text("10"), nullable=False),
        sa.Column("position_x", sa.Float(), server_default=sa.text("0"), nullable=False),
        sa.Column("position_y", sa.Float(), server_default=sa.text("0"), nullable=False),
        sa.Column("node_size", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("content", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("resources", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("assessments", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("is_optional", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_milestone", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed(
                "setweight(to_tsvector('english'::regconfig, coalesce(name, '')), 'A') || setweight(to_tsvector('english'::regconfig, coalesce(short_name, '')), 'B') || setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'C')",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.Column("updated_by", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "estimated_minutes >= 0", name=op.f("skills_estimated_minutes_non_negative_check")
        ),
        sa.CheckConstraint("node_size BETWEEN 1 AND 3", name=op.f("skills_node_size_range_check")),
        sa.CheckConstraint("parent_skill_id <> id", name=op.f("skills_parent_not_self_check")),
        sa.CheckConstraint("xp_value >= 0", name=op.f("skills_xp_value_non_negative_check")),
        sa.ForeignKeyConstraint(
            ["parent_skill_id"],
            ["skills.id"],
            name=op.f("skills_parent_skill_id_fkey"),
            onupdate="CASCADE",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["skill_tree_id"],
            ["skill_trees.id"],
            name=op.f("skills_skill_tree_id_fkey"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("skills_pkey")),
        sa.UniqueConstraint("id", "skill_tree_id", name="skills_id_skill_tree_id_key"),
    )
    op.create_index(
        "idx_skill_fulltext", "skills", ["search_vector"], unique=False, postgresql_using="gin"
    )
    op.create_index("idx_skill_milestones", "skills", ["is_milestone", "is_active"], unique=False)
    op.create_index("idx_skill_parent", "skills", ["parent_skill_id"], unique=False)
    op.create_index("idx_skill_position", "skills", ["position_x", "position_y"], unique=False)
    op.create_index("idx_skill_tree_active", "skills", ["skill_tree_id", "is_active"], unique=False)
    op.create_index(
        "idx_skill_type_difficulty", "skills", ["skill_type", "difficulty"], unique=False
    )
    op.create_table(
        "user_skill_tree_progress",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("skill_tree_id", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("NOT_STARTED", "IN_PROGRESS", "COMPLETED", "PAUSED", name="TreeProgressStatus"),
            server_default="NOT_STARTED",
            nullable=False,
        ),
        sa.Column("progress_percent", sa.Float(), server_default=sa.text("0"), nullable=False),
        sa.Column("skills_completed", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("total_skills", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("time_spent_minutes", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "milestones_reached",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column(
            "current_path",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status <> 'COMPLETED' OR completed_at IS NOT NULL",
            name=op.f("user_skill_tree_progress_completed_has_completed_at_check"),
        ),
        sa.CheckConstraint(
            "progress_percent BETWEEN 0 AND 100",
            name=op.f("user_skill_tree_progress_progress_percent_range_check"),
        ),
        sa.CheckConstraint(
            "skills_completed >= 0",
            name=op.f("user_skill_tree_progress_skills_completed_non_negative_check"),
        ),
        sa.CheckConstraint(
            "time_spent_minutes >= 0",
            name=op.f("user_skill_tree_progress_time_spent_minutes_non_negative_check"),
        ),
        sa.CheckConstraint(
            "total_skills >= 0",
            name=op.f("user_skill_tree_progress_total_skills_non_negative_check"),
        ),
        sa.ForeignKeyConstraint(
            ["skill_tree_id"],
            ["skill_trees.id"],
            name=op.f("user_skill_tree_progress_skill_tree_id_fkey"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("user_skill_tree_progress_user_id_fkey"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("user_skill_tree_progress_pkey")),
        sa.UniqueConstraint("user_id", "skill_tree_id", name="unique_user_tree_progress"),
    )
    op.create_index(
        "idx_tree_progress_activity", "user_skill_tree_progress", ["last_activity_at"], unique=False
    )
    op.create_index(
        "idx_tree_user_status",
        "user_skill_tree_progress",
        ["skill_tree_id", "status"],
        unique=False,
    )
    op.create_index(
        "idx_user_tree_status", "user_skill_tree_progress", ["user_id", "status"], unique=False
    )
    op.create_table(
        "skill_dependencies",
        sa.Column("skill_id", sa.Text(), nullable=False),
        sa.Column("depends_on_id", sa.Text(), nullable=False),
        sa.Column("skill_tree_id", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "skill_id <> depends_on_id", name=op.f("skill_dependencies_not_self_check")
        ),
        sa.ForeignKeyConstraint(
            ["depends_on_id", "skill_tree_id"],
            ["skills.id", "skills.skill_tree_id"],
            name="skill_dependencies_depends_on_fkey",
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["skill_id", "skill_tree_id"],
            ["skills.id", "skills.skill_tree_id"],
            name="skill_dependencies_skill_fkey",
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("skill_id", "depends_on_id", name="idx_skill_dependencies"),
    )
    op.create_index(
        "idx_skill_dependents", "skill_dependencies", ["depends_on_id", "skill_id"], unique=False
    )
    op.create_table(
        "user_skill_progress",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("skill_id", sa.Text(), nullable=False),
        sa.Column("skill_tree_id", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "LOCKED",
                "AVAILABLE",
                "IN_PROGRESS",
                "COMPLETED",
                "SKIPPED",
                name="SkillProgressStatus",
            ),
            server_default="LOCKED",
            nullable=False,
        ),
        sa.Column("progress_percent", sa.Float(), server_default=sa.text("0"), nullable=False),
        sa.Column("time_spent_minutes", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("attempts_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "completion_method",
            sa.Enum(
                "MANUAL", "ASSESSMENT", "PROJECT", "TIME_BASED", "EXTERNAL", name="CompletionMethod"
            ),
            nullable=True,
        ),
        sa.Column("completion_score", sa.Float(), nullable=True),
        sa.Column("evidence_data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("unlocked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("struggling_indicators", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("engagement_score", sa.Float(), nullable=True),
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status <> 'COMPLETED' OR completed_at IS NOT NULL",
            name=op.f("user_skill_progress_completed_has_completed_at_check"),
        ),
        sa.CheckConstraint(
            "attempts_count >= 0",
            name=op.f("user_skill_progress_attempts_count_non_negative_check"),
        ),
        sa.CheckConstraint(
            "completion_score BETWEEN 0 AND 100",
            name=op.f("user_skill_progress_completion_score_range_check"),
        ),
        sa.CheckConstraint(
            "engagement_score BETWEEN 0 AND 1",
            name=op.f("user_skill_progress_engagement_score_range_check"),
        ),
        sa.CheckConstraint(
            "progress_percent BETWEEN 0 AND 100",
            name=op.f("user_skill_progress_progress_percent_range_check"),
        ),
        sa.CheckConstraint(
            "time_spent_minutes >= 0",
            name=op.f("user_skill_progress_time_spent_minutes_non_negative_check"),
        ),
        sa.ForeignKeyConstraint(
            ["skill_id", "skill_tree_id"],
            ["skills.id", "skills.skill_tree_id"],
            name="user_skill_progress_skill_tree_fkey",
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["skill_id"],
            ["skills.id"],
            name=op.f("user_skill_progress_skill_id_fkey"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("user_skill_progress_user_id_fkey"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("user_skill_progress_pkey")),
        sa.UniqueConstraint("user_id", "skill_id", name="unique_user_skill_progress"),
    )
    op.create_index("idx_skill_completion", "user_skill_progress", ["completed_at"], unique=False)
    op.create_index(
        "idx_skill_progress_activity", "user_skill_progress", ["last_activity_at"], unique=False
    )
    op.create_index(
        "idx_skill_user_status", "user_skill_progress", ["skill_id", "status"], unique=False
    )
    op.create_index(
        "idx_tree_user_progress", "user_skill_progress", ["skill_tree_id", "user_id"], unique=False
    )
    op.create_index(
        "idx_user_skill_status", "user_skill_progress", ["user_id", "status"], unique=False
    )
    op.execute(
        """
        CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.updated_at := now();
            RETURN NEW;
        END
        $$
        """
    )
    for table in UPDATED_AT_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_set_updated_at BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
        )


def downgrade() -> None:
    op.drop_index("idx_user_skill_status", table_name="user_skill_progress")
    op.drop_index("idx_tree_user_progress", table_name="user_skill_progress")
    op.drop_index("idx_skill_user_status", table_name="user_skill_progress")
    op.drop_index("idx_skill_progress_activity", table_name="user_skill_progress")
    op.drop_index("idx_skill_completion", table_name="user_skill_progress")
    op.drop_table("user_skill_progress")
    op.drop_index("idx_skill_dependents", table_name="skill_dependencies")
    op.drop_table("skill_dependencies")
    op.drop_index("idx_user_tree_status", table_name="user_skill_tree_progress")
    op.drop_index("idx_tree_user_status", table_name="user_skill_tree_progress")
    op.drop_index("idx_tree_progress_activity", table_name="user_skill_tree_progress")
    op.drop_table("user_skill_tree_progress")
    op.drop_index("idx_skill_type_difficulty", table_name="skills")
    op.drop_index("idx_skill_tree_active", table_name="skills")
    op.drop_index("idx_skill_position", table_name="skills")
    op.drop_index("idx_skill_parent", table_name="skills")
    op.drop_index("idx_skill_milestones", table_name="skills")
    op.drop_index("idx_skill_fulltext", table_name="skills", postgresql_using="gin")
    op.drop_table("skills")
    op.drop_index("idx_tree_prerequisite_dependents", table_name="skill_tree_prerequisites")
    op.drop_table("skill_tree_prerequisites")
    op.drop_index("idx_user_session_active", table_name="user_sessions")
    op.drop_index("idx_session_activity", table_name="user_sessions")
    op.drop_table("user_sessions")
    op.drop_index("idx_profile_xp", table_name="user_profiles")
    op.drop_index("idx_profile_level", table_name="user_profiles")
    op.drop_index("idx_profile_activity", table_name="user_profiles")
    op.drop_table("user_profiles")
    op.drop_index("idx_user_achievement_date", table_name="user_achievements")
    op.drop_index("idx_achievement_users", table_name="user_achievements")
    op.drop_table("user_achievements")
    op.drop_index("idx_tree_tags", table_name="skill_trees", postgresql_using="gin")
    op.drop_index("idx_tree_slug", table_name="skill_trees")
    op.drop_index("idx_tree_fulltext", table_name="skill_trees", postgresql_using="gin")
    op.drop_index("idx_tree_difficulty", table_name="skill_trees")
    op.drop_index("idx_tree_category_published", table_name="skill_trees")
    op.drop_table("skill_trees")
    op.drop_index("idx_user_username", table_name="users")
    op.drop_index("idx_user_email", table_name="users")
    op.drop_index("idx_user_activity", table_name="users")
    op.drop_table("users")
    op.drop_index("idx_category_sort", table_name="skill_categories")
    op.drop_index("idx_category_slug", table_name="skill_categories")
    op.drop_table("skill_categories")
    op.drop_index("idx_achievement_rarity", table_name="achievements")
    op.drop_index("idx_achievement_category", table_name="achievements")
    op.drop_table("achievements")
    op.execute("DROP FUNCTION set_updated_at()")
    for enum_type in ENUM_TYPES:
        op.execute(f'DROP TYPE "{enum_type}"')
