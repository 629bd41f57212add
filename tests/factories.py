"""Typed factories for users and catalog rows: sensible defaults, any column overridable, flushed
at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from sqlalchemy.orm import Session

from skilltree.accounts.service import new_token, token_digest
from skilltree.models import (
    Skill,
    SkillCategory,
    SkillDependency,
    SkillTree,
    SkillTreePrerequisite,
    User,
    UserRole,
    UserSession,
)
from tests.api import bearer

_serial = count(1)


def _next() -> int:
    return next(_serial)


def make_user(session: Session, role: UserRole = UserRole.LEARNER, **overrides: Any) -> User:
    """A user with `role`, a unique email and username, and a password no one can sign in with
    (cheaper than hashing one: use `make_token` to act as them)."""
    n = _next()
    values: dict[str, Any] = {
        "email": f"user{n}@example.com",
        "username": f"user{n}",
        "password_hash": "not a hash",
        "role": role,
    }
    user = User(**(values | overrides))
    session.add(user)
    session.flush()
    return user


def make_token(session: Session, user: User) -> str:
    """A bearer token for a new live session of `user`."""
    token = new_token(user.id)
    session.add(
        UserSession(
            user_id=user.id,
            token_hash=token_digest(token),
            expires_at=datetime.now(UTC) + timedelta(hours=1),
        )
    )
    session.flush()
    return token


@dataclass(frozen=True)
class Person:
    """A signed-in user and the headers that act as them."""

    user: User
    headers: dict[str, str]

    @property
    def id(self) -> str:
        """The user's id."""
        return self.user.id


def make_person(session: Session, role: UserRole = UserRole.LEARNER) -> Person:
    """A new user of `role` with a live session, and the headers that act as them."""
    user = make_user(session, role)
    return Person(user, bearer(make_token(session, user)))


def make_category(session: Session, **overrides: Any) -> SkillCategory:
    """An active category with a unique name and slug."""
    n = _next()
    values: dict[str, Any] = {"name": f"Category {n}", "slug": f"category-{n}", "sort_order": 0}
    category = SkillCategory(**(values | overrides))
    session.add(category)
    session.flush()
    return category


def make_tree(session: Session, category: SkillCategory, **overrides: Any) -> SkillTree:
    """A published tree in `category` with a unique name and slug."""
    n = _next()
    values: dict[str, Any] = {
        "category_id": category.id,
        "name": f"Tree {n}",
        "slug": f"tree-{n}",
        "is_published": True,
    }
    tree = SkillTree(**(values | overrides))
    session.add(tree)
    session.flush()
    return tree


def make_skill(session: Session, tree: SkillTree, **overrides: Any) -> Skill:
    """An active skill in `tree` with a unique name and key."""
    n = _next()
    values: dict[str, Any] = {"skill_tree_id": tree.id, "name": f"Skill {n}", "key": f"skill-{n}"}
    skill = Skill(**(values | overrides))
    session.add(skill)
    session.flush()
    return skill


def add_dependency(session: Session, skill: Skill, depends_on: Skill) -> SkillDependency:
    """Make `skill` need `depends_on` first (both in the same tree)."""
    edge = SkillDependency(
        skill_id=skill.id, depends_on_id=depends_on.id, skill_tree_id=skill.skill_tree_id
    )
    session.add(edge)
    session.flush()
    return edge


def add_tree_prerequisite(
    session: Session, tree: SkillTree, prerequisite: SkillTree
) -> SkillTreePrerequisite:
    """Make `tree` ask that `prerequisite` be learnt first."""
    edge = SkillTreePrerequisite(skill_tree_id=tree.id, prerequisite_id=prerequisite.id)
    session.add(edge)
    session.flush()
    return edge
