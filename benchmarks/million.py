"""A million learners on one node (issue 16 part 6): the data set, its invariants, its latencies.

    python -m benchmarks.million build [--learners N]   # default 1,000,000 (~30 min, ~20 GB)
    python -m benchmarks.million check                   # every stored aggregate against the events
    python -m benchmarks.million measure                 # p50/p95 of each read against its floor
    python -m benchmarks.million drop                    # drop the database

Opt-in: `make bench` runs it only with BENCH_MILLION=1. The data lives in its own database,
`<prefix>_bench_million` (`_<N>` appended for another size) on DATABASE_URL's server or on the
embedded one (SKILLTREE_DATA_DIR, `.skilltree` of the checkout); `drop` removes it.

The data: 50 published trees of 200 skills (imported as tree files, so their ranks and stored
graphs are their writer's), N learners with a profile (five time zones), each enrolled in two
trees and having completed the first 1-9 skills of each in the file's order (a prefix closed
under prerequisites: 10 on average), one a day, with a missed day after every 2-7 days. Every
row and event is the one the engine would have written for that history (enrol at
`enrolled_at`, then `progress_skill_event('COMPLETE', ..., p_minutes)` at each completion):
`tests/test_million.py` replays learners through the engine and compares row by row.

How it is written (as pg_restore would): `INSERT ... SELECT` over `generate_series` inside
PostgreSQL, 100,000 learners a statement; the big tables' indexes and primary keys are dropped
during the load and built again afterwards. What it bypasses, and what stands for it:
- the engine's functions (profile locks, one event per call): the rows and events are computed
  from the history in closed form (the same rules: `level_for_xp`, `learner_difficulty`,
  streaks in the learner's zone, one UNLOCK per unlocked row, LEVEL_UP when the level rises);
- foreign keys and row triggers of `users`, `user_skill_progress`, `user_skill_tree_progress` and
  `progress_events` (`session_replication_role = replica`: the completion-method check of
  `user_skill_progress`, every foreign key): right by construction, and `check` looks;
- the analytics aggregates are folded afterwards by `analytics_fold()` and
  `analytics_refresh_skill_times()` themselves (what cron runs), the XP histogram by its own
  trigger (profiles are inserted with triggers on).
No achievements are defined (none earned, no ACHIEVEMENT events), no tree is finished (9 of 200
skills at most), no time is measured on content (`hours_learned` 0).
`check` recounts every stored aggregate from the rows and events and lists what differs.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
from fastapi.testclient import TestClient
from psycopg import sql
from sqlalchemy import make_url

from benchmarks import (
    bench_analytics,
    bench_import,
    bench_learner_paths,
    bench_progress,
    bench_search,
)
from benchmarks.common import (
    libpq_dsn,
    machine,
    percentile,
    server_url,
    time_interleaved,
    today,
    write_results,
)
from skilltree.accounts.service import token_digest
from skilltree.app import create_app
from skilltree.catalog.repository import DOCUMENT_SETTINGS, TREE_DOCUMENT_SQL
from skilltree.db import migrate
from skilltree.db.base import new_id
from skilltree.db.session import create_db_engine, unit_of_work
from skilltree.listeners import register_listeners
from skilltree.treefile import service as treefile

FULL_LEARNERS = 1_000_000
TREES, SKILLS, WIDTH = 50, 200, 4
"""50 trees of 200 skills, 4 a layer (so 4 roots, a few skills available at a time)."""
CHUNK = 100_000
"""Learners written by one statement of each kind."""
ZONES = ("UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "America/New_York", "Asia/Tokyo")
BIG_TABLES = ("user_skill_progress", "user_skill_tree_progress", "progress_events")
SLUG = "million-{:02d}"


def database_name(learners: int = FULL_LEARNERS) -> str:
    """The million database's name on the benchmark server."""
    prefix = make_url(server_url()).database if os.environ.get("DATABASE_URL") else "skilltree"
    size = "" if learners == FULL_LEARNERS else f"_{learners}"
    return f"{prefix}_bench_million{size}"


def database_url(learners: int = FULL_LEARNERS) -> str:
    """Its URL (SQLAlchemy form)."""
    name = database_name(learners)
    return make_url(server_url()).set(database=name).render_as_string(hide_password=False)


def user_id(i: int) -> str:
    """Learner i's id (1-based)."""
    return f"m{i:07d}"


# --- the history, in closed form ----------------------------------------------------------------
# Learner i: zone, `run` (days in a row before a missed day), k1 and k2 skills completed in trees
# t1 and t2 (distinct), and `base`, the local day of the first completion. Completion n
# (0 .. k1+k2-1; the first k1 in t1) is on local day base + n + n / run at 09:00 + 7n minutes,
# taking minutes(i, n); each tree is enrolled one minute before its first completion.


def _at(n: str) -> str:
    """The moment of completion `n` of the learner whose columns are in scope (SQL)."""
    return (
        f"(((base + (({n}) + ({n}) / run))::timestamp + time '09:00'"
        f" + ({n}) * interval '7 minutes') AT TIME ZONE zone)"
    )


def _minutes(n: str) -> str:
    """Minutes reported with completion `n` of learner i (SQL)."""
    return f"(5 + abs(hashint4(i * 32 + ({n}))) % 90)"


