"""`skilltree db ...` on real databases: migrate, inspect, seed, reset, and fail in one line."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner, Result

from skilltree.cli import app
from skilltree.db import migrate
from skilltree.db.session import create_db_engine
from skilltree.operations.archive import base_backups
from tests import databases
from tests.operations.test_archive import fake_archive

runner = CliRunner()


@pytest.fixture
def point_cli_at(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Set DATABASE_URL for the CLI (forgetting cached settings and engine) for this test."""

    def point(url: str) -> None:
        databases.forget_engine()
        monkeypatch.setenv("DATABASE_URL", url)

    yield point
    databases.forget_engine()


@pytest.fixture
def test_database(point_cli_at: Callable[[str], None]) -> Iterator[str]:
    """A fresh, empty database whose name contains "test", with the CLI pointed at it."""
    name = databases.test_database_name("cli")
    url = databases.create_database(name)
    point_cli_at(url)
    yield url
    databases.forget_engine()
    databases.drop_database(name)


def db(*args: str) -> Result:
    """Run `skilltree db ARGS...`."""
    return runner.invoke(app, ["db", *args])


def count(url: str, query: str) -> int:
    """The count that `query` returns on the database at `url`."""
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(query)).scalar_one())
    finally:
        engine.dispose()


def test_upgrade_then_status_says_up_to_date(test_database: str) -> None:
    head = migrate.head_revision()
    upgraded = db("upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert f"database at revision {head}" in upgraded.stdout
    status = db("status")
    assert status.exit_code == 0
    assert f"current: {head}" in status.stdout
    assert f"head:    {head}" in status.stdout
    assert "up to date" in status.stdout


def test_status_of_an_empty_database_says_behind(test_database: str) -> None:
    status = db("status")
    assert status.exit_code == 0
    assert "current: base (empty)" in status.stdout
    assert "behind: run `skilltree db upgrade`" in status.stdout


def test_seed_twice_loads_once(test_database: str) -> None:
    assert db("upgrade").exit_code == 0
    for _ in range(2):
        seeded = db("seed")
        assert seeded.exit_code == 0, seeded.output
        assert "seed data loaded" in seeded.stdout
    assert count(test_database, "SELECT count(*) FROM users") == 1
    assert count(test_database, "SELECT count(*) FROM skill_trees") == 1
    assert count(test_database, "SELECT count(*) FROM skill_dependencies") == 1


def test_seed_with_the_demo(test_database: str) -> None:
    assert db("upgrade").exit_code == 0
    seeded = db("seed", "--demo")
    assert seeded.exit_code == 0, seeded.output
    assert "seed data loaded with the demo" in seeded.stdout
    assert count(test_database, "SELECT count(*) FROM skill_trees") >= 6
    history = "SELECT count(*) * 1000000 + sum(xp_delta) FROM progress_events"
    events = count(test_database, history)
    assert events > 0
    again = db("seed", "--demo")  # as `make run` does on every start
    assert again.exit_code == 0, again.output
    assert count(test_database, history) == events


def test_downgrade_to_base_empties_the_database(test_database: str) -> None:
    assert db("upgrade").exit_code == 0
    downgraded = db("downgrade", "base")
    assert downgraded.exit_code == 0, downgraded.output
    assert "database at revision base (empty)" in downgraded.stdout
    tables = "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
    assert count(test_database, tables) == 1  # alembic_version


def test_reset_a_test_database_with_yes(test_database: str) -> None:
    assert db("upgrade").exit_code == 0
    assert db("seed").exit_code == 0
    reset = db("reset", "--yes")
    assert reset.exit_code == 0, reset.output
    assert f"migrated to {migrate.head_revision()}" in reset.stdout
    assert count(test_database, "SELECT count(*) FROM users") == 0


def test_reset_refuses_a_database_not_named_test(point_cli_at: Callable[[str], None]) -> None:
    name = f"skilltree_cli_{os.getpid()}"
    url = databases.create_database(name)
    try:
        point_cli_at(url)
        assert db("upgrade").exit_code == 0
        assert db("seed").exit_code == 0
        reset = db("reset", "--yes")
        assert reset.exit_code == 1
        assert "refusing to reset" in reset.stderr
        assert "--force" in reset.stderr
        assert count(url, "SELECT count(*) FROM users") == 1
    finally:
        databases.forget_engine()
        databases.drop_database(name)


def test_unreachable_database_is_one_line_without_the_password(
    point_cli_at: Callable[[str], None],
) -> None:
    point_cli_at("postgresql://u:secretpw@127.0.0.1:1/nope")
    status = db("status")
    assert status.exit_code == 2
    assert isinstance(status.exception, SystemExit)
    lines = status.stderr.splitlines()
    assert len(lines) == 1
    assert "host=127.0.0.1 port=1 database=nope" in lines[0]
    assert "secretpw" not in status.output
    assert "Traceback" not in status.output


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("SESSION_TTL_HOURS", "0", "SESSION_TTL_HOURS=0 is not valid: Input should be greater"),
        ("SESSION_TTL_HOURS", "-5", "SESSION_TTL_HOURS=-5 is not valid"),
        ("SESSION_TTL_HOURS", "1000000", "SESSION_TTL_HOURS=1000000 is not valid: Input should "),
        ("MAX_BODY_BYTES", "-1", "MAX_BODY_BYTES=-1 is not valid"),
        ("PORT", "70000", "PORT=70000 is not valid"),
        ("REDIS_TIMEOUT_MS", "0", "REDIS_TIMEOUT_MS=0 is not valid"),
        ("REDIS_URL", "http://u:secretpw@host", "REDIS_URL is not valid: Value error, must use"),
        ("DATABASE_URL", "mysql://u:secretpw@host/db", "DATABASE_URL is not valid: Value error"),
        (
            "DATABASE_REPLICA_URL",
            "postgresql://u:secretpw@r1/db,mysql://u:secretpw@r2/db",
            "DATABASE_REPLICA_URL is not valid: Value error, must be a postgresql:// URL",
        ),
        (
            "DATABASE_REPLICA_URL",
            "postgresql://u:secretpw@r1/db,,postgresql://u:secretpw@r2/db",
            "DATABASE_REPLICA_URL is not valid: Value error, must be PostgreSQL URLs",
        ),
        ("REPLICA_MAX_LAG_MS", "-1", "REPLICA_MAX_LAG_MS=-1 is not valid"),
        ("REPLICA_CHECK_INTERVAL_MS", "5", "REPLICA_CHECK_INTERVAL_MS=5 is not valid"),
        ("TEXT_SEARCH_CONFIG", "english; drop", "TEXT_SEARCH_CONFIG=english; drop is not valid"),
        ("STATEMENT_TIMEOUT_MS", "0", "STATEMENT_TIMEOUT_MS=0 is not valid"),
        ("IDLE_IN_TRANSACTION_TIMEOUT_MS", "-1", "IDLE_IN_TRANSACTION_TIMEOUT_MS=-1 is not valid"),
        ("CACHE_MEMORY_MB", "-1", "CACHE_MEMORY_MB=-1 is not valid"),
        (
            "DATABASE_POOLER",
            "pgpool",
            "DATABASE_POOLER=pgpool is not valid: Input should be 'none'",
        ),
        ("WORKERS", "0", "WORKERS=0 is not valid: Input should be greater than or equal to 1"),
        ("WORKERS", "257", "WORKERS=257 is not valid: Input should be less than or equal to 256"),
        ("WORKERS", "two", "WORKERS=two is not valid"),
        ("ACCESS_LOG", "sometimes", "ACCESS_LOG=sometimes is not valid"),
        ("SHUTDOWN_TIMEOUT_SECONDS", "0", "SHUTDOWN_TIMEOUT_SECONDS=0 is not valid"),
        ("METRICS_TOKEN", "secretpw", "METRICS_TOKEN is not valid: Value error, must be at least"),
        ("METRICS_TOKEN", "secretpw secretpw ok", "METRICS_TOKEN is not valid: Value error"),
    ],
)
def test_a_setting_out_of_bounds_stops_every_command_in_one_line(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, says: str
) -> None:
    databases.forget_engine()
    monkeypatch.setenv(variable, value)
    try:
        for command in (["serve"], ["db", "status"]):
            result = runner.invoke(app, command)
            assert result.exit_code == 2
            assert isinstance(result.exception, SystemExit)
            [line] = result.stderr.splitlines()
            assert line.startswith(f"error: {says}")
            assert "secretpw" not in result.output
    finally:
        databases.forget_engine()


