"""The million-learner generator (benchmarks/million.py) writes what the engine writes.

A small data set (1,000 learners) is built by the generator itself; its every stored aggregate
must equal what its rows and events say (`million.check`, the command run after the full build),
and learners replayed through the engine's own functions (enrol, then each completion at its
moment) must end with the same rows, events and profile as the generated ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from benchmarks import million
from benchmarks.common import libpq_dsn

from tests import databases

LEARNERS = 1_000
REPLAYED = (1, 2, 3, 42, 99, 500, 777, 1_000)


@pytest.fixture(scope="module")
def generated() -> Iterator[psycopg.Connection[Any]]:
    name = databases.test_database_name("million")
    url = databases.create_database(name)
    try:
        million.build(LEARNERS, url)
        with psycopg.connect(libpq_dsn(url)) as conn:
            yield conn
    finally:
        databases.drop_database(name)


def test_the_generated_data_keeps_every_invariant(generated: psycopg.Connection[Any]) -> None:
    assert million.check(generated) == {}
    counts = generated.execute(
        "SELECT (SELECT count(*) FROM user_profiles),"
        " (SELECT count(*) FROM user_skill_tree_progress),"
        " (SELECT avg(skills_completed) FROM user_profiles),"
        " (SELECT count(*) FROM skill_trees WHERE slug LIKE 'million-%')"
    ).fetchone()
    assert counts is not None
    profiles, enrolments, completed, trees = counts
    assert (profiles, enrolments, trees) == (LEARNERS, 2 * LEARNERS, million.TREES)
    assert 9 <= completed <= 11
    generated.rollback()


@pytest.mark.parametrize(
    ("tamper", "broken"),
    [
        (
            "UPDATE user_profiles SET total_xp = total_xp + 1 WHERE user_id = 'm0000007'",
            "profile XP = the sum of the learner's events' XP",
        ),
        (
            "UPDATE user_profiles SET current_streak = current_streak + 1,"
            " max_streak = max_streak + 1 WHERE user_id = 'm0000007'",
            "streaks and last activity = the learning events' local days",
        ),
        (
            "DELETE FROM user_skill_progress WHERE user_id = 'm0000007' AND status = 'AVAILABLE'",
            "every skill whose prerequisites are satisfied is unlocked",
        ),
        (
            "UPDATE user_skill_tree_progress SET skills_completed = skills_completed + 1"
            " WHERE user_id = 'm0000007'",
            "enrolment counts, percent, milestones, minutes = its skill rows",
        ),
    ],
)
def test_the_check_finds_a_broken_aggregate(
    generated: psycopg.Connection[Any], tamper: str, broken: str
) -> None:
    try:
        generated.execute(tamper)
        assert broken in million.check(generated)
    finally:
        generated.rollback()


SKILL_ROW = """
SELECT skill_id, status, progress_percent, time_spent_minutes, attempts_count,
       completion_method, completion_score, evidence_data, unlocked_at, started_at,
       last_activity_at, completed_at, struggling_indicators, engagement_score
FROM user_skill_progress WHERE user_id = %s ORDER BY skill_id
"""
ENROLMENT = """
SELECT skill_tree_id, status, progress_percent, skills_completed, total_skills,
       time_spent_minutes, started_at, last_activity_at, completed_at, milestones_reached,
       created_at
FROM user_skill_tree_progress WHERE user_id = %s ORDER BY skill_tree_id
"""
PROFILE = """
SELECT total_xp, current_level, current_streak, max_streak, last_activity_at, skills_completed,
       hours_learned, trees_started, trees_completed, timezone
FROM user_profiles WHERE user_id = %s
"""
EVENTS = """
SELECT occurred_at, kind, skill_tree_id, skill_id, achievement_id, xp_delta, details
FROM progress_events WHERE user_id = %s ORDER BY id
"""


def _state(conn: psycopg.Connection[Any], user: str) -> dict[str, list[tuple[Any, ...]]]:
    return {
        name: conn.execute(statement, (user,)).fetchall()
        for name, statement in (
            ("skill rows", SKILL_ROW),
            ("enrolments", ENROLMENT),
            ("profile", PROFILE),
            ("events", EVENTS),
        )
    }


@pytest.mark.parametrize("number", REPLAYED)
def test_a_learner_replayed_through_the_engine_ends_as_generated(
    generated: psycopg.Connection[Any], number: int
) -> None:
    learner = million.user_id(number)
    replayed = f"replay-{number}"
    try:
        history = generated.execute(
            "SELECT e.kind, e.occurred_at, t.slug, e.skill_id, (e.details->>'minutes')::int"
            " FROM progress_events e JOIN skill_trees t ON t.id = e.skill_tree_id"
            " WHERE e.user_id = %s AND e.kind IN ('ENROLL', 'COMPLETE') ORDER BY e.id",
            (learner,),
        ).fetchall()
        generated.execute(
            "INSERT INTO users (id, email, username, password_hash)"
            " VALUES (%s, %s || '@replay.example', %s, 'unused')",
            (replayed, replayed, replayed),
        )
        generated.execute(
            "INSERT INTO user_profiles (user_id, timezone)"
            " SELECT %s, timezone FROM user_profiles WHERE user_id = %s",
            (replayed, learner),
        )
        for kind, at, slug, skill, minutes in history:
            if kind == "ENROLL":
                answer = generated.execute(
                    "SELECT progress_enrol(%s, %s, %s)", (replayed, slug, at)
                ).fetchone()
            else:
                answer = generated.execute(
                    "SELECT progress_skill_event('COMPLETE', %s, %s, %s, p_minutes => %s)",
                    (replayed, skill, at, minutes),
                ).fetchone()
            assert answer is not None
            assert "refused" not in answer[0], answer[0]
        assert _state(generated, replayed) == _state(generated, learner)
    finally:
        generated.rollback()