LEARNER_SQL = """
CREATE TEMP TABLE m_learner AS
SELECT i, 'm' || lpad(i::text, 7, '0') AS user_id,
       (%(zones)s::text[])[1 + i %% cardinality(%(zones)s::text[])] AS zone,
       2 + abs(hashint4(i * 8 + 1)) %% 6 AS run,
       1 + abs(hashint4(i * 8 + 2)) %% 9 AS k1,
       1 + abs(hashint4(i * 8 + 3)) %% 9 AS k2,
       abs(hashint4(i * 8 + 4)) %% %(trees)s AS t1,
       (abs(hashint4(i * 8 + 4)) %% %(trees)s + 1 + abs(hashint4(i * 8 + 5)) %% (%(trees)s - 1))
           %% %(trees)s AS t2,
       current_date - 40 - abs(hashint4(i * 8 + 6)) %% 300 AS base
FROM generate_series(%(first)s::int, %(last)s::int) i
"""

ENROL_SQL = f"""
CREATE TEMP TABLE m_enrol AS
SELECT l.*, e.slot, e.tree_no, e.k, e.n0, t.id AS tree_id, t.total,
       {_at("e.n0")} - interval '1 minute' AS enrolled_at
FROM m_learner l
CROSS JOIN LATERAL (VALUES (0, l.t1, l.k1, 0), (1, l.t2, l.k2, l.k1)) e (slot, tree_no, k, n0)
JOIN m_tree t ON t.no = e.tree_no
"""

# Every row the learner has in a tree: the skills whose prerequisites all come before the k
# completed ones (the completed ones among them). A root is unlocked at enrolment, any other
# skill at the completion of its last prerequisite (the one latest in the order).
ROW_SQL = f"""
CREATE TEMP TABLE m_row AS
SELECT e.i, e.user_id, e.tree_id, s.id AS skill_id, s.ordinal < e.k AS done,
       e.n0 + s.ordinal AS n, s.xp, s.milestone, s.estimate, s.maxpre < 0 AS root,
       CASE WHEN s.ordinal < e.k THEN {_at("e.n0 + s.ordinal")} END AS at,
       CASE WHEN s.ordinal < e.k THEN {_minutes("e.n0 + s.ordinal")} ELSE 0 END AS minutes,
       CASE WHEN s.maxpre < 0 THEN e.enrolled_at ELSE {_at("e.n0 + s.maxpre")} END AS unlocked_at
FROM m_enrol e JOIN m_skill s ON s.tree_no = e.tree_no AND s.maxpre < e.k
"""

USERS_SQL = f"""
INSERT INTO users (id, email, username, password_hash, created_at)
SELECT user_id, user_id || '@million.example', user_id, 'unused',
       {_at("0")} - interval '1 day'
FROM m_learner
"""

# The profile after the last completion: the XP of every completion, its level, the streak in
# the learner's zone (runs of `run` days, so the last run's length and the longest).
PROFILES_SQL = f"""
INSERT INTO user_profiles (user_id, timezone, total_xp, current_level, current_streak, max_streak,
                           last_activity_at, skills_completed, trees_started, created_at)
SELECT l.user_id, l.zone, x.xp, level_for_xp(x.xp), (l.k1 + l.k2 - 1) % l.run + 1,
       least(l.run, l.k1 + l.k2), {_at("l.k1 + l.k2 - 1")}, l.k1 + l.k2, 2,
       {_at("0")} - interval '1 day'
FROM m_learner l
JOIN (SELECT user_id, sum(xp)::int AS xp FROM m_row WHERE done GROUP BY user_id) x
    ON x.user_id = l.user_id
"""

ENROLMENTS_SQL = """
INSERT INTO user_skill_tree_progress
    (id, user_id, skill_tree_id, status, progress_percent, skills_completed, total_skills,
     time_spent_minutes, started_at, last_activity_at, milestones_reached, created_at,
     updated_at)
SELECT md5(e.user_id || e.tree_id), e.user_id, e.tree_id, 'IN_PROGRESS',
       least(100, 100.0 * e.k / e.total), e.k, e.total, r.minutes, r.first_at, r.last_at,
       r.milestones, e.enrolled_at, r.last_at
FROM m_enrol e
JOIN (SELECT user_id, tree_id, sum(minutes)::int AS minutes,
             min(at) AS first_at, max(at) AS last_at,
             coalesce(array_agg(skill_id ORDER BY skill_id COLLATE "C")
                      FILTER (WHERE done AND milestone), '{}') AS milestones
      FROM m_row GROUP BY user_id, tree_id) r ON r.user_id = e.user_id AND r.tree_id = e.tree_id
"""

PROGRESS_SQL = """
INSERT INTO user_skill_progress
    (id, user_id, skill_id, skill_tree_id, status, progress_percent, time_spent_minutes,
     completion_method, unlocked_at, started_at, last_activity_at, completed_at,
     struggling_indicators, engagement_score, created_at, updated_at)
SELECT md5(r.user_id || r.skill_id), r.user_id, r.skill_id, r.tree_id,
       CASE WHEN r.done THEN 'COMPLETED' ELSE 'AVAILABLE' END::"SkillProgressStatus",
       CASE WHEN r.done THEN 100 ELSE 0 END, r.minutes,
       CASE WHEN r.done THEN 'MANUAL'::"CompletionMethod" END, r.unlocked_at, r.at, r.at, r.at,
       d.indicators, d.engagement, r.unlocked_at, coalesce(r.at, r.unlocked_at)
FROM m_row r
LEFT JOIN m_difficulty d ON r.done AND d.minutes = r.minutes AND d.estimate = r.estimate
"""

