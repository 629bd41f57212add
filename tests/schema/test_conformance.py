"""The database built by the migrations is the spec's schema, checked from pg_catalog."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

# Every spec model: its table (@@map) and every field as a snake_case column.
SPEC_COLUMNS: dict[str, set[str]] = {
    "users": {
        "id", "email", "username", "password_hash", "first_name", "last_name", "avatar_url",
        "is_active", "email_verified", "last_login_at", "created_at", "updated_at", "created_by",
        "updated_by",
    },
    "user_profiles": {
        "user_id", "bio", "location", "website", "timezone", "learning_goals", "interests",
        "preferences", "total_xp", "current_level", "current_streak", "max_streak",
        "last_activity_at", "skills_completed", "hours_learned", "trees_started",
        "trees_completed", "created_at", "updated_at",
    },
    "skill_categories": {
        "id", "name", "slug", "description", "color", "icon", "sort_order", "is_active",
        "created_at", "updated_at",
    },
    "skill_trees": {
        "id", "category_id", "name", "slug", "description", "short_description", "difficulty",
        "estimated_hours", "tags", "version", "layout_config", "theme_config", "is_published",
        "is_featured", "is_ai_generated", "created_at", "updated_at", "created_by", "updated_by",
    },
    "skills": {
        "id", "skill_tree_id", "parent_skill_id", "name", "short_name", "description",
        "learning_objectives", "skill_type", "difficulty", "estimated_minutes", "xp_value",
        "position_x", "position_y", "node_size", "content", "resources", "assessments",
        "is_active", "is_optional", "is_milestone", "created_at", "updated_at", "created_by",
        "updated_by",
    },
    "user_skill_tree_progress": {
        "id", "user_id", "skill_tree_id", "status", "progress_percent", "skills_completed",
        "total_skills", "time_spent_minutes", "started_at", "last_activity_at", "completed_at",
        "milestones_reached", "current_path", "created_at", "updated_at",
    },
    "user_skill_progress": {
        "id", "user_id", "skill_id", "skill_tree_id", "status", "progress_percent",
        "time_spent_minutes", "attempts_count", "completion_method", "completion_score",
        "evidence_data", "unlocked_at", "started_at", "last_activity_at", "completed_at",
        "struggling_indicators", "engagement_score", "created_at", "updated_at",
    },
    "achievements": {
        "id", "name", "description", "category", "criteria", "xp_reward", "badge_icon",
        "badge_color", "rarity", "is_visible", "is_active", "created_at", "updated_at",
    },
    "user_achievements": {"id", "user_id", "achievement_id", "earned_at", "progress", "metadata"},
    "user_sessions": {
        "id", "user_id", "device_info", "ip_address", "started_at", "last_activity_at",
        "ended_at", "is_active",
    },
}  # fmt: skip

# Every named index of the spec, on its table (the array ones now live on the edge tables).
SPEC_INDEXES: dict[str, str] = {
    "idx_user_email": "users",
    "idx_user_username": "users",
    "idx_user_activity": "users",
    "idx_profile_xp": "user_profiles",
    "idx_profile_level": "user_profiles",
    "idx_profile_activity": "user_profiles",
    "idx_category_slug": "skill_categories",
    "idx_category_sort": "skill_categories",
    "idx_tree_category_published": "skill_trees",
    "idx_tree_slug": "skill_trees",
    "idx_tree_difficulty": "skill_trees",
    "idx_tree_tags": "skill_trees",
    "idx_tree_prerequisites": "skill_tree_prerequisites",
    "idx_tree_fulltext": "skill_trees",
    "idx_skill_tree_active": "skills",
    "idx_skill_parent": "skills",
    "idx_skill_dependencies": "skill_dependencies",
    "idx_skill_dependents": "skill_dependencies",
    "idx_skill_type_difficulty": "skills",
    "idx_skill_position": "skills",
    "idx_skill_milestones": "skills",
    "idx_skill_fulltext": "skills",
    "unique_user_tree_progress": "user_skill_tree_progress",
    "idx_user_tree_status": "user_skill_tree_progress",
    "idx_tree_user_status": "user_skill_tree_progress",
    "idx_tree_progress_activity": "user_skill_tree_progress",
    "unique_user_skill_progress": "user_skill_progress",
    "idx_user_skill_status": "user_skill_progress",
    "idx_skill_user_status": "user_skill_progress",
    "idx_tree_user_progress": "user_skill_progress",
    "idx_skill_progress_activity": "user_skill_progress",
    "idx_skill_completion": "user_skill_progress",
    "idx_achievement_category": "achievements",
    "idx_achievement_rarity": "achievements",
    "unique_user_achievement": "user_achievements",
    "idx_user_achievement_date": "user_achievements",
    "idx_achievement_users": "user_achievements",
    "idx_user_session_active": "user_sessions",
    "idx_session_activity": "user_sessions",
}

SPEC_UNIQUE = {
    ("users", ("email",)),
    ("users", ("username",)),
    ("skill_categories", ("name",)),
    ("skill_categories", ("slug",)),
    ("skill_trees", ("slug",)),
    ("user_skill_tree_progress", ("user_id", "skill_tree_id")),
    ("user_skill_progress", ("user_id", "skill_id")),
    ("user_achievements", ("user_id", "achievement_id")),
}

SPEC_ENUMS: dict[str, list[str]] = {
    "DifficultyLevel": ["BEGINNER", "INTERMEDIATE", "ADVANCED", "EXPERT"],
    "SkillType": ["KNOWLEDGE", "PRACTICAL", "PROJECT", "ASSESSMENT", "MILESTONE"],
    "TreeProgressStatus": ["NOT_STARTED", "IN_PROGRESS", "COMPLETED", "PAUSED"],
    "SkillProgressStatus": ["LOCKED", "AVAILABLE", "IN_PROGRESS", "COMPLETED", "SKIPPED"],
    "CompletionMethod": ["MANUAL", "ASSESSMENT", "PROJECT", "TIME_BASED", "EXTERNAL"],
    "AchievementCategory": ["PROGRESS", "STREAK", "EXPLORATION", "MASTERY", "SOCIAL", "TIME"],
    "AchievementRarity": ["COMMON", "UNCOMMON", "RARE", "LEGENDARY"],
}

# (table, columns, referenced table, ON DELETE): 'c' cascade, 'r' restrict, 'n' set null.
SPEC_FOREIGN_KEYS = {
    ("user_profiles", ("user_id",), "users", "c"),
    ("skill_trees", ("category_id",), "skill_categories", "r"),
    ("skills", ("skill_tree_id",), "skill_trees", "c"),
    ("skills", ("parent_skill_id",), "skills", "n"),
    ("user_skill_tree_progress", ("user_id",), "users", "c"),
    ("user_skill_tree_progress", ("skill_tree_id",), "skill_trees", "c"),
    ("user_skill_progress", ("user_id",), "users", "c"),
    # (user_skill_progress (skill_id) -> skills: implied by the composite key below, deviation 37.)
    ("user_achievements", ("user_id",), "users", "c"),
    ("user_achievements", ("achievement_id",), "achievements", "c"),
    ("user_sessions", ("user_id",), "users", "c"),
    # Deviations: edge tables and the guard on the denormalised tree id.
    ("skill_dependencies", ("skill_id", "skill_tree_id"), "skills", "c"),
    ("skill_dependencies", ("depends_on_id", "skill_tree_id"), "skills", "c"),
    ("skill_tree_prerequisites", ("skill_tree_id",), "skill_trees", "c"),
    ("skill_tree_prerequisites", ("prerequisite_id",), "skill_trees", "c"),
    ("user_skill_progress", ("skill_id", "skill_tree_id"), "skills", "c"),
    # Tables of ours: the audit trail and idempotency keys go with their user.
    ("progress_events", ("user_id",), "users", "c"),
    ("idempotency_keys", ("user_id",), "users", "c"),
    # Assessments (issue 14): banks go with their skill, attempts with their learner and skill.
    ("question_banks", ("skill_id",), "skills", "c"),
    ("assessment_attempts", ("user_id",), "users", "c"),
    ("assessment_attempts", ("skill_id",), "skills", "c"),
    # Integrations (issue 14 part 5, migration 0033): with their tree, secrets and deliveries
    # with their integration, deliveries with their learner.
    ("integrations", ("skill_tree_id",), "skill_trees", "c"),
    ("integration_secrets", ("integration_id",), "integrations", "c"),
    ("integration_deliveries", ("integration_id",), "integrations", "c"),
    ("integration_deliveries", ("user_id",), "users", "c"),
    # Time on content (issue 14): a learner's module time goes with them and with the skill.
    ("user_skill_module_progress", ("user_id",), "users", "c"),
    ("user_skill_module_progress", ("skill_id",), "skills", "c"),
    # What next's stored ranks (issue 12): a skill's go with it, a tree's mark with the tree.
    ("skill_ranks", ("skill_id", "skill_tree_id"), "skills", "c"),
    ("skill_tree_ranks", ("skill_tree_id",), "skill_trees", "c"),
    ("skill_tree_graphs", ("skill_tree_id",), "skill_trees", "c"),
    # Project reviews (issue 14): mentors and rubrics go with their tree or skill (a mentor's
    # row with the mentor), submissions with their learner and skill; a reviewer or claimant
    # who is deleted leaves the decision without a name.
    ("tree_mentors", ("skill_tree_id",), "skill_trees", "c"),
    ("tree_mentors", ("mentor_id",), "users", "c"),
    ("tree_mentors", ("added_by",), "users", "n"),
    ("project_rubrics", ("skill_id",), "skills", "c"),
    ("project_submissions", ("user_id",), "users", "c"),
    ("project_submissions", ("skill_id", "skill_tree_id"), "skills", "c"),
    ("project_submissions", ("claimed_by",), "users", "n"),
    ("project_submissions", ("reviewed_by",), "users", "n"),
    # Mastery (issue 14 part 6): cards and reviews go with their learner and skill, a review of
    # an attempt with the attempt.
    ("skill_mastery", ("user_id",), "users", "c"),
    ("skill_mastery", ("skill_id",), "skills", "c"),
    ("mastery_reviews", ("user_id",), "users", "c"),
    ("mastery_reviews", ("skill_id",), "skills", "c"),
    ("mastery_reviews", ("user_id", "attempt_id"), "assessment_attempts", "c"),
}

SPEC_TYPES = {
    ("users", "username"): "character varying(50)",
    ("users", "first_name"): "character varying(100)",
    ("user_sessions", "ip_address"): "inet",
    ("skill_categories", "color"): "character varying(7)",
    ("skill_trees", "tags"): "text[]",
    ("skill_trees", "layout_config"): "jsonb",
    ("skills", "short_name"): "character varying(50)",
    ("skills", "position_x"): "double precision",
    ("user_profiles", "hours_learned"): "double precision",
    ("user_skill_progress", "status"): '"SkillProgressStatus"',
    ("skill_trees", "difficulty"): '"DifficultyLevel"',
}


def test_every_spec_column_exists(connection: Connection) -> None:
    rows = connection.execute(
        text(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public'"
        )
    ).all()
    actual: dict[str, set[str]] = {}
    for table, column in rows:
        actual.setdefault(table, set()).add(column)
    for table, columns in SPEC_COLUMNS.items():
        assert table in actual, f"missing table {table}"
        assert columns <= actual[table], f"{table} lacks {sorted(columns - actual[table])}"


@pytest.mark.parametrize(("index", "table"), sorted(SPEC_INDEXES.items()))
def test_spec_index_exists_under_its_name(connection: Connection, index: str, table: str) -> None:
    found = connection.execute(
        text("SELECT tablename FROM pg_indexes WHERE schemaname = 'public' AND indexname = :i"),
        {"i": index},
    ).scalar_one_or_none()
    assert found == table


def test_search_indexes_are_gin(connection: Connection) -> None:
    methods = dict(
        connection.execute(
            text(
                "SELECT c.relname, am.amname FROM pg_class c JOIN pg_am am ON am.oid = c.relam "
                "WHERE c.relname IN ('idx_tree_tags', 'idx_tree_fulltext', 'idx_skill_fulltext')"
            )
        ).all()
    )
    assert methods == {
        "idx_tree_tags": "gin",
        "idx_tree_fulltext": "gin",
        "idx_skill_fulltext": "gin",
    }


def test_unique_constraints(connection: Connection) -> None:
    rows = connection.execute(
        text(
            """
            SELECT t.relname, array_agg(a.attname ORDER BY k.ord)
            FROM pg_constraint c
            JOIN pg_class t ON t.oid = c.conrelid
            CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
            WHERE c.contype = 'u'
            GROUP BY c.oid, t.relname
            """
        )
    ).all()
    actual = {(table, tuple(columns)) for table, columns in rows}
    assert actual >= SPEC_UNIQUE


def test_enum_types_have_spec_values(connection: Connection) -> None:
    rows = connection.execute(
        text(
            "SELECT t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_type t "
            "JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname"
        )
    ).all()
    # Deviations: UserRole (users.role) for authoring rights; ProgressEventKind for the audit trail;
    # MasteryLevel for mastery (issue 14 part 6, deviation 35).
    assert {name: list(values) for name, values in rows} == SPEC_ENUMS | {
        "UserRole": ["LEARNER", "AUTHOR", "ADMIN"],
        "MasteryLevel": ["FAMILIAR", "PROFICIENT", "MASTERED"],
        "ProgressEventKind": [
            "ENROLL", "START", "COMPLETE", "SKIP", "ACTIVITY", "UNLOCK", "ACHIEVEMENT", "LEVEL_UP"
        ],
    }  # fmt: skip


def test_foreign_keys_and_cascades(connection: Connection) -> None:
    rows = connection.execute(
        text(
            """
            SELECT t.relname, array_agg(a.attname ORDER BY k.ord), r.relname, c.confdeltype
            FROM pg_constraint c
            JOIN pg_class t ON t.oid = c.conrelid
            JOIN pg_class r ON r.oid = c.confrelid
            CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
            WHERE c.contype = 'f'
            GROUP BY c.oid, t.relname, r.relname, c.confdeltype
            """
        )
    ).all()
    actual = {(table, tuple(cols), ref, action) for table, cols, ref, action in rows}
    assert actual == SPEC_FOREIGN_KEYS


@pytest.mark.parametrize(("column", "expected"), sorted(SPEC_TYPES.items()))
def test_column_types(connection: Connection, column: tuple[str, str], expected: str) -> None:
    actual = connection.execute(
        text(
            "SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            "WHERE a.attrelid = CAST(:t AS regclass) AND a.attname = :c"
        ),
        {"t": column[0], "c": column[1]},
    ).scalar_one()
    assert actual == expected


def test_every_updated_at_has_a_trigger(connection: Connection) -> None:
    tables = set(
        connection.execute(
            text(
                "SELECT table_name FROM information_schema.columns "
                "WHERE table_schema = 'public' AND column_name = 'updated_at'"
            )
        ).scalars()
    )
    triggered = set(
        connection.execute(
            text(
                "SELECT event_object_table FROM information_schema.triggers "
                "WHERE trigger_name LIKE '%_set_updated_at'"
            )
        ).scalars()
    )
    assert tables == triggered
