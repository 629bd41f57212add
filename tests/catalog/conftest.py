"""People for the authoring tests: two authors, an admin, a learner, each with a bearer header."""

from __future__ import annotations

from tests.cache.fixtures import (  # noqa: F401  (the Redis fixtures, for test_redis_cache)
    closed_port_url,
    installed_store,
    redis_client,
    redis_store,
    silent_server_url,
)
