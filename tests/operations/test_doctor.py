"""`skilltree db doctor` on a database of its own: what it finds, the thresholds that make it
exit 1, its JSON, its growth since the last run, and exit 2 when the database does not answer."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, make_url, text
from typer.testing import CliRunner, Result

from skilltree.cli import app
from skilltree.db import migrate
from skilltree.db.embedded import STATEMENT_STATISTICS
from skilltree.db.session import create_db_engine
from skilltree.db.standby import TEST_REPLICATION_NAMES
from skilltree.operations import doctor as doctor_checks
from tests import databases

runner = CliRunner()
LENIENT = ["--min-cache-hit-ratio", "0", "--max-idle-in-transaction-seconds", "3600"]
"""Thresholds a quiet scratch database never crosses (its cache is cold, the suite's other
sessions are not on it)."""


@pytest.fixture(scope="module")
def scratch() -> Iterator[Engine]:
    """A database of this module's own, migrated to head, with pg_stat_statements created in
    it when the server has it loaded."""
    name = databases.test_database_name("doctor")
    engine = create_db_engine(databases.create_database(name))
    migrate.upgrade(engine)
    with engine.begin() as conn:
        loaded = conn.execute(text("SELECT current_setting('shared_preload_libraries')")).scalar()
        if STATEMENT_STATISTICS in str(loaded):
            conn.execute(text(f"CREATE EXTENSION IF NOT EXISTS {STATEMENT_STATISTICS}"))
    yield engine
    engine.dispose()
    databases.drop_database(name)


@pytest.fixture
def doctor(scratch: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Run `skilltree db doctor ARGS...` on the scratch database."""
    databases.forget_engine()
    monkeypatch.setenv("DATABASE_URL", scratch.url.render_as_string(hide_password=False))

    def run(*args: str) -> Result:
        return runner.invoke(app, ["db", "doctor", *args])

    yield run
    databases.forget_engine()


def report(result: Result) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def libpq(engine: Engine) -> str:
    return make_url(engine.url).set(drivername="postgresql").render_as_string(hide_password=False)


def test_a_clean_database_passes(doctor: Any) -> None:
    result = doctor(*LENIENT)
    assert result.exit_code == 0, result.output
    assert "No threshold crossed." in result.stdout


def test_the_specs_own_duplicate_indexes_are_shown_as_expected(doctor: Any) -> None:
    found = report(doctor("--json", *LENIENT))["duplicate_indexes"]
    assert {(d["table"], tuple(d["indexes"]), d["expected"]) for d in found} == {
        ("public.skill_categories",
         ("public.skill_categories_slug_key", "public.idx_category_slug"), True),
        ("public.skill_trees", ("public.skill_trees_slug_key", "public.idx_tree_slug"), True),
        ("public.users", ("public.users_email_key", "public.idx_user_email"), True),
        ("public.users", ("public.users_username_key", "public.idx_user_username"), True),
    }  # fmt: skip


def test_the_json_report_has_every_check(doctor: Any) -> None:
    result = doctor("--json", *LENIENT)
    assert result.exit_code == 0, result.output
    found = report(result)
    for check in (*doctor_checks.CHECKS, "problems"):
        assert check in found, check
    assert found["problems"] == []
    # No replica streams from the test server but the read-replica tests' own, or their
    # pg_basebackup (tests/replication, perhaps running at the same time in another process).
    assert [r for r in found["replication"] if r["replica"] not in TEST_REPLICATION_NAMES] == []
    relations = {r["relation"]: r for r in found["sizes"]["relations"]}
    assert relations["public.users"]["kind"] == "table"
    assert relations["public.users_pkey"]["kind"] == "index"


def test_top_statements_or_one_line_saying_why_not(doctor: Any, scratch: Engine) -> None:
    with scratch.connect() as conn:
        loaded = STATEMENT_STATISTICS in str(
            conn.execute(text("SELECT current_setting('shared_preload_libraries')")).scalar()
        )
        for _ in range(3):
            conn.execute(text("SELECT count(*) FROM skills"))
    statements = report(doctor("--json", *LENIENT))["statements"]
    if os.environ.get("DATABASE_URL") is None:
        assert loaded, "the embedded server loads pg_stat_statements"
    if loaded:
        assert statements["available"] is True
        assert statements["by_total_time"]
        assert statements["by_mean_time"]
        assert {"calls", "total_ms", "mean_ms", "query"} <= set(statements["by_total_time"][0])
    else:
        assert statements["available"] is False
        assert "shared_preload_libraries" in statements["note"]
        result = doctor(*LENIENT)
        assert "pg_stat_statements is not loaded" in result.stdout


