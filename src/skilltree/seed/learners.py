"""The demo's learners and the progress they have made, consistent with the trees' prerequisites.

A learner's plan says how many skills of each tree they have completed; they complete them in the
tree's learning order (every prerequisite first), so the stored progress obeys every rule the
progress service enforces: completed skills have completed prerequisites, the skills just unlocked
are AVAILABLE (one IN_PROGRESS), and tree and profile totals add up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from skilltree.db.base import new_id
from skilltree.gamification import rules
from skilltree.models import (
    CompletionMethod,
    SkillProgressStatus,
    SkillType,
    TreeProgressStatus,
)
from skilltree.seed.rows import Row


@dataclass(frozen=True)
class LearnerOutline:
    """A demo learner: who they are and how far they got in each tree (None: the whole tree)."""

    email: str
    username: str
    first_name: str
    last_name: str
    bio: str
    location: str
    timezone: str
    learning_goals: tuple[str, ...]
    interests: tuple[str, ...]
    current_streak: int
    max_streak: int
    active_days: int
    """Over how many days, ending now, their completions are spread."""
    plan: tuple[tuple[str, int | None], ...]

    def user_row(self) -> Row:
        """The `users` row (without id and password hash)."""
        return {
            "email": self.email,
            "username": self.username,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "is_active": True,
            "email_verified": True,
        }

    def profile_row(self) -> Row:
        """The `user_profiles` row before any progress (without user id)."""
        return {
            "bio": self.bio,
            "location": self.location,
            "timezone": self.timezone,
            "learning_goals": list(self.learning_goals),
            "interests": list(self.interests),
            "preferences": {"emailNotifications": True, "dailyGoalMinutes": 30, "theme": "system"},
        }


LEARNERS = (
    LearnerOutline(
        email="maya.chen@skilltree.dev",
        username="maya_chen",
        first_name="Maya",
        last_name="Chen",
        bio="Marketing analyst teaching herself data science, one notebook at a time.",
        location="Toronto, Canada",
        timezone="America/Toronto",
        learning_goals=("Automate my weekly reports", "Build a customer churn model"),
        interests=("data visualisation", "statistics", "python"),
        current_streak=12,
        max_streak=21,
        active_days=60,
        plan=(("python-for-data-science", 14), ("sql-and-relational-databases", 6)),
    ),
    LearnerOutline(
        email="leo.okafor@skilltree.dev",
        username="leo_okafor",
        first_name="Leo",
        last_name="Okafor",
        bio="Support engineer moving into backend development.",
        location="Lagos, Nigeria",
        timezone="Africa/Lagos",
        learning_goals=("Get a backend developer job", "Ship my own API"),
        interests=("apis", "databases", "devops"),
        current_streak=34,
        max_streak=34,
        active_days=90,
        plan=(
            ("sql-and-relational-databases", None),
            ("backend-web-development-with-python", 11),
            ("devops-foundations", 4),
        ),
    ),
    LearnerOutline(
        email="priya.nair@skilltree.dev",
        username="priya_nair",
        first_name="Priya",
        last_name="Nair",
        bio="Graphic designer learning UX and enough front end to prototype in code.",
        location="Bengaluru, India",
        timezone="Asia/Kolkata",
        learning_goals=("Switch to a UX design role", "Prototype my designs in React"),
        interests=("design", "accessibility", "web development"),
        current_streak=5,
        max_streak=9,
        active_days=45,
        plan=(
            ("frontend-web-development", None),
            ("ux-design-basics", None),
            ("javascript-and-react", 6),
        ),
    ),
    LearnerOutline(
        email="sam.jensen@skilltree.dev",
        username="sam_jensen",
        first_name="Sam",
        last_name="Jensen",
        bio="Student who just set up a home server and wants to understand what it is doing.",
        location="Copenhagen, Denmark",
        timezone="Europe/Copenhagen",
        learning_goals=("Run my own server safely",),
        interests=("linux", "self-hosting"),
        current_streak=1,
        max_streak=3,
        active_days=4,
        plan=(("devops-foundations", 2), ("frontend-web-development", 1)),
    ),
)
DEMO_PASSWORD = "password123"


@dataclass(frozen=True)
class SkillNode:
    """What progress needs to know about one active skill."""

    id: str
    skill_type: SkillType
    xp_value: int
    estimated_minutes: int
    is_milestone: bool


@dataclass
class TreeGraph:
    """A tree's active skills in learning order, with each skill's prerequisites."""

    id: str
    category_slug: str
    order: list[SkillNode] = field(default_factory=list)
    needs: dict[str, set[str]] = field(default_factory=dict)


@dataclass
class LearnerProgress:
    """The rows one learner's plan produces."""

    tree_rows: list[Row] = field(default_factory=list)
    skill_rows: list[Row] = field(default_factory=list)
    achievement_rows: list[Row] = field(default_factory=list)
    profile: Row = field(default_factory=dict)


