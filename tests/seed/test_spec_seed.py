"""The spec's seed.ts loads row for row, with the starting achievements, and loads only once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.orm import Session

from skilltree.accounts.passwords import verify_password
from skilltree.models import (
    Achievement,
    Skill,
    SkillCategory,
    SkillDependency,
    SkillTree,
    User,
    UserProfile,
)
from skilltree.seed import load_spec_seed
from tests.seed.loading import database_snapshot, loaded_once, session_on

HTML_CONTENT = {
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
                    "url": "https://developer.mozilla.org/en-US/docs/Learn/Getting_started_with_the_web/HTML_basics",
                }
            ],
        }
    ],
}
CSS_CONTENT = {
    "type": "structured",
    "modules": [
        {
            "title": "CSS Fundamentals",
            "type": "interactive",
            "estimatedMinutes": 90,
            "resources": [],
        }
    ],
}


@pytest.fixture(scope="module")
def seeded(engine: Engine) -> Iterator[Connection]:
    """A connection that sees the spec seed, loaded once for this module."""
    with loaded_once(engine, load_spec_seed) as connection:
        yield connection


@pytest.fixture
def session(seeded: Connection) -> Iterator[Session]:
    """A session on the seeded database; what a test writes is rolled back after it."""
    with session_on(seeded) as session:
        yield session


def _skill(session: Session, name: str) -> Skill:
    return session.execute(select(Skill).where(Skill.name == name)).scalar_one()


def test_categories_are_the_specs(session: Session) -> None:
    rows = session.execute(
        select(
            SkillCategory.name,
            SkillCategory.slug,
            SkillCategory.description,
            SkillCategory.color,
            SkillCategory.icon,
            SkillCategory.sort_order,
            SkillCategory.is_active,
        ).order_by(SkillCategory.sort_order)
    ).all()
    assert [tuple(row) for row in rows] == [
        (
            "Programming",
            "programming",
            "Software development and programming languages",
            "#3B82F6",
            "code",
            1,
            True,
        ),
        (
            "Web Development",
            "web-development",
            "Frontend and backend web technologies",
            "#10B981",
            "globe",
            2,
            True,
        ),
    ]


def test_frontend_tree_is_the_specs(session: Session) -> None:
    tree = session.execute(select(SkillTree)).scalar_one()
    category = session.get_one(SkillCategory, tree.category_id)
    assert category.slug == "web-development"
    assert (tree.name, tree.slug) == ("Frontend Web Development", "frontend-web-development")
    assert tree.description == "Complete guide to modern frontend development"
    assert tree.short_description == "Learn HTML, CSS, JavaScript, and React"
    assert tree.difficulty == "BEGINNER"
    assert tree.estimated_hours == 120
    assert tree.tags == ["html", "css", "javascript", "react"]
    assert (tree.is_published, tree.is_featured, tree.is_ai_generated) == (True, True, False)
    assert tree.layout_config == {"theme": "modern", "nodeSpacing": 150, "levelHeight": 200}
    assert tree.theme_config == {}
    assert tree.version == "1.0.0"


def test_html_skill_is_the_specs(session: Session) -> None:
    html = _skill(session, "HTML Fundamentals")
    assert html.short_name == "HTML"
    assert html.description == "Learn the building blocks of web pages"
    assert html.learning_objectives == [
        "Understand HTML document structure",
        "Create semantic markup",
        "Use forms and input elements",
    ]
    assert (html.skill_type, html.difficulty) == ("KNOWLEDGE", "BEGINNER")
    assert (html.estimated_minutes, html.xp_value) == (300, 50)
    assert (html.position_x, html.position_y, html.node_size) == (0, 0, 1)
    assert (html.is_active, html.is_milestone, html.is_optional) == (True, True, False)
    assert html.content == HTML_CONTENT


def test_css_skill_is_the_specs(session: Session) -> None:
    css = _skill(session, "CSS Styling")
    assert css.short_name == "CSS"
    assert css.description == "Style and layout web pages"
    assert css.learning_objectives == [
        "Apply CSS selectors and properties",
        "Create responsive layouts",
        "Use Flexbox and Grid",
    ]
    assert (css.skill_type, css.difficulty) == ("PRACTICAL", "BEGINNER")
    assert (css.estimated_minutes, css.xp_value) == (480, 75)
    assert (css.position_x, css.position_y, css.node_size) == (200, 0, 2)
    assert (css.is_active, css.is_milestone, css.is_optional) == (True, False, False)
    assert css.content == CSS_CONTENT


def test_css_depends_on_html_and_nothing_else(session: Session) -> None:
    html, css = _skill(session, "HTML Fundamentals"), _skill(session, "CSS Styling")
    edges = session.execute(
        select(
            SkillDependency.skill_id, SkillDependency.depends_on_id, SkillDependency.skill_tree_id
        )
    ).all()
    assert [tuple(edge) for edge in edges] == [(css.id, html.id, css.skill_tree_id)]


def test_test_user_is_the_specs_with_a_lower_cased_email(session: Session) -> None:
    user = session.execute(select(User)).scalar_one()
    assert (user.email, user.username) == ("test@skilltree.dev", "testuser")
    assert (user.first_name, user.last_name) == ("Test", "User")
    assert (user.is_active, user.email_verified) == (True, True)
    assert verify_password(user.password_hash, "password123")


def test_test_users_profile_is_the_specs(session: Session) -> None:
    profile = session.execute(select(UserProfile)).scalar_one()
    assert profile.bio == "Learning frontend development"
    assert profile.timezone == "UTC"
    assert profile.learning_goals == ["Learn React", "Build portfolio"]
    assert profile.interests == ["web development", "design"]
    assert (profile.total_xp, profile.current_level) == (0, 1)


def test_first_steps_achievement_is_the_specs(session: Session) -> None:
    first_steps = session.execute(
        select(Achievement).where(Achievement.name == "First Steps")
    ).scalar_one()
    assert first_steps.description == "Complete your first skill"
    assert first_steps.category == "PROGRESS"
    assert first_steps.criteria == {"type": "skill_completion_count", "threshold": 1}
    assert first_steps.xp_reward == 25
    assert (first_steps.badge_icon, first_steps.badge_color) == ("trophy", "#F59E0B")
    assert first_steps.rarity == "COMMON"
    assert (first_steps.is_visible, first_steps.is_active) == (True, True)


def test_achievements_cover_every_kind_of_criteria(session: Session) -> None:
    achievements = session.execute(select(Achievement.name, Achievement.criteria)).all()
    names = [name for name, _ in achievements]
    assert len(names) == len(set(names)) >= 10
    thresholds: dict[str, set[Any]] = {}
    for _, criteria in achievements:
        thresholds.setdefault(criteria["type"], set()).add(criteria["threshold"])
    assert thresholds["skill_completion_count"] >= {1, 10, 50}
    assert thresholds["xp_threshold"] >= {500, 2000}
    assert thresholds["streak_days"] >= {3, 7, 30}
    assert 1 in thresholds["trees_completed"]
    assert {"milestones_reached", "skills_in_category"} <= thresholds.keys()


def test_loading_twice_changes_nothing(session: Session, connection: Connection) -> None:
    before = database_snapshot(connection)
    assert database_snapshot(connection) == before


def test_snapshot_notices_an_update_that_writes_the_same_values(
    session: Session, seeded: Connection
) -> None:
    before = database_snapshot(seeded)
    session.execute(text("UPDATE skill_categories SET name = name WHERE slug = 'programming'"))
    assert database_snapshot(seeded) != before
