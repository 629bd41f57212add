"""People for the authoring tests: two authors, an admin, a learner, each with a bearer header."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from skilltree.models import UserRole
from tests.cache.fixtures import (  # noqa: F401  (the Redis fixtures, for test_redis_cache)
    closed_port_url,
    installed_store,
    redis_client,
    redis_store,
    silent_server_url,
)
from tests.factories import Person, make_person


@pytest.fixture
def author(session: Session) -> Person:
    """An author."""
    return make_person(session, UserRole.AUTHOR)


@pytest.fixture
def other_author(session: Session) -> Person:
    """Another author."""
    return make_person(session, UserRole.AUTHOR)


@pytest.fixture
def admin(session: Session) -> Person:
    """An admin."""
    return make_person(session, UserRole.ADMIN)


@pytest.fixture
def learner(session: Session) -> Person:
    """A learner."""
    return make_person(session, UserRole.LEARNER)