def plan_progress(
    learner: LearnerOutline,
    user_id: str,
    trees: dict[str, TreeGraph],
    achievements: Sequence[tuple[str, dict[str, Any], int]],
    now: datetime,
) -> LearnerProgress:
    """Every progress row of `learner` (achievements given as (id, criteria, xp reward))."""
    completions = [
        (trees[slug], node)
        for slug, count in learner.plan
        for node in trees[slug].order[: count if count is not None else None]
    ]
    span = timedelta(days=learner.active_days)
    completed_at: dict[str, datetime] = {}
    result = LearnerProgress()
    for i, (tree, node) in enumerate(completions):
        finished = now - timedelta(hours=2) - span * (len(completions) - 1 - i) / len(completions)
        completed_at[node.id] = finished
        spent = max(1, node.estimated_minutes * (8 + i % 5) // 10)
        started = finished - timedelta(minutes=2 * spent)
        result.skill_rows.append(
            _skill_row(user_id, tree, node, SkillProgressStatus.COMPLETED)
            | {
                "progress_percent": 100.0,
                "time_spent_minutes": spent,
                "attempts_count": 1 + i % 2,
                "completion_method": _completion_method(node.skill_type),
                "completion_score": None
                if node.skill_type is SkillType.PRACTICAL
                else float(72 + (i * 7) % 28),
                "engagement_score": 0.6 + (i % 4) / 10,
                "unlocked_at": started,
                "started_at": started,
                "last_activity_at": finished,
                "completed_at": finished,
            }
        )

    for slug, _ in learner.plan:
        tree = trees[slug]
        result.tree_rows.append(_tree_progress(user_id, tree, completed_at, result, now))

    skill_xp = sum(node.xp_value for _, node in completions)
    by_category: dict[str, int] = {}
    for tree, _ in completions:
        by_category[tree.category_slug] = by_category.get(tree.category_slug, 0) + 1
    measures = rules.LearnerMeasures(
        skills_completed=len(completions),
        best_streak=learner.max_streak,
        trees_completed=sum(
            row["status"] is TreeProgressStatus.COMPLETED for row in result.tree_rows
        ),
        milestones_reached=sum(node.is_milestone for _, node in completions),
        skills_by_category=by_category,
    )
    last_activity = max(
        (row["last_activity_at"] for row in result.skill_rows if row["last_activity_at"]),
        default=now - timedelta(days=1),
    )
    total_xp = skill_xp
    earned: set[str] = set()
    # Rewards raise XP, which may cross an XP threshold: award until nothing more is earned.
    while True:
        measures = replace(measures, total_xp=total_xp)
        new = [a for a in achievements if a[0] not in earned and rules.is_met(a[1], measures)]
        if not new:
            break
        for achievement_id, _, reward in new:
            earned.add(achievement_id)
            total_xp += reward
            result.achievement_rows.append(
                {
                    "id": new_id(),
                    "user_id": user_id,
                    "achievement_id": achievement_id,
                    "earned_at": last_activity,
                    "progress": 100.0,
                }
            )
    minutes = sum(row["time_spent_minutes"] for row in result.skill_rows)
    result.profile = {
        "total_xp": total_xp,
        "current_level": rules.level_for_xp(total_xp),
        "current_streak": learner.current_streak,
        "max_streak": learner.max_streak,
        "last_activity_at": last_activity,
        "skills_completed": len(completions),
        "hours_learned": round(minutes / 60, 1),
        "trees_started": len(result.tree_rows),
        "trees_completed": measures.trees_completed,
    }
    return result


def _tree_progress(
    user_id: str,
    tree: TreeGraph,
    completed_at: dict[str, datetime],
    result: LearnerProgress,
    now: datetime,
) -> Row:
    """The tree's progress row; adds its AVAILABLE and IN_PROGRESS skill rows to `result`."""
    done = [node for node in tree.order if node.id in completed_at]
    first_start = min(
        (row["started_at"] for row in result.skill_rows if row["skill_tree_id"] == tree.id),
        default=now - timedelta(days=1),
    )
    unlocked = [
        node
        for node in tree.order
        if node.id not in completed_at and tree.needs.get(node.id, set()) <= completed_at.keys()
    ]
    for position, node in enumerate(unlocked):
        unlocked_at = max(
            (completed_at[n] for n in tree.needs.get(node.id, set())), default=first_start
        )
        row = _skill_row(user_id, tree, node, SkillProgressStatus.AVAILABLE) | {
            "unlocked_at": unlocked_at
        }
        if position == 0:  # the learner is working on the next skill in order
            started = max(unlocked_at, now - timedelta(days=1))
            row |= {
                "status": SkillProgressStatus.IN_PROGRESS,
                "progress_percent": 40.0,
                "time_spent_minutes": max(1, node.estimated_minutes * 4 // 10),
                "attempts_count": 1,
                "started_at": started,
                "last_activity_at": started,
            }
        result.skill_rows.append(row)
    rows = [row for row in result.skill_rows if row["skill_tree_id"] == tree.id]
    complete = len(done) == len(tree.order)
    last_activity = max(row["last_activity_at"] or first_start for row in rows)
    return {
        "id": new_id(),
        "user_id": user_id,
        "skill_tree_id": tree.id,
        "status": TreeProgressStatus.COMPLETED if complete else TreeProgressStatus.IN_PROGRESS,
        "progress_percent": len(done) * 100 / len(tree.order),
        "skills_completed": len(done),
        "total_skills": len(tree.order),
        "time_spent_minutes": sum(row["time_spent_minutes"] for row in rows),
        "started_at": first_start,
        "last_activity_at": last_activity,
        "completed_at": max(completed_at[node.id] for node in done) if complete else None,
        "milestones_reached": [node.id for node in done if node.is_milestone],
    }


def _skill_row(user_id: str, tree: TreeGraph, node: SkillNode, status: SkillProgressStatus) -> Row:
    return {
        "id": new_id(),
        "user_id": user_id,
        "skill_id": node.id,
        "skill_tree_id": tree.id,
        "status": status,
        "progress_percent": 0.0,
        "time_spent_minutes": 0,
        "attempts_count": 0,
        "completion_method": None,
        "completion_score": None,
        "engagement_score": None,
        "unlocked_at": None,
        "started_at": None,
        "last_activity_at": None,
        "completed_at": None,
    }


def _completion_method(skill_type: SkillType) -> CompletionMethod:
    if skill_type is SkillType.PROJECT:
        return CompletionMethod.PROJECT
    if skill_type is SkillType.PRACTICAL:
        return CompletionMethod.MANUAL
    return CompletionMethod.ASSESSMENT
