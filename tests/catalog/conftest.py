"""People for the authoring tests: two authors, an admin, a learner, each with a bearer header."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from skilltree.models import User, UserRole
from tests.api import bearer
from tests.factories import make_token, make_user


@dataclass(frozen=True)
class Person:
    """A signed-in user and the headers that act as them."""

    user: User
    headers: dict[str, str]

    @property
    def id(self) -> str:
        """The user's id."""
        return self.user.id


def _person(session: Session, role: UserRole) -> Person:
    user = make_user(session, role)
    return Person(user, bearer(make_token(session, user)))


@pytest.fixture
def author(session: Session) -> Person:
    """An author."""
    return _person(session, UserRole.AUTHOR)


@pytest.fixture
def other_author(session: Session) -> Person:
    """Another author."""
    return _person(session, UserRole.AUTHOR)


@pytest.fixture
def admin(session: Session) -> Person:
    """An admin."""
    return _person(session, UserRole.ADMIN)


@pytest.fixture
def learner(session: Session) -> Person:
    """A learner."""
    return _person(session, UserRole.LEARNER)
