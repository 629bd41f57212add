"""The partitioned event history (migration 0049, operations/history.py): converted in place and
back with every row, events routed to their month or the default partition, housekeeping
moving the default's rows into their month, archive and restore, row-level security on the
partitions, and completions going on while a partition is attached."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import ProgrammingError

from skilltree.db import migrate
from skilltree.db.session import create_db_engine
from skilltree.operations import history
from tests import databases
from tests.locks import TIMEOUT

BEFORE = "0047"
NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
CHECKSUM = text(
    "SELECT count(*), md5(string_agg(md5(e::text), '' ORDER BY id)) FROM progress_events e"
)
WHERE = text("SELECT tableoid::regclass::text FROM progress_events WHERE id = :id")


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    """A database of its own, migrated to 0047 with two learners and events over four months
    (September to November 2026)."""
    name = databases.test_database_name("history")
    engine = create_db_engine(databases.create_database(name))
    migrate.upgrade(engine, BEFORE)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, email, username, password_hash) VALUES"
                " ('h1', 'h1@example.com', 'h1', 'x'), ('h2', 'h2@example.com', 'h2', 'x')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO progress_events (user_id, kind, xp_delta, occurred_at)"
                " SELECT CASE WHEN g % 2 = 0 THEN 'h1' ELSE 'h2' END, 'ACTIVITY', g % 7,"
                "        timestamptz '2026-09-01 00:00+00' + g * interval '9 hours'"
                " FROM generate_series(0, 239) g"
            )
        )
    yield engine
    engine.dispose()
    databases.drop_database(name)


def _checksum(engine: Engine) -> tuple[object, ...]:
    with engine.connect() as connection:
        return tuple(connection.execute(CHECKSUM).one())


def _insert(engine: Engine, at: datetime, user: str = "h1") -> int:
    with engine.begin() as connection:
        return int(
            connection.execute(
                text(
                    "INSERT INTO progress_events (user_id, kind, occurred_at)"
                    " VALUES (:user, 'ACTIVITY', :at) RETURNING id"
                ),
                {"user": user, "at": at},
            ).scalar_one()
        )


def _where(engine: Engine, event: int) -> str:
    with engine.connect() as connection:
        return str(connection.execute(WHERE, {"id": event}).scalar_one())


def test_the_migration_converts_in_place_and_back_with_every_row(engine: Engine) -> None:
    before = _checksum(engine)
    assert before[0] == 240
    migrate.upgrade(engine)
    with engine.connect() as connection:
        kind = connection.execute(
            text("SELECT relkind FROM pg_class WHERE oid = 'progress_events'::regclass")
        ).scalar_one()
        months = connection.execute(
            text("SELECT DISTINCT tableoid::regclass::text FROM progress_events ORDER BY 1")
        ).scalars()
        assert kind == "p"
        assert list(months) == [
            "progress_history.progress_events_2026_09",
            "progress_history.progress_events_2026_10",
            "progress_history.progress_events_2026_11",
        ]
    assert _checksum(engine) == before
    migrate.downgrade(engine, BEFORE)
    with engine.connect() as connection:
        kind = connection.execute(
            text("SELECT relkind FROM pg_class WHERE oid = 'progress_events'::regclass")
        ).scalar_one()
        assert kind == "r"
        assert (
            connection.execute(text("SELECT to_regnamespace('progress_history')")).scalar() is None
        )
    assert _checksum(engine) == before
    # The ids go on where they were, through both conversions.
    migrate.upgrade(engine)
    assert _insert(engine, NOW) == 241
    assert _checksum(engine)[0] == 241


def test_an_event_goes_to_its_month_or_to_the_default_partition(engine: Engine) -> None:
    migrate.upgrade(engine)
    assert _where(engine, _insert(engine, NOW)) == "progress_history.progress_events_2026_12"
    early = _insert(engine, datetime(2025, 3, 2, tzinfo=UTC))
    assert _where(engine, early) == "progress_history.progress_events_default"


def test_housekeeping_moves_the_default_rows_into_their_month(engine: Engine) -> None:
    migrate.upgrade(engine)
    late = _insert(engine, datetime(2031, 5, 2, tzinfo=UTC))
    assert _where(engine, late) == "progress_history.progress_events_default"
    before = _checksum(engine)
    added = history.prepare(engine, NOW)
    assert date(2031, 5, 1) in added
    assert _where(engine, late) == "progress_history.progress_events_2031_05"
    assert _checksum(engine) == before
    with engine.connect() as connection:
        left = connection.execute(
            text("SELECT count(*) FROM progress_history.progress_events_default")
        ).scalar_one()
        assert left == 0
    assert history.prepare(engine, NOW) == []  # nothing more to do


def _learner_state(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                text(
                    "SELECT user_id, total_xp, current_streak, max_streak FROM user_profiles"
                    " ORDER BY user_id"
                )
            )
        ]


def test_archive_and_restore_round_trip_without_changing_xp_or_streaks(engine: Engine) -> None:
    migrate.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO user_profiles (user_id, total_xp, current_streak, max_streak)"
                " VALUES ('h1', 500, 3, 9), ('h2', 70, 1, 4) ON CONFLICT (user_id) DO UPDATE"
                " SET total_xp = excluded.total_xp"
            )
        )
        connection.execute(text("SELECT analytics_fold()"))
    learners, everything = _learner_state(engine), _checksum(engine)
    done = history.archive(engine, 2, NOW)  # keeps November and December on
    try:
        # (and any older month another test made, such as March 2025's)
        assert {date(2026, 9, 1), date(2026, 10, 1)} <= set(done.months)
        assert all(month < date(2026, 11, 1) for month in done.months)
        assert done.unfolded == []
        with engine.connect() as connection:
            archived = connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'progress_archive'")
            ).scalars()
            assert sorted(archived) == [f"progress_events_{m:%Y_%m}" for m in done.months]
            oldest = connection.execute(text("SELECT min(occurred_at) FROM progress_events"))
            assert oldest.scalar_one() >= datetime(2026, 11, 1, tzinfo=UTC)
        assert _learner_state(engine) == learners
        assert history.restore(engine, date(2026, 9, 1)) == [date(2026, 9, 1)]
    finally:
        restored = history.restore(engine, None)
    assert sorted([date(2026, 9, 1), *restored]) == sorted(done.months)
    assert _checksum(engine) == everything
    assert _learner_state(engine) == learners


def test_a_month_with_events_not_folded_yet_is_not_archived(engine: Engine) -> None:
    migrate.upgrade(engine)
    _insert(engine, datetime(2026, 10, 5, tzinfo=UTC))
    try:
        done = history.archive(engine, 2, NOW)
        assert date(2026, 10, 1) in done.unfolded
        assert date(2026, 10, 1) not in done.months
    finally:
        history.restore(engine, None)


def test_the_api_role_sees_only_its_rows_and_no_partition(engine: Engine) -> None:
    migrate.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(
            text(
                "SELECT set_config('role', 'skilltree_app', true),"
                " set_config('app.current_user_id', 'h2', true)"
            )
        )
        users = connection.execute(text("SELECT DISTINCT user_id FROM progress_events"))
        assert list(users.scalars()) == ["h2"]
    for table in ("progress_events_2026_12", "progress_events_default"):
        with engine.begin() as c:
            c.execute(text("SET LOCAL role skilltree_app"))
            with pytest.raises(ProgrammingError, match="permission denied"):
                c.execute(text(f"SELECT count(*) FROM progress_history.{table}"))
    with engine.connect() as connection:
        unprotected = connection.execute(
            text(
                "SELECT c.relname FROM pg_class c WHERE c.relnamespace ="
                " 'progress_history'::regnamespace AND c.relkind = 'r' AND (NOT c.relrowsecurity"
                " OR NOT EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = c.oid))"
            )
        ).scalars()
        assert list(unprotected) == []


def test_an_event_is_written_while_a_partition_is_being_attached(engine: Engine) -> None:
    migrate.upgrade(engine)
    attaching = engine.connect()
    try:
        attaching.execute(text("SELECT progress_history_add_month('2032-01-01')"))
        holder = attaching.execute(text("SELECT pg_backend_pid()")).scalar_one()
        # The attaching transaction is open, its locks held: a learner's event still goes in.
        written = threading.Event()

        def complete() -> None:
            with engine.begin() as connection:
                connection.execute(text("SET LOCAL lock_timeout = '30s'"))
                connection.execute(
                    text(
                        "SELECT set_config('role', 'skilltree_app', true),"
                        " set_config('app.current_user_id', 'h1', true)"
                    )
                )
                connection.execute(
                    text(
                        "INSERT INTO progress_events (user_id, kind, occurred_at)"
                        " VALUES ('h1', 'COMPLETE', now())"
                    )
                )
            written.set()

        writer = threading.Thread(target=complete)
        writer.start()
        assert written.wait(TIMEOUT), "the event waited for the partition being attached"
        writer.join()
        with engine.connect() as probe:
            blocked = probe.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))"
                ),
                {"pid": holder},
            ).scalar_one()
            assert blocked == 0
        attaching.commit()
    finally:
        attaching.close()
    assert _where(engine, _insert(engine, datetime(2032, 1, 9, tzinfo=UTC))).endswith("2032_01")
