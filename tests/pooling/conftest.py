"""PgBouncers of the tests' own in front of the test server, in transaction mode."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from skilltree.db.pgbouncer import PgBouncer
from tests.databases import pgbouncer


@pytest.fixture(scope="module")
def bouncer() -> Iterator[PgBouncer]:
    """Two server connections for many clients: transactions keep changing connection."""
    with pgbouncer(pool_size=2) as bouncer:
        yield bouncer


@pytest.fixture(scope="module")
def single_bouncer() -> Iterator[PgBouncer]:
    """One server connection: every client's transactions take turns on it."""
    with pgbouncer(pool_size=1) as bouncer:
        yield bouncer
