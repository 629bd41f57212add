"""The spec's seed.ts, row for row, plus the starting set of achievements; loaded idempotently."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from skilltree.accounts.passwords import hash_password
from skilltree.db.base import new_id
from skilltree.graph import ranks
from skilltree.models import (
    Achievement,
    DifficultyLevel,
    Skill,
    SkillCategory,
    SkillDependency,
    SkillTree,
    SkillType,
    User,
    UserProfile,
)
from skilltree.seed.achievements import ACHIEVEMENTS
from skilltree.seed.rows import Row, insert_missing, insert_rows

CATEGORIES: tuple[Row, ...] = (
    {
        "name": "Programming",
        "slug": "programming",
        "description": "Software development and programming languages",
        "color": "#3B82F6",
        "icon": "code",
        "sort_order": 1,
    },
    {
        "name": "Web Development",
        "slug": "web-development",
        "description": "Frontend and backend web technologies",
        "color": "#10B981",
        "icon": "globe",
        "sort_order": 2,
    },
)

FRONTEND_TREE: Row = {
    "category": "web-development",
    "name": "Frontend Web Development",
    "slug": "frontend-web-development",
    "description": "Complete guide to modern frontend development",
    "short_description": "Learn HTML, CSS, JavaScript, and React",
    "difficulty": DifficultyLevel.BEGINNER,
    "estimated_hours": 120.0,
    "tags": ["html", "css", "javascript", "react"],
    "is_published": True,
    "is_featured": True,
    "layout_config": {"theme": "modern", "nodeSpacing": 150, "levelHeight": 200},
}

FRONTEND_SKILLS: tuple[Row, ...] = (
    {
        "name": "HTML Fundamentals",
        "key": "html",
        "short_name": "HTML",
        "description": "Learn the building blocks of web pages",
        "learning_objectives": [
            "Understand HTML document structure",
            "Create semantic markup",
            "Use forms and input elements",
        ],
        "skill_type": SkillType.KNOWLEDGE,
        "difficulty": DifficultyLevel.BEGINNER,
        "estimated_minutes": 300,
        "xp_value": 50,
        "position_x": 0.0,
        "position_y": 0.0,
        "node_size": 1,
        "is_active": True,
        "is_milestone": True,
        "content": {
            "type": "structured",
            "modules": [
                {
                    "title": "HTML Basics",
                    "type": "article",
                    "estimatedMinutes": 60,
                    "resources": [
                        {
                            "type": "link",
                            "title": "MDN HTML Basics",
                            "url": "https://developer.mozilla.org/en-US/docs/Learn/"
                            "Getting_started_with_the_web/HTML_basics",
                        }
                    ],
                }
            ],
        },
    },
    {
        "name": "CSS Styling",
        "key": "css",
        "short_name": "CSS",
        "description": "Style and layout web pages",
        "learning_objectives": [
            "Apply CSS selectors and properties",
            "Create responsive layouts",
            "Use Flexbox and Grid",
        ],
        "skill_type": SkillType.PRACTICAL,
        "difficulty": DifficultyLevel.BEGINNER,
        "estimated_minutes": 480,
        "xp_value": 75,
        "position_x": 200.0,
        "position_y": 0.0,
        "node_size": 2,
        "is_active": True,
        "is_milestone": False,
        "content": {
            "type": "structured",
            "modules": [
                {
                    "title": "CSS Fundamentals",
                    "type": "interactive",
                    "estimatedMinutes": 90,
                    "resources": [],
                }
            ],
        },
    },
)
FRONTEND_EDGES = (("CSS Styling", "HTML Fundamentals"),)
"""(skill, the skill it depends on), by name."""

TEST_USER: Row = {
    # seed.ts writes test@skillTree.dev; emails are stored lower-cased and matched without case.
    "email": "test@skilltree.dev",
    "username": "testuser",
    "first_name": "Test",
    "last_name": "User",
    "is_active": True,
    "email_verified": True,
}
TEST_USER_PASSWORD = "password123"
TEST_USER_PROFILE: Row = {
    "bio": "Learning frontend development",
    "timezone": "UTC",
    "learning_goals": ["Learn React", "Build portfolio"],
    "interests": ["web development", "design"],
    "total_xp": 0,
    "current_level": 1,
}


def load_spec_seed(session: Session) -> None:
    """Load the spec's seed data (categories, the Frontend tree, the test user, achievements).

    Idempotent: whatever exists already (by slug, tree and name, email, achievement name) is left
    untouched. Flushes only; the caller commits.
    """
    category_ids = load_categories(session, CATEGORIES)
    tree_ids = load_trees(session, [FRONTEND_TREE], category_ids)
    load_skills(session, tree_ids[FRONTEND_TREE["slug"]], FRONTEND_SKILLS, FRONTEND_EDGES)
    load_users(session, [(TEST_USER, TEST_USER_PASSWORD, TEST_USER_PROFILE)])
    insert_missing(session, Achievement, ("name",), ACHIEVEMENTS)


def load_categories(session: Session, categories: tuple[Row, ...]) -> dict[str, str]:
    """Insert the missing categories; return every given category's id by slug."""
    ids = insert_missing(session, SkillCategory, ("slug",), categories)
    return {slug: id_ for (slug,), id_ in ids.items()}


