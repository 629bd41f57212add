"""The Citus cluster of the session's own (scripts/citus/cluster.py), started once for the tests
marked `citus`, and only when asked for (`pytest --citus`, SKILLTREE_CITUS=1): otherwise those
tests are deselected (tests/conftest.py). Without Citus installed they are skipped, with the reason
(failed under SKILLTREE_REQUIRE_SERVICES=1)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.citus.cluster import CitusMissing, Cluster, citus_library, postgresql_programs, start
from scripts.citus.cluster import stop as stop_cluster
from tests.services import service_missing

BUILD_HINT = "build it from source into the local PostgreSQL: scripts/citus/README.md"


@pytest.fixture(scope="session")
def citus_cluster() -> Iterator[Cluster]:
    """A coordinator and two workers on loopback, `skilltree` migrated and seeded with the demo."""
    try:
        citus_library(postgresql_programs())
    except CitusMissing as missing:
        service_missing("Citus", f"{missing}; {BUILD_HINT}")
    root = Path(tempfile.mkdtemp(prefix="skilltree-citus-"))
    root.chmod(0o755)  # the nodes' user (postgres, when run as root) reaches its directory
    try:
        cluster = start(root / "cluster")
        yield cluster
        stop_cluster(cluster)
    finally:
        shutil.rmtree(root, ignore_errors=True)