# The events in the order the engine appends them: ENROLL, the roots' UNLOCKs (by id), and at
# each completion COMPLETE, the UNLOCKs it set off (by id), LEVEL_UP when the level rose.
EVENTS_SQL = """
INSERT INTO progress_events (occurred_at, user_id, kind, skill_tree_id, skill_id, xp_delta,
                             details)
SELECT occurred_at, user_id, kind::"ProgressEventKind", tree_id, skill_id, xp, details
FROM (
    SELECT enrolled_at AS occurred_at, 0 AS step, user_id, 'ENROLL' AS kind, tree_id,
           NULL AS skill_id, 0 AS xp, '{}'::jsonb AS details
    FROM m_enrol
    UNION ALL
    SELECT unlocked_at, CASE WHEN root THEN 1 ELSE 3 END, user_id, 'UNLOCK', tree_id, skill_id,
           0, '{}'
    FROM m_row
    UNION ALL
    SELECT at, 2, user_id, 'COMPLETE', tree_id, skill_id, xp,
           jsonb_build_object('method', 'MANUAL', 'score', NULL, 'minutes', minutes)
    FROM m_row WHERE done
    UNION ALL
    SELECT at, 4, user_id, 'LEVEL_UP', tree_id, skill_id, 0,
           jsonb_build_object('from', level_for_xp(xp_after - xp), 'to', level_for_xp(xp_after))
    FROM (SELECT *, sum(xp) OVER (PARTITION BY user_id ORDER BY n)::int AS xp_after
          FROM m_row WHERE done) c
    WHERE level_for_xp(xp_after) > level_for_xp(xp_after - xp)
) e
ORDER BY occurred_at, step, skill_id COLLATE "C"
"""


def _timed(label: str, conn: psycopg.Connection[Any], statement: str, params: Any = None) -> None:
    began = time.monotonic()
    conn.execute(statement, params)
    print(f"    {label}: {time.monotonic() - began:.1f} s", flush=True)


def import_trees(url: str) -> None:
    """The 50 trees, through the tree-file import (ranks and stored graphs by their writer)."""
    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO skill_categories (id, name, slug) VALUES (%s, 'Benchmarks', %s)",
            (new_id(), bench_import.CATEGORY),
        )
    register_listeners()
    engine = create_db_engine(url)
    try:
        for no in range(TREES):
            document = bench_import.generate(SKILLS, SLUG.format(no), seed=no, width=WIDTH)
            document["tree"]["name"] = f"Million tree {no}: " + " ".join(TOPICS[no % len(TOPICS)])
            with unit_of_work(engine) as session:
                treefile.import_tree(session, json.dumps(document), author=None, publish=True)
    finally:
        engine.dispose()


TOPICS = (
    ("algebra", "geometry"), ("python", "testing"), ("guitar", "rhythm"), ("spanish", "grammar"),
    ("cooking", "baking"), ("sql", "indexes"), ("drawing", "colour"), ("statistics", "models"),
    ("writing", "editing"), ("chess", "endgames"),
)  # fmt: skip


def _tree_tables(conn: psycopg.Connection[Any]) -> None:
    """m_tree (tree number -> id, active skills), m_skill (each skill's ordinal in the file's
    order and its latest prerequisite's, -1 for a root), m_difficulty (learner_difficulty of
    every completed (minutes, estimate) pair)."""
    conn.execute(
        "CREATE TEMP TABLE m_tree AS SELECT substr(slug, 9)::int AS no, t.id,"
        " (SELECT count(*) FROM skills s WHERE s.skill_tree_id = t.id AND s.is_active)::int"
        " AS total FROM skill_trees t WHERE slug LIKE 'million-%%'"
    )
    conn.execute(
        "CREATE TEMP TABLE m_skill AS"
        " SELECT t.no AS tree_no, s.id, o.ordinal, s.xp_value AS xp, s.is_milestone AS milestone,"
        "  s.estimated_minutes AS estimate,"
        "  coalesce((SELECT max(po.ordinal) FROM skill_dependencies d"
        "   JOIN skills p ON p.id = d.depends_on_id"
        "   CROSS JOIN LATERAL (SELECT split_part(substr(p.key, 2), '-', 1)::int * %(w)s"
        "    + split_part(p.key, '-', 2)::int AS ordinal) po"
        "   WHERE d.skill_id = s.id), -1) AS maxpre"
        " FROM m_tree t JOIN skills s ON s.skill_tree_id = t.id"
        " CROSS JOIN LATERAL (SELECT split_part(substr(s.key, 2), '-', 1)::int * %(w)s"
        "  + split_part(s.key, '-', 2)::int AS ordinal) o",
        {"w": WIDTH},
    )
    conn.execute("CREATE INDEX ON m_skill (tree_no, maxpre)")
    conn.execute(
        "CREATE TEMP TABLE m_difficulty AS SELECT m.minutes, e.estimate, d.*"
        " FROM generate_series(0, 200) m (minutes)"
        " CROSS JOIN (SELECT DISTINCT estimate FROM m_skill) e"
        " CROSS JOIN learner_difficulty(m.minutes, 0, e.estimate, 'COMPLETED') d"
    )
    conn.execute("ANALYZE m_tree; ANALYZE m_skill; ANALYZE m_difficulty")


def _drop_indexes(conn: psycopg.Connection[Any]) -> list[str]:
    """Drop the big tables' indexes and primary keys; the statements that make them again."""
    again: list[str] = []
    constraints = conn.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = ANY (%s::regclass[]) AND contype IN ('p', 'u')",
        (list(BIG_TABLES),),
    ).fetchall()
    for table, name, definition in constraints:
        conn.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                sql.Identifier(table), sql.Identifier(name)
            )
        )
        again.append(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ")
            .format(sql.Identifier(table), sql.Identifier(name))
            .as_string(conn)
            + definition
        )
    indexes = conn.execute(
        "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
        " WHERE indrelid = ANY (%s::regclass[])",
        (list(BIG_TABLES),),
    ).fetchall()
    for name, definition in indexes:
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        again.append(definition)
    return again


