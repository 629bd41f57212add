"""The Redis fixtures (tests.cache.fixtures) for this folder."""

from tests.cache.fixtures import (  # noqa: F401
    closed_port_url,
    installed_store,
    redis_client,
    redis_store,
    silent_server_url,
)
