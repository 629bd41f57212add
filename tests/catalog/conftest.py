"""The catalog API on the test's session (so every request sees the test's rows)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from skilltree.app import create_app
from skilltree.dependencies import get_session


@pytest.fixture
def client(engine: Engine, session: Session) -> Iterator[TestClient]:
    """A client for the API whose requests use the test's rolled-back session."""
    app = create_app(engine)

    def test_session() -> Iterator[Session]:
        yield session

    app.dependency_overrides[get_session] = test_session
    with TestClient(app) as client:
        yield client