def load(url: str, learners: int) -> list[float]:
    """Learners 1..`learners` with their profiles, enrolments, rows and events, then the
    indexes, the analytics folds, VACUUM ANALYZE; the load average after each chunk."""
    loads = []
    with psycopg.connect(libpq_dsn(url)) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("SET work_mem = '128MB'")
        _tree_tables(conn)
        again = _drop_indexes(conn)
        conn.commit()
        parameters: dict[str, Any] = {"zones": list(ZONES), "trees": TREES}
        began = time.monotonic()
        for first in range(1, learners + 1, CHUNK):
            parameters |= {"first": first, "last": min(learners, first + CHUNK - 1)}
            print(f"  learners {first:,}-{parameters['last']:,}", flush=True)
            conn.execute(LEARNER_SQL, parameters)
            conn.execute(ENROL_SQL)
            _timed("plan", conn, ROW_SQL)
            conn.execute("SET session_replication_role = replica")
            _timed("users", conn, USERS_SQL)
            conn.execute("SET session_replication_role = origin")
            _timed("profiles", conn, PROFILES_SQL)  # the XP histogram's trigger on
            conn.execute("SET session_replication_role = replica")
            _timed("enrolments", conn, ENROLMENTS_SQL)
            _timed("skill rows", conn, PROGRESS_SQL)
            _timed("events", conn, EVENTS_SQL)
            conn.execute("SET session_replication_role = origin")
            conn.execute("DROP TABLE m_learner, m_enrol, m_row")
            conn.commit()
            done = parameters["last"]
            rate = done / (time.monotonic() - began) * 60
            loads.append(os.getloadavg()[0])
            print(
                f"  {done:,} learners, {rate:,.0f}/min, load {os.getloadavg()[0]:.2f}", flush=True
            )
        began = time.monotonic()
        for statement in again:
            conn.execute(statement)
        conn.commit()
        print(f"  indexes: {time.monotonic() - began:.0f} s", flush=True)
    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("SET work_mem = '256MB'")
        _timed("analytics fold", conn, "SELECT analytics_fold()")
        _timed(
            "skill times",
            conn,
            "SELECT analytics_refresh_skill_times(id) FROM skill_trees WHERE slug LIKE 'million-%'",
        )
        _timed("vacuum analyze", conn, "VACUUM (ANALYZE)")
    return loads


