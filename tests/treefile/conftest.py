"""Tree-file fixtures: the category the sample files name, and users of each role."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from skilltree.models import SkillCategory, User, UserRole
from tests.factories import make_category

MakeUser = Callable[[UserRole], User]


@pytest.fixture
def category(session: Session) -> SkillCategory:
    """The category `web-dev` that the sample tree files name."""
    return make_category(session, name="Web Dev", slug="web-dev")


@pytest.fixture
def make_user(session: Session) -> MakeUser:
    """Make a user with a role (not signed in: for service-level tests)."""
    made = 0

    def make(role: UserRole) -> User:
        nonlocal made
        made += 1
        user = User(
            email=f"user{made}@example.com", username=f"user{made}", password_hash="-", role=role
        )
        session.add(user)
        session.flush()
        return user

    return make
