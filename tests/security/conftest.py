"""Two learners with a row of their own in every table row-level security protects."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from skilltree.accounts.service import token_digest
from skilltree.models import (
    Achievement,
    AchievementCategory,
    Base,
    IdempotencyRecord,
    ProgressEvent,
    ProgressEventKind,
    Skill,
    SkillTree,
    User,
    UserAchievement,
    UserSession,
    UserSkillProgress,
    UserSkillTreeProgress,
)
from tests.factories import make_category, make_skill, make_tree, make_user

PROTECTED_TABLES = (
    "user_skill_progress",
    "user_skill_tree_progress",
    "user_achievements",
    "user_sessions",
    "progress_events",
    "idempotency_keys",
)


@dataclass(frozen=True)
class Catalog:
    """What learners' rows point at."""

    tree: SkillTree
    skill: Skill
    achievement: Achievement


@dataclass(frozen=True)
class Learners:
    """Learners `a` and `b`, each with one row in every protected table."""

    a: User
    b: User
    catalog: Catalog


def learner_row(table: str, user: User, catalog: Catalog) -> Base:
    """A new row of `table` that belongs to `user`."""
    match table:
        case "user_skill_progress":
            return UserSkillProgress(
                user_id=user.id, skill_id=catalog.skill.id, skill_tree_id=catalog.tree.id
            )
        case "user_skill_tree_progress":
            return UserSkillTreeProgress(user_id=user.id, skill_tree_id=catalog.tree.id)
        case "user_achievements":
            return UserAchievement(user_id=user.id, achievement_id=catalog.achievement.id)
        case "user_sessions":
            return UserSession(
                user_id=user.id,
                token_hash=token_digest(secrets.token_urlsafe(16)),
                expires_at=datetime.now(UTC) + timedelta(hours=1),
            )
        case "progress_events":
            return ProgressEvent(user_id=user.id, kind=ProgressEventKind.ENROLL)
        case "idempotency_keys":
            return IdempotencyRecord(
                user_id=user.id, key=secrets.token_urlsafe(8), request_hash=b"request"
            )
    raise AssertionError(f"no row builder for {table}")


@pytest.fixture
def learners(session: Session) -> Learners:
    """Learners `a` and `b`, each with one row in every protected table (written as the owner)."""
    tree = make_tree(session, make_category(session))
    achievement = Achievement(
        name="First steps",
        description="Complete a skill.",
        category=AchievementCategory.PROGRESS,
        criteria={"type": "skills_completed", "threshold": 1},
    )
    session.add(achievement)
    catalog = Catalog(tree=tree, skill=make_skill(session, tree), achievement=achievement)
    a, b = make_user(session), make_user(session)
    session.add_all(
        learner_row(table, user, catalog) for table in PROTECTED_TABLES for user in (a, b)
    )
    session.flush()
    return Learners(a=a, b=b, catalog=catalog)