def build(learners: int = FULL_LEARNERS, url: str | None = None) -> str:
    """(Re)create the database (or use `url`, an empty one), migrate it, import the trees and
    load `learners` learners; its URL."""
    began = time.monotonic()
    if url is None:
        url = database_url(learners)
        name = database_name(learners)
        with psycopg.connect(libpq_dsn(server_url()), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    engine = create_db_engine(url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    import_trees(url)
    print(f"  trees: {time.monotonic() - began:.0f} s", flush=True)
    loads = load(url, learners)
    minutes = (time.monotonic() - began) / 60
    record_build(url, learners, minutes, loads)
    print(f"built {learners:,} learners in {minutes:.1f} min", flush=True)
    return url


def record_build(url: str, learners: int, minutes: float, loads: list[float]) -> None:
    """Keep the build's size, time and load in the database (table bench_million_build)."""
    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_million_build (learners integer, minutes float8,"
            " load_min float8, load_max float8, built_at timestamptz DEFAULT now())"
        )
        conn.execute(
            "INSERT INTO bench_million_build (learners, minutes, load_min, load_max)"
            " VALUES (%s, %s, %s, %s)",
            (learners, minutes, min(loads, default=0), max(loads, default=0)),
        )


def built(url: str) -> tuple[int, float, float, float] | None:
    """The last build's (learners, minutes, lowest and highest load average), None if none."""
    with _connected(server_url()) as conn:
        name = make_url(url).database
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return None
    with _connected(url) as conn:
        if not conn.execute("SELECT to_regclass('bench_million_build')").fetchone()[0]:
            return None
        row = conn.execute(
            "SELECT learners, minutes, load_min, load_max FROM bench_million_build"
            " ORDER BY built_at DESC LIMIT 1"
        ).fetchone()
    return (int(row[0]), float(row[1]), float(row[2]), float(row[3])) if row else None


# --- the invariants ---------------------------------------------------------------------------
# Each statement counts the rows that break one invariant the progress engine keeps (as
# tests/progress/test_invariants.py checks them per learner, here for every learner at once).
SATISFIED = (
    "coalesce({r}.status = 'COMPLETED' OR ({r}.status = 'SKIPPED' AND {p}.is_optional), false)"
)
LEARNING = "('START', 'COMPLETE', 'SKIP', 'ACTIVITY')"
INVARIANTS: dict[str, str] = {
    "profile XP = the sum of the learner's events' XP": """
        SELECT count(*) FROM user_profiles p
        LEFT JOIN (SELECT user_id, sum(xp_delta) AS xp FROM progress_events GROUP BY user_id) e
            USING (user_id)
        WHERE p.total_xp <> coalesce(e.xp, 0)""",
    "level = level_for_xp(XP), one LEVEL_UP event per level gained": """
        SELECT count(*) FROM user_profiles p
        LEFT JOIN (SELECT user_id, count(*) AS ups FROM progress_events
                   WHERE kind = 'LEVEL_UP' GROUP BY user_id) e USING (user_id)
        WHERE p.current_level <> level_for_xp(p.total_xp)
           OR p.current_level - 1 <> coalesce(e.ups, 0)""",
    "profile counts = its completed rows and its enrolments": """
        SELECT count(*) FROM user_profiles p
        LEFT JOIN (SELECT user_id, count(*) AS done FROM user_skill_progress
                   WHERE status = 'COMPLETED' GROUP BY user_id) r USING (user_id)
        LEFT JOIN (SELECT user_id, sum(skills_completed) AS done,
                          count(*) FILTER (WHERE status <> 'NOT_STARTED') AS started,
                          count(*) FILTER (WHERE status = 'COMPLETED') AS finished
                   FROM user_skill_tree_progress GROUP BY user_id) e USING (user_id)
        WHERE p.skills_completed <> coalesce(r.done, 0)
           OR p.skills_completed <> coalesce(e.done, 0)
           OR p.trees_started <> coalesce(e.started, 0)
           OR p.trees_completed <> coalesce(e.finished, 0)""",
    "enrolment counts, percent, milestones, minutes = its skill rows": """
        SELECT count(*) FROM user_skill_tree_progress e
        JOIN (SELECT skill_tree_id, count(*) AS total FROM skills WHERE is_active
              GROUP BY skill_tree_id) t USING (skill_tree_id)
        LEFT JOIN (SELECT r.user_id, r.skill_tree_id,
                          count(*) FILTER (WHERE r.status = 'COMPLETED') AS done,
                          sum(r.time_spent_minutes) AS minutes,
                          coalesce(array_agg(r.skill_id ORDER BY r.skill_id COLLATE "C")
                                   FILTER (WHERE r.status = 'COMPLETED' AND s.is_milestone),
                                   '{}') AS milestones
                   FROM user_skill_progress r JOIN skills s ON s.id = r.skill_id
                   GROUP BY r.user_id, r.skill_tree_id) r USING (user_id, skill_tree_id)
        WHERE e.skills_completed <> coalesce(r.done, 0) OR e.total_skills <> t.total
           OR e.progress_percent <> least(100, 100.0 * coalesce(r.done, 0) / t.total)
           OR e.time_spent_minutes <> coalesce(r.minutes, 0)
           OR e.milestones_reached <> coalesce(r.milestones, '{}')""",
    "an enrolment is COMPLETED exactly when every required skill is done": """
        SELECT count(*) FROM user_skill_tree_progress e
        JOIN (SELECT skill_tree_id, count(*) AS required FROM skills
              WHERE is_active AND NOT is_optional GROUP BY skill_tree_id) t USING (skill_tree_id)
        LEFT JOIN (SELECT r.user_id, r.skill_tree_id, count(*) AS done
                   FROM user_skill_progress r JOIN skills s ON s.id = r.skill_id
                   WHERE s.is_active AND NOT s.is_optional
                     AND r.status IN ('COMPLETED', 'SKIPPED')
                   GROUP BY r.user_id, r.skill_tree_id) r USING (user_id, skill_tree_id)
        WHERE (e.status = 'COMPLETED')
              <> (e.skills_completed > 0 AND coalesce(r.done, 0) = t.required)
           OR (e.status = 'COMPLETED') <> (e.completed_at IS NOT NULL)""",
    "no unlocked skill has an unsatisfied prerequisite": f"""
        SELECT count(*) FROM user_skill_progress r
        JOIN skill_dependencies d ON d.skill_id = r.skill_id
        JOIN skills p ON p.id = d.depends_on_id AND p.is_active
        LEFT JOIN user_skill_progress pr ON pr.user_id = r.user_id AND pr.skill_id = p.id
        WHERE r.status <> 'LOCKED' AND NOT {SATISFIED.format(r="pr", p="p")}""",
    "every skill whose prerequisites are satisfied is unlocked": f"""
        SELECT count(*) FROM (
            SELECT e.user_id, s.id FROM user_skill_tree_progress e
            JOIN skills s ON s.skill_tree_id = e.skill_tree_id AND s.is_active
            WHERE NOT EXISTS (SELECT FROM skill_dependencies d
                              JOIN skills p ON p.id = d.depends_on_id AND p.is_active
                              WHERE d.skill_id = s.id)
            UNION
            SELECT r.user_id, d.skill_id FROM user_skill_progress r
            JOIN skills p ON p.id = r.skill_id
            JOIN skill_dependencies d ON d.depends_on_id = r.skill_id
            JOIN skills s ON s.id = d.skill_id AND s.is_active
            WHERE {SATISFIED.format(r="r", p="p")}
        ) c
        WHERE NOT EXISTS (SELECT FROM user_skill_progress x
                          WHERE x.user_id = c.user_id AND x.skill_id = c.id
                            AND x.status <> 'LOCKED')
          AND NOT EXISTS (SELECT FROM skill_dependencies d
                          JOIN skills p ON p.id = d.depends_on_id AND p.is_active
                          LEFT JOIN user_skill_progress pr
                              ON pr.user_id = c.user_id AND pr.skill_id = p.id
                          WHERE d.skill_id = c.id AND NOT {SATISFIED.format(r="pr", p="p")})""",
    "one UNLOCK event per unlocked row, at its unlock time": """
        SELECT count(*) FROM (
            SELECT user_id, skill_id, unlocked_at AS at FROM user_skill_progress
            WHERE unlocked_at IS NOT NULL) r
        FULL JOIN (SELECT user_id, skill_id, occurred_at AS at, count(*) AS n
                   FROM progress_events WHERE kind = 'UNLOCK'
                   GROUP BY user_id, skill_id, occurred_at) e USING (user_id, skill_id, at)
        WHERE r.user_id IS NULL OR e.user_id IS NULL OR e.n <> 1""",
    "one COMPLETE event per completed row, at its time, with its XP and minutes": """
        SELECT count(*) FROM (
            SELECT r.user_id, r.skill_id, r.completed_at AS at, s.xp_value AS xp,
                   r.time_spent_minutes AS minutes
            FROM user_skill_progress r JOIN skills s ON s.id = r.skill_id
            WHERE r.status = 'COMPLETED') r
        FULL JOIN (SELECT user_id, skill_id, occurred_at AS at, xp_delta AS xp,
                          (details->>'minutes')::int AS minutes
                   FROM progress_events WHERE kind = 'COMPLETE') e USING (user_id, skill_id, at)
        WHERE r.user_id IS NULL OR e.user_id IS NULL OR r.xp <> e.xp
           OR r.minutes <> e.minutes""",
    "one ENROLL event per enrolment, at its creation": """
        SELECT count(*) FROM user_skill_tree_progress t
        FULL JOIN (SELECT user_id, skill_tree_id, occurred_at AS created_at
                   FROM progress_events WHERE kind = 'ENROLL') e
            USING (user_id, skill_tree_id, created_at)
        WHERE t.user_id IS NULL OR e.user_id IS NULL""",
    "streaks and last activity = the learning events' local days": f"""
        WITH days AS (
            SELECT DISTINCT e.user_id, (e.occurred_at AT TIME ZONE p.timezone)::date AS day
            FROM progress_events e JOIN user_profiles p USING (user_id)
            WHERE e.kind IN {LEARNING}
        ), islands AS (
            SELECT user_id, count(*) AS length, max(day) AS last
            FROM (SELECT user_id, day,
                         day - row_number() OVER (PARTITION BY user_id ORDER BY day)::int AS run
                  FROM days) d
            GROUP BY user_id, run
        ), learner AS (
            SELECT user_id, max(length) AS longest,
                   (array_agg(length ORDER BY last DESC))[1] AS latest
            FROM islands GROUP BY user_id
        )
        SELECT count(*) FROM user_profiles p
        LEFT JOIN learner l USING (user_id)
        LEFT JOIN (SELECT user_id, max(occurred_at) AS at FROM progress_events
                   WHERE kind IN {LEARNING} GROUP BY user_id) a USING (user_id)
        WHERE p.max_streak <> coalesce(l.longest, 0)
           OR p.current_streak <> coalesce(l.latest, 0)
           OR p.last_activity_at IS DISTINCT FROM a.at""",
    "the XP histogram = the profiles' XP": """
        SELECT count(*) FROM (
            SELECT total_xp, sum(learners) AS learners
            FROM (SELECT total_xp, learners FROM xp_histogram
                  UNION ALL SELECT total_xp, learners FROM xp_histogram_pending) h
            GROUP BY total_xp HAVING sum(learners) <> 0) h
        FULL JOIN (SELECT total_xp, count(*) AS learners FROM user_profiles
                   GROUP BY total_xp) p USING (total_xp)
        WHERE h.learners IS DISTINCT FROM p.learners""",
    "every event is folded": """
        SELECT count(*) FROM progress_events
        WHERE id > (SELECT folded_through FROM analytics_fold_state)""",
    "analytics skill counts = the events": """
        SELECT count(*) FROM analytics_skill_counts c
        FULL JOIN (SELECT e.skill_id, count(*) FILTER (WHERE e.kind = 'UNLOCK') AS unlocked,
                          count(*) FILTER (WHERE e.kind = 'START') AS started,
                          count(*) FILTER (WHERE e.kind = 'COMPLETE') AS completed,
                          count(*) FILTER (WHERE e.kind = 'SKIP') AS skipped
                   FROM progress_events e JOIN skills s ON s.id = e.skill_id
                   WHERE e.kind IN ('UNLOCK', 'START', 'COMPLETE', 'SKIP')
                   GROUP BY e.skill_id) e USING (skill_id)
        WHERE (c.unlocked, c.started, c.completed, c.skipped)
              IS DISTINCT FROM (e.unlocked, e.started, e.completed, e.skipped)""",
    "analytics tree days = the events": f"""
        SELECT count(*) FROM analytics_tree_days d
        FULL JOIN (SELECT skill_tree_id, (occurred_at AT TIME ZONE 'UTC')::date AS day,
                          count(*) FILTER (WHERE kind = 'ENROLL') AS enrolments,
                          count(*) FILTER (WHERE kind = 'COMPLETE') AS completions,
                          count(DISTINCT user_id) FILTER (WHERE kind IN {LEARNING}) AS active
                   FROM progress_events WHERE skill_tree_id IS NOT NULL
                   GROUP BY 1, 2) e USING (skill_tree_id, day)
        WHERE (d.enrolments, d.completions, d.active_learners)
              IS DISTINCT FROM (e.enrolments, e.completions, e.active)""",
    "analytics platform periods = the events": f"""
        SELECT count(*) FROM analytics_platform_periods a
        FULL JOIN (SELECT p.period, analytics_period_start(p.period, d.day) AS first_day,
                          count(DISTINCT d.user_id) AS active
                   FROM (SELECT DISTINCT user_id, (occurred_at AT TIME ZONE 'UTC')::date AS day
                         FROM progress_events
                         WHERE kind IN {LEARNING} AND skill_tree_id IS NOT NULL) d
                   CROSS JOIN (VALUES ('day'), ('week'), ('month')) p (period)
                   GROUP BY 1, 2) e USING (period, first_day)
        WHERE a.active_learners IS DISTINCT FROM e.active""",
}


def check(conn: psycopg.Connection[Any], verbose: bool = False) -> dict[str, int]:
    """The invariants broken in the database `conn` is on: name -> rows that break it."""
    failed: dict[str, int] = {}
    for name, statement in INVARIANTS.items():
        began = time.monotonic()
        row = conn.execute(statement).fetchone()
        count = int(row[0]) if row else 0
        if verbose:
            print(
                f"  {'ok' if not count else 'VIOLATED'}: {name} ({time.monotonic() - began:.0f} s)"
            )
        if count:
            failed[name] = count
    return failed


# --- the latencies ----------------------------------------------------------------------------
READER = user_id(42)
ADMIN_ID = "million-admin"
RUNS, COMPLETIONS, WARMUP = 100, 40, 5
TARGETS_MS = {
    "complete": bench_progress.COMPLETE_TARGET_MS,
    "leaderboard": bench_progress.TOP_TARGET_MS + bench_progress.RANK_TARGET_MS,
    "search": bench_search.SEARCH_TARGET_MS,
    "funnel": bench_analytics.TARGETS_MS["funnel"],
    "next": bench_learner_paths.TARGET_MS[10_000],
}
"""The project's targets (ms, p50) of each read where it set one: the leaderboard's is its top 100
and a rank together; "next" the one for a 10,000-skill tree."""
PATHS = {
    "tree with progress": "GET /trees/{slug}, signed in (copy current)",
    "complete": "POST /skills/{id}/complete",
    "next": "GET /me/trees/{slug}/next?limit=5",
    "leaderboard": "GET /leaderboard?limit=100, signed in (own rank)",
    "search": "GET /search?q=python",
    "funnel": "GET /analytics/trees/{slug}/funnel",
    "calendar": "GET /analytics/me/calendar",
}


def _session(conn: psycopg.Connection[Any], user: str) -> str:
    token = secrets.token_urlsafe(16)
    conn.execute(
        "INSERT INTO user_sessions (id, user_id, token_hash, expires_at)"
        " VALUES (%s, %s, %s, now() + interval '2 hours')",
        (new_id(), user, token_digest(token)),
    )
    return token


def _completers(conn: psycopg.Connection[Any], first: int, count: int) -> list[tuple[str, str]]:
    """(learner, one AVAILABLE skill of theirs) for `count` learners from number `first` on."""
    rows = conn.execute(
        "SELECT DISTINCT ON (user_id) user_id, skill_id FROM user_skill_progress"
        " WHERE user_id = ANY (%s) AND status = 'AVAILABLE' ORDER BY user_id, skill_id",
        ([user_id(i) for i in range(first, first + count)],),
    ).fetchall()
    return [(str(u), str(s)) for u, s in rows]


def measure(url: str) -> dict[str, dict[str, list[float]]]:
    """Samples (ms) of each read, through the API (in-process) and its floor, taking turns."""
    register_listeners()
    engine = create_db_engine(url)
    try:
        with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
            conn.execute(
                "INSERT INTO users (id, email, username, password_hash, role)"
                " VALUES (%s, 'admin@million.example', %s, 'unused', 'ADMIN')"
                " ON CONFLICT DO NOTHING",
                (ADMIN_ID, ADMIN_ID),
            )
            reader, admin = _session(conn, READER), _session(conn, ADMIN_ID)
            slug, tree_id, zone, xp = conn.execute(
                "SELECT t.slug, t.id, p.timezone, p.total_xp FROM user_skill_tree_progress e"
                " JOIN skill_trees t ON t.id = e.skill_tree_id"
                " JOIN user_profiles p ON p.user_id = e.user_id"
                " WHERE e.user_id = %s ORDER BY t.slug LIMIT 1",
                (READER,),
            ).fetchone() or ("", "", "", 0)
            learners = conn.execute("SELECT count(*) FROM user_profiles").fetchone() or (0,)
            middle = int(learners[0]) // 2
            api_learners = _completers(conn, middle - COMPLETIONS - WARMUP, COMPLETIONS + WARMUP)
            tokens = {u: _session(conn, u) for u, _ in api_learners}
            api_done = iter(api_learners)
            floor_done = iter(_completers(conn, middle, COMPLETIONS + WARMUP))
            for name, value in DOCUMENT_SETTINGS.items():
                conn.execute("SELECT set_config(%s, %s, false)", (name, value))
            now = datetime.now(UTC)
            with TestClient(create_app(engine)) as client:

                def get(path: str, token: str | None = reader) -> Callable[[], object]:
                    headers = {"Authorization": f"Bearer {token}"} if token else {}
                    headers["Accept-Encoding"] = "identity"

                    def run() -> object:
                        answer = client.get(path, headers=headers)
                        assert answer.status_code == 200, answer.text[:300]
                        return answer

                    return run

                def complete() -> object:
                    user, skill = next(api_done)
                    answer = client.post(
                        f"/api/v1/skills/{skill}/complete",
                        json={},
                        headers={"Authorization": f"Bearer {tokens[user]}"},
                    )
                    assert answer.status_code == 200, answer.text[:300]
                    return answer

                def floor_leaderboard() -> object:
                    top = conn.execute(bench_progress.TOP_SQL, (100,)).fetchall()
                    return top, conn.execute(bench_progress.RANK_SQL, {"xp": xp}).fetchone()

                pairs: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
                    "tree with progress": (
                        lambda: conn.execute(
                            TREE_DOCUMENT_SQL,
                            {"build": True, "slug": slug, "user_id": READER,
                             "known_id": None, "known_version": None},
                        ).fetchone(),
                        get(f"/api/v1/trees/{slug}"),
                    ),
                    "next": (
                        lambda: conn.execute(
                            bench_learner_paths.FLOOR_NEXT, {"user": READER, "tree": tree_id}
                        ).fetchall(),
                        get(f"/api/v1/me/trees/{slug}/next?limit=5"),
                    ),
                    "leaderboard": (floor_leaderboard, get("/api/v1/leaderboard?limit=100")),
                    "search": (
                        lambda: bench_search.floor_search(conn, "python", {}),
                        get("/api/v1/search?q=python", None),
                    ),
                    "funnel": (
                        bench_analytics.floor_query(conn, ADMIN_ID, "funnel", {"tree_id": tree_id}),
                        get(f"/api/v1/analytics/trees/{slug}/funnel", admin),
                    ),
                    "calendar": (
                        bench_analytics.floor_query(
                            conn, READER, "calendar",
                            {"user_id": READER, "zone": zone, "now": now, "days": 365},
                        ),
                        get("/api/v1/analytics/me/calendar"),
                    ),
                }  # fmt: skip
                calls = {f"{name}|{side}": call for name, pair in pairs.items()
                         for side, call in zip(("floor", "api"), pair, strict=True)}  # fmt: skip
                samples = time_interleaved(calls, runs=RUNS, warmup=WARMUP)
                samples |= time_interleaved(
                    {
                        "complete|floor": lambda: bench_progress.floor_complete(
                            conn, *next(floor_done)
                        ),
                        "complete|api": complete,
                    },
                    runs=COMPLETIONS,
                    warmup=WARMUP,
                )
    finally:
        engine.dispose()
    timings: dict[str, dict[str, list[float]]] = {}
    for key, values in samples.items():
        name, side = key.split("|")
        timings.setdefault(name, {})[side] = values
    return timings


def sizes(conn: psycopg.Connection[Any]) -> list[tuple[str, int, int, int]]:
    """(table, rows, table bytes, index bytes) of every table over 1 MB, largest first."""
    rows = conn.execute(
        "SELECT c.relname, c.reltuples::bigint, pg_table_size(c.oid), pg_indexes_size(c.oid)"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind = 'r' AND n.nspname = 'public'"
        "   AND pg_total_relation_size(c.oid) > 1048576"
        " ORDER BY pg_total_relation_size(c.oid) DESC"
    ).fetchall()
    return [(str(r[0]), int(r[1]), int(r[2]), int(r[3])) for r in rows]


def _checked(seconds: float | None) -> str:
    if seconds is None:
        return "`check` run apart (see below)."
    return f"`check` found every invariant kept ({seconds / 60:.1f} min)."


def report(
    timings: dict[str, dict[str, list[float]]],
    tables: list[tuple[str, int, int, int]],
    where: str,
    build: tuple[int, float, float, float] | None,
    checked: float | None,
) -> str:
    """The markdown section for RESULTS.md."""
    mb = 1024 * 1024
    made = (
        f"Built: {build[0]:,} learners in {build[1]:.1f} min (load average between"
        f" {build[2]:.1f} and {build[3]:.1f} during the load, 2 cores shared with other work);"
        if build
        else "Build not recorded;"
    )
    lines = [
        "## A million learners on one node (issue 16 part 6)",
        "",
        f"{today()}, {where}. `python -m benchmarks.million build`, `check`, then `measure`"
        " (`BENCH_MILLION=1 make bench` runs the three). "
        f"{made} {_checked(checked)} Reads through the"
        " app in-process (TestClient, as bench_analytics), against their SQL floor through plain"
        f" psycopg in the same run, taking turns ({RUNS} samples each; {COMPLETIONS} completions"
        " each, every one by another learner). Load average at the start of the measurement"
        f" {os.getloadavg()[0]:.2f}.",
        "",
        "| table | rows | table MB | indexes MB |",
        "| --- | ---: | ---: | ---: |",
    ]
    lines += [f"| {t} | {n:,} | {d / mb:,.0f} | {i / mb:,.0f} |" for t, n, d, i in tables]
    total_d, total_i = sum(t[2] for t in tables), sum(t[3] for t in tables)
    lines += [f"| all of the above | | {total_d / mb:,.0f} | {total_i / mb:,.0f} |", ""]
    lines += [
        "| read | API p50 | API p95 | floor p50 | floor p95 | p50 / floor | target p50 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, path in PATHS.items():
        api, floor = timings[name]["api"], timings[name]["floor"]
        p50, f50 = percentile(api, 0.5), percentile(floor, 0.5)
        target = TARGETS_MS.get(name)
        verdict = f"≤ {target:g} ms: {'met' if p50 <= target else '**not met**'}" if target else "—"
        lines.append(
            f"| {name}: `{path}` | {p50:.2f} | {percentile(api, 0.95):.2f} | {f50:.2f}"
            f" | {percentile(floor, 0.95):.2f} | {p50 / f50:.2f}x | {verdict} |"
        )
    return "\n".join(lines)


@contextmanager
def _connected(url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
        yield conn


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.million")
    parser.add_argument("command", choices=("build", "check", "measure", "all", "drop"))
    parser.add_argument("--learners", type=int, default=FULL_LEARNERS)
    args = parser.parse_args(argv)
    if args.command == "build":
        print(build(args.learners))
    elif args.command == "check":
        with _connected(database_url(args.learners)) as conn:
            failed = check(conn, verbose=True)
        for name, count in failed.items():
            print(f"VIOLATED {name}: {count:,} rows")
        print("every invariant holds" if not failed else f"{len(failed)} invariants violated")
        sys.exit(1 if failed else 0)
    elif args.command in ("measure", "all"):
        url = database_url(args.learners)
        if args.command == "all" and (built(url) or (0,))[0] != args.learners:
            build(args.learners)
        checked = None
        if args.command == "all":
            began = time.monotonic()
            with _connected(url) as conn:
                failed = check(conn, verbose=True)
            if failed:
                sys.exit(f"invariants violated: {failed}")
            checked = time.monotonic() - began
        where = machine(url)
        timings = measure(url)
        with _connected(url) as conn:
            tables = sizes(conn)
            conn.execute("SELECT analytics_fold()")  # the measured completions' events
        section = report(timings, tables, where, built(url), checked)
        print(section)
        write_results("million", section)
    elif args.command == "drop":
        with psycopg.connect(libpq_dsn(server_url()), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(database_name(args.learners))
                )
            )


if __name__ == "__main__":
    main()
