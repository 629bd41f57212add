"""The demo data is a real curriculum and its learners' progress obeys every progress rule."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, text

from skilltree.accounts.passwords import verify_password
from skilltree.documents import (
    AchievementCriteria,
    LayoutConfig,
    Preferences,
    SkillContent,
    SkillResources,
    ThemeConfig,
    validate_document,
)
from skilltree.gamification.rules import level_for_xp
from skilltree.seed import load_demo
from skilltree.seed.learners import LEARNERS
from tests.seed.loading import database_snapshot, loaded_once, session_on


@pytest.fixture(scope="module")
def demo(engine: Engine) -> Iterator[Connection]:
    """A connection that sees the demo data, loaded once for this module."""
    with loaded_once(engine, load_demo) as connection:
        yield connection


def test_at_least_five_published_trees_of_15_to_60_active_skills(demo: Connection) -> None:
    sizes = demo.execute(
        text(
            "SELECT t.slug, count(s.id) FROM skill_trees t "
            "JOIN skills s ON s.skill_tree_id = t.id AND s.is_active "
            "WHERE t.is_published GROUP BY t.slug"
        )
    ).all()
    assert len([slug for slug, size in sizes if 15 <= size <= 60]) >= 5


def test_the_specs_frontend_skills_are_untouched(demo: Connection) -> None:
    rows = demo.execute(
        text(
            "SELECT s.name, s.position_x, s.position_y FROM skills s "
            "JOIN skill_trees t ON t.id = s.skill_tree_id "
            "WHERE t.slug = 'frontend-web-development' ORDER BY s.name"
        )
    ).all()
    assert [tuple(row) for row in rows] == [
        ("CSS Styling", 200, 0),
        ("HTML Fundamentals", 0, 0),
    ]


def test_every_tree_is_acyclic(demo: Connection) -> None:
    edges = demo.execute(text("SELECT skill_id, depends_on_id FROM skill_dependencies")).all()
    needs: dict[str, set[str]] = {}
    for skill_id, depends_on_id in edges:
        needs.setdefault(skill_id, set()).add(depends_on_id)
        needs.setdefault(depends_on_id, set())
    # Peel off skills whose prerequisites are all peeled: a cycle would never be peeled.
    peeled: set[str] = set()
    while ready := {s for s, required in needs.items() if s not in peeled and required <= peeled}:
        peeled |= ready
    assert peeled == needs.keys()


def test_prerequisites_sit_on_a_higher_layer(demo: Connection) -> None:
    misplaced = demo.execute(
        text(
            "SELECT s.name FROM skill_dependencies d "
            "JOIN skills s ON s.id = d.skill_id JOIN skills p ON p.id = d.depends_on_id "
            "JOIN skill_trees t ON t.id = s.skill_tree_id "
            "WHERE t.slug <> 'frontend-web-development' AND s.position_y <= p.position_y"
        )
    ).all()
    assert misplaced == []


def test_completed_skills_have_completed_prerequisites(demo: Connection) -> None:
    broken = demo.execute(
        text(
            "SELECT usp.user_id, usp.skill_id FROM user_skill_progress usp "
            "JOIN skill_dependencies d ON d.skill_id = usp.skill_id "
            "WHERE usp.status IN ('COMPLETED', 'AVAILABLE', 'IN_PROGRESS') AND NOT EXISTS ("
            "  SELECT 1 FROM user_skill_progress done WHERE done.user_id = usp.user_id "
            "  AND done.skill_id = d.depends_on_id AND done.status = 'COMPLETED')"
        )
    ).all()
    assert broken == []


def test_every_unlocked_skill_has_a_progress_row(demo: Connection) -> None:
    # A skill whose prerequisites a learner completed, in a tree they started, is not forgotten.
    missing = demo.execute(
        text(
            "SELECT tp.user_id, s.id FROM user_skill_tree_progress tp "
            "JOIN skills s ON s.skill_tree_id = tp.skill_tree_id AND s.is_active "
            "WHERE NOT EXISTS (SELECT 1 FROM user_skill_progress usp "
            "  WHERE usp.user_id = tp.user_id AND usp.skill_id = s.id) "
            "AND NOT EXISTS (SELECT 1 FROM skill_dependencies d WHERE d.skill_id = s.id "
            "  AND NOT EXISTS (SELECT 1 FROM user_skill_progress done "
            "    WHERE done.user_id = tp.user_id AND done.skill_id = d.depends_on_id "
            "    AND done.status = 'COMPLETED'))"
        )
    ).all()
    assert missing == []


def test_tree_progress_adds_up(demo: Connection) -> None:
    rows = demo.execute(
        text(
            "SELECT tp.status, tp.progress_percent, tp.skills_completed, tp.total_skills, "
            "  tp.completed_at IS NOT NULL, "
            "  (SELECT count(*) FROM skills s WHERE s.skill_tree_id = tp.skill_tree_id "
            "    AND s.is_active), "
            "  (SELECT count(*) FROM user_skill_progress usp WHERE usp.user_id = tp.user_id "
            "    AND usp.skill_tree_id = tp.skill_tree_id AND usp.status = 'COMPLETED') "
            "FROM user_skill_tree_progress tp"
        )
    ).all()
    assert len(rows) == sum(len(learner.plan) for learner in LEARNERS)
    for status, percent, completed, total, has_completed_at, active, done in rows:
        assert (completed, total) == (done, active)
        assert percent == pytest.approx(done * 100 / active)
        assert (status == "COMPLETED") == (done == active) == has_completed_at


def test_profiles_add_up(demo: Connection) -> None:
    rows = demo.execute(
        text(
            "SELECT u.email, p.total_xp, p.current_level, p.skills_completed, p.trees_started, "
            "  p.trees_completed, "
            "  (SELECT coalesce(sum(s.xp_value), 0) FROM user_skill_progress usp "
            "    JOIN skills s ON s.id = usp.skill_id "
            "    WHERE usp.user_id = u.id AND usp.status = 'COMPLETED'), "
            "  (SELECT coalesce(sum(a.xp_reward), 0) FROM user_achievements ua "
            "    JOIN achievements a ON a.id = ua.achievement_id WHERE ua.user_id = u.id), "
            "  (SELECT count(*) FROM user_skill_progress usp "
            "    WHERE usp.user_id = u.id AND usp.status = 'COMPLETED'), "
            "  (SELECT count(*) FROM user_skill_tree_progress tp WHERE tp.user_id = u.id), "
            "  (SELECT count(*) FROM user_skill_tree_progress tp "
            "    WHERE tp.user_id = u.id AND tp.status = 'COMPLETED') "
            "FROM users u JOIN user_profiles p ON p.user_id = u.id"
        )
    ).all()
    learners = {learner.email for learner in LEARNERS}
    assert learners <= {row[0] for row in rows}
    for email, xp, level, completed, started, finished, skill_xp, rewards, *counts in rows:
        assert xp == skill_xp + rewards, email
        assert level == level_for_xp(xp)
        assert [completed, started, finished] == counts, email
        if email in learners:
            assert completed > 0


def test_first_steps_is_awarded_to_every_learner_who_completed_a_skill(demo: Connection) -> None:
    rows = demo.execute(
        text(
            "SELECT p.skills_completed > 0, EXISTS (SELECT 1 FROM user_achievements ua "
            "  JOIN achievements a ON a.id = ua.achievement_id "
            "  WHERE ua.user_id = p.user_id AND a.name = 'First Steps') "
            "FROM user_profiles p"
        )
    ).all()
    assert all(has_completed == has_badge for has_completed, has_badge in rows)


def test_demo_learners_log_in_with_the_demo_password(demo: Connection) -> None:
    password_hash = demo.execute(
        text("SELECT password_hash FROM users WHERE email = :email"), {"email": LEARNERS[0].email}
    ).scalar_one()
    assert verify_password(password_hash, "password123")


def test_every_json_column_is_a_valid_document(demo: Connection) -> None:
    columns = {
        "SELECT content FROM skills": SkillContent,
        "SELECT resources FROM skills WHERE resources IS NOT NULL": SkillResources,
        "SELECT layout_config FROM skill_trees": LayoutConfig,
        "SELECT theme_config FROM skill_trees": ThemeConfig,
        "SELECT criteria FROM achievements": AchievementCriteria,
        "SELECT preferences FROM user_profiles": Preferences,
    }
    for query, model in columns.items():
        for (document,) in demo.execute(text(query)):
            # Stored as the services would store it: valid, and already in normal form.
            assert validate_document(model, document) == document


def test_loading_the_demo_twice_changes_nothing(demo: Connection) -> None:
    before = database_snapshot(demo)
    with session_on(demo) as session:
        load_demo(session)
        session.flush()
        assert database_snapshot(demo) == before
