"""PostgreSQL itself refuses rows that break the spec's rules, whoever writes them.

Each case writes one bad row with plain SQL (no service, no ORM validation) inside a savepoint and
expects the named constraint to refuse it: services map errors back by these names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Connection, Table, insert, text
from sqlalchemy.exc import IntegrityError

from skilltree.db.base import new_id
from skilltree.models import (
    Achievement,
    Skill,
    SkillCategory,
    SkillDependency,
    SkillTree,
    SkillTreePrerequisite,
    User,
    UserAchievement,
    UserProfile,
    UserSession,
    UserSkillProgress,
    UserSkillTreeProgress,
)


@dataclass(frozen=True)
class World:
    """A category with two trees; skills `a`, `b` in tree one, `c` in tree two; a user."""

    category: str
    tree: str
    other_tree: str
    a: str
    b: str
    c: str
    user: str
    achievement: str


def _add(connection: Connection, table: Table, **values: Any) -> str:
    values.setdefault("id", new_id())
    connection.execute(insert(table).values(**values))
    return str(values["id"])


@pytest.fixture
def world(connection: Connection) -> World:
    """Valid rows for the bad ones to point at."""
    category = _add(connection, SkillCategory.__table__, name="Cat", slug="cat")
    tree = _add(connection, SkillTree.__table__, category_id=category, name="T1", slug="t-1")
    other = _add(connection, SkillTree.__table__, category_id=category, name="T2", slug="t-2")
    return World(
        category=category,
        tree=tree,
        other_tree=other,
        a=_add(connection, Skill.__table__, skill_tree_id=tree, key="a", name="A"),
        b=_add(connection, Skill.__table__, skill_tree_id=tree, key="b", name="B"),
        c=_add(connection, Skill.__table__, skill_tree_id=other, key="c", name="C"),
        user=_add(
            connection, User.__table__, email="u@example.com", username="u", password_hash="x"
        ),
        achievement=_add(
            connection, Achievement.__table__, name="Ach", description="d", criteria={}
        ),
    )


def refused_by(connection: Connection, table: Table, values: dict[str, Any]) -> str | None:
    """Insert one row in a savepoint; the name of the constraint that refused it (None if any)."""
    try:
        with connection.begin_nested():
            connection.execute(insert(table).values(**values))
    except IntegrityError as exc:
        return str(exc.orig.diag.constraint_name)
    return None


def _category(w: World, **bad: Any) -> tuple[Table, dict[str, Any]]:
    return SkillCategory.__table__, {"id": new_id(), "name": "New", "slug": "new"} | bad


def _tree(w: World, **bad: Any) -> tuple[Table, dict[str, Any]]:
    row = {"id": new_id(), "category_id": w.category, "name": "New", "slug": "new"}
    return SkillTree.__table__, row | bad


def _skill(w: World, **bad: Any) -> tuple[Table, dict[str, Any]]:
    row = {"id": new_id(), "skill_tree_id": w.tree, "key": "new", "name": "New"}
    return Skill.__table__, row | bad


def _profile(w: World, **bad: Any) -> tuple[Table, dict[str, Any]]:
    return UserProfile.__table__, {"user_id": w.user} | bad


def _tree_progress(w: World, **bad: Any) -> tuple[Table, dict[str, Any]]:
    row = {"id": new_id(), "user_id": w.user, "skill_tree_id": w.tree}
    return UserSkillTreeProgress.__table__, row | bad


def _skill_progress(w: World, **bad: Any) -> tuple[Table, dict[str, Any]]:
    row = {"id": new_id(), "user_id": w.user, "skill_id": w.a, "skill_tree_id": w.tree}
    return UserSkillProgress.__table__, row | bad


def _achievement(w: World, **bad: Any) -> tuple[Table, dict[str, Any]]:
    row = {"id": new_id(), "name": "New", "description": "d", "criteria": {}}
    return Achievement.__table__, row | bad


def _user_achievement(w: World, **bad: Any) -> tuple[Table, dict[str, Any]]:
    row = {"id": new_id(), "user_id": w.user, "achievement_id": w.achievement}
    return UserAchievement.__table__, row | bad


def _edge(w: World, **bad: Any) -> tuple[Table, dict[str, Any]]:
    row = {"skill_id": w.b, "depends_on_id": w.a, "skill_tree_id": w.tree}
    return SkillDependency.__table__, row | bad


def bad(case: str, row: Callable[[World], tuple[Table, dict[str, Any]]], constraint: str) -> Any:
    """A test case: the bad row (given the world) and the constraint that must refuse it."""
    return pytest.param(row, constraint, id=case)


BAD_ROWS = [
    bad("tree progress below 0%", lambda w: _tree_progress(w, progress_percent=-1),
        "user_skill_tree_progress_progress_percent_range_check"),
    bad("tree progress above 100%", lambda w: _tree_progress(w, progress_percent=100.5),
        "user_skill_tree_progress_progress_percent_range_check"),
    bad("skill progress below 0%", lambda w: _skill_progress(w, progress_percent=-0.1),
        "user_skill_progress_progress_percent_range_check"),
    bad("skill progress above 100%", lambda w: _skill_progress(w, progress_percent=101),
        "user_skill_progress_progress_percent_range_check"),
    bad("achievement progress above 100%", lambda w: _user_achievement(w, progress=150),
        "user_achievements_progress_range_check"),
    bad("achievement progress below 0%", lambda w: _user_achievement(w, progress=-5),
        "user_achievements_progress_range_check"),
    bad("negative skill XP", lambda w: _skill(w, xp_value=-1),
        "skills_xp_value_non_negative_check"),
    bad("negative skill minutes", lambda w: _skill(w, estimated_minutes=-30),
        "skills_estimated_minutes_non_negative_check"),
    bad("node size 0", lambda w: _skill(w, node_size=0), "skills_node_size_range_check"),
    bad("key with a space", lambda w: _skill(w, key="a b"), "skills_key_format_check"),
    bad("key taken in the tree", lambda w: _skill(w, key="a"), "skills_skill_tree_id_key_key"),
    bad("node size 4", lambda w: _skill(w, node_size=4), "skills_node_size_range_check"),
    bad("skill its own parent", lambda w: _skill(w, id="self", parent_skill_id="self"),
        "skills_parent_not_self_check"),
    *(bad(f"completion policy {policy}", lambda w, p=policy: _skill(w, completion_policy=p),
          "skills_completion_policy_valid_check")
      for policy in ({}, [], "MANUAL", {"MANUAL": True}, {"MANUAL": {"x": 1}}, {"QUIZ": {}},
                     {"ASSESSMENT": {"passingScore": 101}}, {"ASSESSMENT": {"passingScore": "80"}},
                     {"TIME_BASED": {}}, {"TIME_BASED": {"minutes": 0}},
                     {"TIME_BASED": {"minutes": 1.5}}, {"TIME_BASED": {"minutes": 100001}})),
    bad("negative achievement reward", lambda w: _achievement(w, xp_reward=-25),
        "achievements_xp_reward_non_negative_check"),
    bad("badge colour without #", lambda w: _achievement(w, badge_color="F59E0B"),
        "achievements_badge_color_hex_check"),
    bad("badge colour not hex", lambda w: _achievement(w, badge_color="#F59E0G"),
        "achievements_badge_color_hex_check"),
    bad("category colour by name", lambda w: _category(w, color="red"),
        "skill_categories_color_hex_check"),
    bad("category colour too short", lambda w: _category(w, color="#FFF"),
        "skill_categories_color_hex_check"),
    bad("category slug with a space", lambda w: _category(w, slug="Bad Slug"),
        "skill_categories_slug_kebab_case_check"),
    bad("category slug with a double dash", lambda w: _category(w, slug="bad--slug"),
        "skill_categories_slug_kebab_case_check"),
    bad("category slug in capitals", lambda w: _category(w, slug="UPPER"),
        "skill_categories_slug_kebab_case_check"),
    bad("tree slug with a space", lambda w: _tree(w, slug="Bad Slug"),
        "skill_trees_slug_kebab_case_check"),
    bad("tree slug with a double dash", lambda w: _tree(w, slug="bad--slug"),
        "skill_trees_slug_kebab_case_check"),
    bad("tree slug in capitals", lambda w: _tree(w, slug="UPPER"),
        "skill_trees_slug_kebab_case_check"),
    bad("negative tree hours", lambda w: _tree(w, estimated_hours=-1),
        "skill_trees_estimated_hours_non_negative_check"),
    bad("negative total XP", lambda w: _profile(w, total_xp=-1),
        "user_profiles_total_xp_non_negative_check"),
    bad("level 0", lambda w: _profile(w, current_level=0),
        "user_profiles_current_level_positive_check"),
    bad("negative streak", lambda w: _profile(w, current_streak=-1, max_streak=0),
        "user_profiles_current_streak_non_negative_check"),
    bad("max streak below current streak", lambda w: _profile(w, current_streak=5, max_streak=3),
        "user_profiles_max_streak_at_least_current_check"),
    bad("negative skills completed", lambda w: _profile(w, skills_completed=-1),
        "user_profiles_skills_completed_non_negative_check"),
    bad("negative hours learned", lambda w: _profile(w, hours_learned=-0.5),
        "user_profiles_hours_learned_non_negative_check"),
    bad("negative trees started", lambda w: _profile(w, trees_started=-1),
        "user_profiles_trees_started_non_negative_check"),
    bad("negative trees completed", lambda w: _profile(w, trees_completed=-1),
        "user_profiles_trees_completed_non_negative_check"),
    bad("negative tree skills completed", lambda w: _tree_progress(w, skills_completed=-1),
        "user_skill_tree_progress_skills_completed_non_negative_check"),
    bad("negative tree total skills", lambda w: _tree_progress(w, total_skills=-1),
        "user_skill_tree_progress_total_skills_non_negative_check"),
    bad("negative tree minutes", lambda w: _tree_progress(w, time_spent_minutes=-1),
        "user_skill_tree_progress_time_spent_minutes_non_negative_check"),
    bad("completed tree without completed_at", lambda w: _tree_progress(w, status="COMPLETED"),
        "user_skill_tree_progress_completed_has_completed_at_check"),
    bad("negative skill minutes spent", lambda w: _skill_progress(w, time_spent_minutes=-1),
        "user_skill_progress_time_spent_minutes_non_negative_check"),
    bad("negative attempts", lambda w: _skill_progress(w, attempts_count=-1),
        "user_skill_progress_attempts_count_non_negative_check"),
    bad("completion score 101", lambda w: _skill_progress(w, completion_score=101),
        "user_skill_progress_completion_score_range_check"),
    bad("engagement score 1.5", lambda w: _skill_progress(w, engagement_score=1.5),
        "user_skill_progress_engagement_score_range_check"),
    bad("completed skill without completed_at",
        lambda w: _skill_progress(w, status="COMPLETED", completion_method="MANUAL"),
        "user_skill_progress_completed_has_completed_at_check"),
    bad("skill completed by a method its policy leaves out",
        lambda w: _skill_progress(w, status="COMPLETED", completed_at=text("now()"),
                                  completion_method="ASSESSMENT"),
        "user_skill_progress_method_allowed"),
    bad("skill completed by no method",
        lambda w: _skill_progress(w, status="COMPLETED", completed_at=text("now()")),
        "user_skill_progress_method_allowed"),
    bad("skill progress in another tree than its skill",
        lambda w: _skill_progress(w, skill_tree_id=w.other_tree),
        "user_skill_progress_skill_tree_fkey"),
    bad("skill depending on itself", lambda w: _edge(w, depends_on_id=w.b),
        "skill_dependencies_not_self_check"),
    bad("dependency on a skill of another tree", lambda w: _edge(w, depends_on_id=w.c),
        "skill_dependencies_depends_on_fkey"),
    bad("dependency filed under its prerequisite's tree",
        lambda w: _edge(w, depends_on_id=w.c, skill_tree_id=w.other_tree),
        "skill_dependencies_skill_fkey"),
    bad("tree requiring itself",
        lambda w: (SkillTreePrerequisite.__table__,
                   {"skill_tree_id": w.tree, "prerequisite_id": w.tree}),
        "skill_tree_prerequisites_not_self_check"),
    bad("ended session still active",
        lambda w: (UserSession.__table__,
                   {"id": new_id(), "user_id": w.user, "token_hash": b"t", "is_active": False,
                    "expires_at": text("now()")}),
        "user_sessions_ended_sessions_have_ended_at_check"),
]  # fmt: skip


@pytest.mark.parametrize(("bad_row", "constraint"), BAD_ROWS)
def test_constraint_refuses_bad_row(
    connection: Connection, world: World, bad_row: Any, constraint: str
) -> None:
    table, values = bad_row(world)
    assert refused_by(connection, table, values) == constraint


def test_the_same_tables_accept_good_rows(connection: Connection, world: World) -> None:
    # The bad rows above differ from these only in the value under test.
    good = [
        _tree_progress(world, progress_percent=100, status="COMPLETED", completed_at=text("now()")),
        _skill_progress(world, progress_percent=0, completion_score=100, engagement_score=1),
        _user_achievement(world, progress=0),
        _skill(world, xp_value=0, estimated_minutes=0, node_size=3),
        _skill(
            world,
            key="policy",
            completion_policy={
                "MANUAL": {},
                "ASSESSMENT": {"passingScore": 100},
                "PROJECT": {},
                "TIME_BASED": {"minutes": 100000},
                "EXTERNAL": {},
            },
        ),
        _skill_progress(
            world,
            skill_id=world.b,
            status="COMPLETED",
            completed_at=text("now()"),
            completion_method="MANUAL",
        ),
        _achievement(world, xp_reward=0, badge_color="#f59e0b"),
        _category(world, slug="good-slug-2", color="#10B981"),
        _profile(world, current_level=1, current_streak=3, max_streak=3),
        _edge(world),
    ]
    for table, values in good:
        assert refused_by(connection, table, values) is None


def _category_changed_long_ago(connection: Connection) -> str:
    # Inserted with old timestamps (the trigger only fires on UPDATE), so a move is visible even
    # though now() stands still inside the test's transaction.
    return _add(
        connection,
        SkillCategory.__table__,
        name="Old",
        slug="old",
        created_at=text("'2000-01-01T00:00:00Z'"),
        updated_at=text("'2000-01-01T00:00:00Z'"),
    )


def _timestamps(connection: Connection, category: str) -> tuple[Any, Any, Any]:
    row = connection.execute(
        text("SELECT created_at, updated_at, now() FROM skill_categories WHERE id = :id"),
        {"id": category},
    ).one()
    return row[0], row[1], row[2]


def test_updated_at_moves_on_a_plain_sql_update(connection: Connection) -> None:
    category = _category_changed_long_ago(connection)
    connection.execute(
        text("UPDATE skill_categories SET description = 'changed' WHERE id = :id"),
        {"id": category},
    )
    created_at, updated_at, now = _timestamps(connection, category)
    assert (created_at.year, updated_at) == (2000, now)


def test_a_writer_cannot_keep_updated_at_from_moving(connection: Connection) -> None:
    category = _category_changed_long_ago(connection)
    connection.execute(
        text(
            "UPDATE skill_categories SET description = 'changed', "
            "updated_at = '2000-01-01T00:00:00Z' WHERE id = :id"
        ),
        {"id": category},
    )
    _, updated_at, now = _timestamps(connection, category)
    assert updated_at == now


def test_deleting_a_skill_deletes_its_edges_and_progress(
    connection: Connection, world: World
) -> None:
    edge_table, edge = _edge(world)
    connection.execute(insert(edge_table).values(**edge))
    progress_table, progress = _skill_progress(world)
    connection.execute(insert(progress_table).values(**progress))
    connection.execute(text("DELETE FROM skills WHERE id = :id"), {"id": world.a})
    edges = connection.execute(text("SELECT count(*) FROM skill_dependencies")).scalar_one()
    progress_rows = connection.execute(
        text("SELECT count(*) FROM user_skill_progress")
    ).scalar_one()
    assert (edges, progress_rows) == (0, 0)


def test_a_category_with_trees_cannot_be_deleted(connection: Connection, world: World) -> None:
    with pytest.raises(IntegrityError) as refused, connection.begin_nested():
        connection.execute(
            text("DELETE FROM skill_categories WHERE id = :id"), {"id": world.category}
        )
    assert refused.value.orig.diag.constraint_name == "skill_trees_category_id_fkey"
