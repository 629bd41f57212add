"""The harness itself: the cluster scripts/citus starts is a coordinator with two active workers,
Citus on every node, and the coordinator's database migrated to head and seeded."""

from __future__ import annotations

import psycopg
import pytest

from scripts.citus.cluster import Cluster
from skilltree.db.migrate import head_revision

pytestmark = pytest.mark.citus


def test_every_node_has_citus_and_the_coordinator_knows_both_workers(
    citus_cluster: Cluster,
) -> None:
    for node in citus_cluster.nodes:
        with psycopg.connect(node.conninfo()) as conn:
            row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'citus'")
            assert row.fetchone() is not None, node.name
    with psycopg.connect(citus_cluster.coordinator.conninfo()) as conn:
        active = conn.execute("SELECT node_name, node_port FROM citus_get_active_worker_nodes()")
        assert sorted(active.fetchall()) == sorted(
            ("127.0.0.1", worker.port) for worker in citus_cluster.workers
        )


def test_the_coordinator_is_migrated_to_head_and_seeded_with_the_demo(
    citus_cluster: Cluster,
) -> None:
    with psycopg.connect(citus_cluster.coordinator.conninfo()) as conn:
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        assert revision == (head_revision(),)
        learners = conn.execute("SELECT count(*) FROM user_profiles").fetchone()
        trees = conn.execute("SELECT count(*) FROM skill_trees").fetchone()
    assert learners is not None
    assert learners[0] > 0
    assert trees is not None
    assert trees[0] > 0