def test_a_duplicate_index_is_a_problem(doctor: Any, scratch: Engine) -> None:
    with scratch.begin() as conn:
        conn.execute(text("CREATE INDEX doctor_test_twice ON skills (xp_value, estimated_minutes)"))
        conn.execute(text("CREATE INDEX doctor_test_again ON skills (xp_value, estimated_minutes)"))
    try:
        result = doctor("--json", *LENIENT)
        assert result.exit_code == 1, result.output
        found = report(result)
        unexpected = [d for d in found["duplicate_indexes"] if not d["expected"]]
        assert [(d["table"], d["indexes"]) for d in unexpected] == [
            ("public.skills", ["public.doctor_test_again", "public.doctor_test_twice"])
        ]
        assert [p["check"] for p in found["problems"]] == ["duplicate_indexes"]
        allowed = doctor("--max-duplicate-indexes", "1", *LENIENT)
        assert allowed.exit_code == 0, allowed.output
    finally:
        with scratch.begin() as conn:
            conn.execute(text("DROP INDEX doctor_test_twice, doctor_test_again"))


def test_an_idle_in_transaction_session_is_a_problem(doctor: Any, scratch: Engine) -> None:
    with psycopg.connect(libpq(scratch)) as idle:
        idle.execute("SELECT 1")  # a transaction begun, then nothing
        pid = idle.info.backend_pid
        result = doctor(
            "--json", "--min-cache-hit-ratio", "0", "--max-idle-in-transaction-seconds", "0"
        )
        assert result.exit_code == 1, result.output
        found = report(result)
        held = found["sessions"]["idle_in_transaction"]
        assert [s["pid"] for s in held] == [pid]
        assert held[0]["query"] == "SELECT 1"
        assert [p["check"] for p in found["problems"]] == ["sessions"]
        shown = doctor("--min-cache-hit-ratio", "0", "--max-idle-in-transaction-seconds", "0")
        assert "idle in a transaction" in shown.stdout
        idle.rollback()


def test_sizes_grow_since_the_last_run(doctor: Any, scratch: Engine) -> None:
    assert doctor("--json", *LENIENT).exit_code == 0
    with scratch.begin() as conn:
        conn.execute(text("CREATE TABLE doctor_growth (x text)"))
        conn.execute(
            text("INSERT INTO doctor_growth SELECT repeat('x', 200) FROM generate_series(1, 20000)")
        )
    try:
        first = report(doctor("--json", *LENIENT))
        assert first["sizes"]["previous_run"] is not None
        grown = doctor("--json", "--max-growth-percent", "10", "--min-growth-mb", "1", *LENIENT)
        assert grown.exit_code == 0, grown.output  # measured against the run just before
        with scratch.begin() as conn:
            conn.execute(text("INSERT INTO doctor_growth SELECT x FROM doctor_growth"))
        grown = doctor("--json", "--max-growth-percent", "10", "--min-growth-mb", "1", *LENIENT)
        assert grown.exit_code == 1, grown.output
        sizes = {r["relation"]: r for r in report(grown)["sizes"]["relations"]}
        assert sizes["public.doctor_growth"]["growth"] > 0
        assert "public.doctor_growth grew" in report(grown)["problems"][0]["message"]
        unrecorded = doctor("--json", "--no-record", *LENIENT)
        assert report(unrecorded)["sizes"]["note"] == "not kept (--no-record)"
    finally:
        with scratch.begin() as conn:
            conn.execute(text("DROP TABLE doctor_growth"))


def test_an_unreachable_database_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    databases.forget_engine()
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/nothing")
    try:
        result = runner.invoke(app, ["db", "doctor"])
    finally:
        databases.forget_engine()
    assert result.exit_code == 2
    assert result.stderr.startswith("error: cannot connect to PostgreSQL")
    assert len(result.stderr.strip().splitlines()) == 1


def test_help_names_every_threshold() -> None:
    result = runner.invoke(app, ["db", "doctor", "--help"], env={"COLUMNS": "250"})
    assert result.exit_code == 0
    for option in (
        "--json",
        "--min-cache-hit-ratio",
        "--max-idle-in-transaction-seconds",
        "--max-duplicate-indexes",
        "--max-replication-lag-seconds",
        "--max-growth-percent",
        "--no-record",
    ):
        assert option in result.output, option
