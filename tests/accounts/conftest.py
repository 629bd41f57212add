"""The accounts API on the test's rolled-back session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.api import api_client
from tests.cache.fixtures import closed_port_url, redis_client  # noqa: F401  (Redis fixtures)

CLIENT_IP = "203.0.113.7"


@pytest.fixture
def client(engine: Engine, session: Session) -> Iterator[TestClient]:
    """A client calling from CLIENT_IP, whose requests use the test's session."""
    with api_client(engine, session, client=(CLIENT_IP, 50000)) as client:
        yield client