def test_users_set_role(test_database: str) -> None:
    assert db("upgrade").exit_code == 0
    assert db("seed").exit_code == 0
    promoted = runner.invoke(app, ["users", "set-role", "TEST@skillTree.dev", "AUTHOR"])
    assert promoted.exit_code == 0, promoted.output
    assert "test@skilltree.dev is now AUTHOR" in promoted.stdout
    assert count(test_database, "SELECT count(*) FROM users WHERE role = 'AUTHOR'") == 1
    unknown = runner.invoke(app, ["users", "set-role", "nobody@example.com", "ADMIN"])
    assert unknown.exit_code == 1
    assert "nobody@example.com" in unknown.stderr
    wrong = runner.invoke(app, ["users", "set-role", "test@skilltree.dev", "KING"])
    assert wrong.exit_code == 2


def test_housekeeping_forgets_old_keys_and_deliveries_and_compacts_the_xp_histogram(
    test_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert db("upgrade").exit_code == 0
    assert db("seed").exit_code == 0
    engine = create_db_engine(test_database)
    try:
        with engine.begin() as conn:
            user = conn.execute(text("SELECT id FROM users ORDER BY id LIMIT 1")).scalar_one()
            for key, age in [("old", "8 days"), ("recent", "1 day")]:
                conn.execute(
                    text(
                        "INSERT INTO idempotency_keys (user_id, key, request_hash, created_at)"
                        " VALUES (:u, :k, '\\x00', now() - CAST(:age AS interval))"
                    ),
                    {"u": user, "k": key, "age": age},
                )
            conn.execute(text("INSERT INTO integrations (id, name) VALUES ('ci', 'CI')"))
            for webhook_id, age in [("old", "8 days"), ("recent", "1 day")]:
                conn.execute(
                    text(
                        "INSERT INTO integration_deliveries (user_id, integration_id, webhook_id,"
                        " skill_id, body_sha256, received_at)"
                        " VALUES (:u, 'ci', :w, 's', 'h', now() - CAST(:age AS interval))"
                    ),
                    {"u": user, "w": webhook_id, "age": age},
                )
            # As a contended progress event leaves it: one learner's +1 at 4321 still pending,
            # and a value no learner holds any more.
            conn.execute(
                text("UPDATE user_profiles SET total_xp = 4321 WHERE user_id = :u"), {"u": user}
            )
            conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))  # the histogram moves now
            conn.execute(
                text("UPDATE xp_histogram SET learners = learners - 1 WHERE total_xp = 4321")
            )
            conn.execute(
                text("INSERT INTO xp_histogram_pending (total_xp, learners) VALUES (4321, 1)")
            )
            conn.execute(text("INSERT INTO xp_histogram (total_xp, learners) VALUES (9999, 0)"))
    finally:
        engine.dispose()

    # An embedded server's archive (docs/operations.md, point-in-time recovery): retention too.
    archive = fake_archive(tmp_path, datetime.now(UTC))
    monkeypatch.setenv("SKILLTREE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ARCHIVE_RETENTION_DAYS", "7")
    databases.forget_engine()
    done = db("housekeeping")
    assert done.exit_code == 0, done.output
    assert "archive retention 7 days: 2 base backups deleted, 6 WAL segments deleted" in done.stdout
    assert [b.name for b in base_backups(archive)] == ["backup-8", "backup-3", "backup-1"]
    assert "idempotency keys older than 7 days deleted: 1" in done.stdout
    assert "XP histogram: 1 pending changes folded" in done.stdout
    assert "integration deliveries older than 7 days deleted: 1" in done.stdout
    assert count(test_database, "SELECT count(*) FROM integration_deliveries") == 1
    assert count(test_database, "SELECT count(*) FROM idempotency_keys") == 1
    assert count(test_database, "SELECT count(*) FROM xp_histogram_pending") == 0
    assert count(test_database, "SELECT count(*) FROM xp_histogram WHERE learners = 0") == 0
    assert count(test_database, "SELECT learners FROM xp_histogram WHERE total_xp = 4321") == 1
    wrong = """SELECT count(*) FROM xp_histogram h FULL JOIN (
        SELECT total_xp, count(*) AS learners FROM user_profiles GROUP BY total_xp) p
        USING (total_xp) WHERE h.learners IS DISTINCT FROM p.learners"""
    assert count(test_database, wrong) == 0
    assert db("housekeeping", "--keep-idempotency-days", "0").exit_code == 2