def load_trees(session: Session, trees: list[Row], category_ids: dict[str, str]) -> dict[str, str]:
    """Insert the missing trees (`category` names the category's slug); return ids by slug."""
    rows = [
        {k: v for k, v in tree.items() if k != "category"}
        | {"category_id": category_ids[tree["category"]]}
        for tree in trees
    ]
    ids = insert_missing(session, SkillTree, ("slug",), rows)
    return {slug: id_ for (slug,), id_ in ids.items()}


def load_skills(
    session: Session,
    tree_id: str,
    skills: tuple[Row, ...] | list[Row],
    edges: tuple[tuple[str, str], ...] | list[tuple[str, str]],
) -> dict[str, str]:
    """Insert a tree's missing skills and dependency edges (by skill name) and store its ranks
    for "what next" (graph.ranks); return ids by name."""
    rows = [{"skill_tree_id": tree_id, **skill} for skill in skills]
    ids = {
        name: id_
        for (_, name), id_ in insert_missing(
            session, Skill, ("skill_tree_id", "name"), rows
        ).items()
    }
    insert_rows(
        session,
        SkillDependency,
        [
            {"skill_id": ids[skill], "depends_on_id": ids[needed], "skill_tree_id": tree_id}
            for skill, needed in edges
        ],
    )
    # Written as no tree writer writes: ranked here, as a tree writer ranks what it changed.
    ranks.refresh(session, tree_id)
    return ids


def load_users(session: Session, users: list[tuple[Row, str, Row]]) -> dict[str, str]:
    """Create the (user, password, profile) whose email is new; return the new users' ids.

    Existing users keep everything, their password hash included: nothing is hashed twice.
    """
    emails = [user["email"].lower() for user, _, _ in users]
    taken = set(
        session.scalars(select(func.lower(User.email)).where(func.lower(User.email).in_(emails)))
    )
    created: dict[str, str] = {}
    user_rows: list[Row] = []
    profile_rows: list[Row] = []
    # Seed accounts share a published password; hashing it once per load, not once per account,
    # keeps seeding fast (argon2id is slow on purpose) and reveals nothing that is not public.
    hashes: dict[str, str] = {}
    for user, password, profile in users:
        if user["email"].lower() in taken:
            continue
        user_id = created[user["email"]] = new_id()
        if password not in hashes:
            hashes[password] = hash_password(password)
        user_rows.append({"id": user_id, "password_hash": hashes[password], **user})
        profile_rows.append({"user_id": user_id, **profile})
    insert_rows(session, User, user_rows)
    # A username already taken by someone else skipped its user: skip its profile too.
    kept = set(session.scalars(select(User.id).where(User.id.in_(created.values()))))
    insert_rows(session, UserProfile, [row for row in profile_rows if row["user_id"] in kept])
    return {email: user_id for email, user_id in created.items() if user_id in kept}
