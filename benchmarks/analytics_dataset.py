"""The analytics benchmark's data set: 10,000 learners x a 1,000-skill tree, built once and kept.

10,000,000 `user_skill_progress` rows (one per learner and skill, LOCKED ones included) and about
ten million `progress_events` take minutes to generate on a small machine, so the database
`<prefix>_bench_analytics` is kept between runs and rebuilt only when this generator changes
(its fingerprint is stored in the database). Everything is made by `INSERT ... SELECT` over
`generate_series` inside PostgreSQL; the large tables' secondary indexes are dropped during the
load and built again afterwards (as pg_restore does), foreign keys are not re-checked row by row
(`session_replication_role = replica`; the generator makes them right by construction).
"""

from __future__ import annotations

import hashlib
import inspect
import os
import random
import time

import psycopg
from psycopg import sql
from sqlalchemy import make_url

from benchmarks.common import libpq_dsn, server_url
from skilltree.db import migrate
from skilltree.db.session import create_db_engine

FULL_LEARNERS = 10_000
LEARNERS = int(os.environ.get("BENCH_ANALYTICS_LEARNERS", FULL_LEARNERS))
"""Learners of the data set: BENCH_ANALYTICS_LEARNERS for a smaller (quicker to build) one,
kept in a database of its own."""
LAYERS, PER_LAYER = 20, 50
SKILLS = LAYERS * PER_LAYER
SEED = 20261122
SLUG = "analytics-bench"
AUTHOR_ID, ADMIN_ID = "bench-author", "bench-admin"
TREE_ID, CATEGORY_ID = "bench-tree", "bench-category"
ZONES = ("UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "America/New_York", "Asia/Tokyo")
BIG_TABLES = ("user_skill_progress", "progress_events")


def database_name() -> str:
    """The kept benchmark database's name on the benchmark server."""
    prefix = make_url(server_url()).database if os.environ.get("DATABASE_URL") else "skilltree"
    size = "" if LEARNERS == FULL_LEARNERS else f"_{LEARNERS}"
    return f"{prefix}_bench_analytics{size}"


def fingerprint() -> str:
    """A digest of this generator: a changed generator means a rebuilt data set."""
    source = "".join(
        [LEARNER_SQL, ROWS_SQL, PROGRESS_SQL, ENROLMENTS_SQL, EVENTS_SQL]
        + [inspect.getsource(f) for f in (_skills_and_edges, _build)]
        + [repr((LEARNERS, LAYERS, PER_LAYER, SEED, ZONES, TREE_ID, SLUG))]
    )
    # Whitespace-insensitive: reformatting the generator does not rebuild the data.
    return hashlib.sha256(" ".join(source.split()).encode()).hexdigest()[:16]


def _skills_and_edges() -> tuple[list[tuple[object, ...]], list[tuple[str, str]]]:
    rng = random.Random(SEED)
    skills: list[tuple[object, ...]] = []
    edges: list[tuple[str, str]] = []
    for layer in range(LAYERS):
        for column in range(PER_LAYER):
            ordinal = layer * PER_LAYER + column
            skill_id = f"bs{ordinal:04d}"
            skills.append(
                (
                    skill_id,
                    ordinal,
                    f"Skill {layer}.{column}",
                    rng.randrange(15, 240, 15),
                    rng.choice([10, 25, 50, 75]),
                    column % 10 == 9,
                    column == 0,
                    column * 120.0,
                    layer * 160.0,
                )
            )
            if layer:
                for need in rng.sample(range(layer * PER_LAYER), rng.randint(1, 3)):
                    edges.append((skill_id, f"bs{need:04d}"))
    return skills, edges


# Learner i (1..LEARNERS) enrolled `span` before now and has completed its first `k` skills in
# (layer, column) order, a prefix that respects every prerequisite: optional ones among them are
# skipped one time in three; the next 3 are IN_PROGRESS, the 7 after AVAILABLE, the rest LOCKED.
# Skill j of the learner happened at started + span * (min(j, k + 3) + 1) / (k + 4) (<= now).
LEARNER_SQL = """
CREATE TEMP TABLE learner AS
SELECT i, 'bl' || lpad(i::text, 5, '0') AS user_id, k, now() - span AS started, span
FROM (
    SELECT i,
           floor(%(skills)s * power(abs(hashint4(i)) / 2147483648.0, 2))::int AS k,
           make_interval(mins => 1440 + (abs(hashint4(i + 7919)) %% (364 * 1440))) AS span
    FROM generate_series(1, %(learners)s) i
) g
"""

ROWS_SQL = """
CREATE TEMP TABLE row_plan AS
SELECT l.user_id, s.id AS skill_id, s.xp_value, s.ordinal,
       CASE WHEN s.ordinal < l.k THEN
                CASE WHEN s.is_optional AND (l.i + s.ordinal) %% 3 = 0 THEN 'SKIPPED'
                     ELSE 'COMPLETED' END
            WHEN s.ordinal < l.k + 3 THEN 'IN_PROGRESS'
            WHEN s.ordinal < l.k + 10 THEN 'AVAILABLE'
            ELSE 'LOCKED' END AS status,
       l.started + l.span * (least(s.ordinal, l.k + 3) + 1) / (l.k + 4) AS at,
       greatest(1, (s.estimated_minutes * (0.5 + (abs(hashint4(l.i * 1000 + s.ordinal)) %% 250)
                                                   / 100.0))::int) AS minutes
FROM learner l CROSS JOIN bench_skill s
"""

PROGRESS_SQL = """
INSERT INTO user_skill_progress
    (id, user_id, skill_id, skill_tree_id, status, progress_percent, time_spent_minutes,
     attempts_count, unlocked_at, started_at, last_activity_at, completed_at, completion_method)
SELECT md5(user_id || skill_id), user_id, skill_id, %(tree)s, status::"SkillProgressStatus",
       CASE status WHEN 'COMPLETED' THEN 100 WHEN 'IN_PROGRESS' THEN 40 ELSE 0 END,
       CASE WHEN status IN ('COMPLETED', 'IN_PROGRESS') THEN minutes ELSE 0 END,
       CASE WHEN status IN ('COMPLETED', 'IN_PROGRESS') THEN 1 + ordinal %% 3 ELSE 0 END,
       CASE WHEN status <> 'LOCKED' THEN at - interval '2 hours' END,
       CASE WHEN status IN ('COMPLETED', 'IN_PROGRESS')
            THEN at - make_interval(mins => minutes) END,
       CASE WHEN status IN ('COMPLETED', 'IN_PROGRESS', 'SKIPPED') THEN at END,
       CASE WHEN status = 'COMPLETED' THEN at END,
       CASE WHEN status = 'COMPLETED' THEN 'MANUAL'::"CompletionMethod" END
FROM row_plan
"""

ENROLMENTS_SQL = """
INSERT INTO user_skill_tree_progress
    (id, user_id, skill_tree_id, status, progress_percent, skills_completed, total_skills,
     time_spent_minutes, started_at, last_activity_at, created_at)
SELECT md5(l.user_id || %(tree)s), l.user_id, %(tree)s, 'IN_PROGRESS',
       100.0 * c.completed / %(skills)s, c.completed, %(skills)s, c.minutes, l.started,
       coalesce(c.last_at, l.started), l.started - interval '1 minute'
FROM learner l
JOIN (SELECT user_id, count(*) FILTER (WHERE status = 'COMPLETED') AS completed,
             coalesce(sum(minutes) FILTER (WHERE status IN ('COMPLETED', 'IN_PROGRESS')), 0)
                 AS minutes,
             max(at) FILTER (WHERE status <> 'LOCKED' AND status <> 'AVAILABLE') AS last_at
      FROM row_plan GROUP BY user_id) c ON c.user_id = l.user_id
"""

# One UNLOCK per unlocked skill, START for started ones, COMPLETE (with XP) or SKIP; ENROLL
# first. Inserted in time order, as the application appends them.
EVENTS_SQL = """
INSERT INTO progress_events (occurred_at, user_id, kind, skill_tree_id, skill_id, xp_delta,
                             details)
SELECT occurred_at, user_id, kind::"ProgressEventKind", %(tree)s, skill_id, xp_delta, details
FROM (
    SELECT started - interval '1 minute' AS occurred_at, user_id, 'ENROLL' AS kind,
           NULL AS skill_id, 0 AS xp_delta, '{}'::jsonb AS details
    FROM learner
    UNION ALL
    SELECT at - interval '2 hours', user_id, 'UNLOCK', skill_id, 0, '{}'
    FROM row_plan WHERE status <> 'LOCKED'
    UNION ALL
    SELECT at - make_interval(mins => minutes), user_id, 'START', skill_id, 0, '{}'
    FROM row_plan WHERE status IN ('COMPLETED', 'IN_PROGRESS')
    UNION ALL
    SELECT at, user_id, 'COMPLETE', skill_id, xp_value,
           jsonb_build_object('method', 'MANUAL', 'score', NULL, 'minutes', minutes)
    FROM row_plan WHERE status = 'COMPLETED'
    UNION ALL
    SELECT at, user_id, 'SKIP', skill_id, 0, '{}'
    FROM row_plan WHERE status = 'SKIPPED'
) e
ORDER BY occurred_at
"""


def _build(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    skills, edges = _skills_and_edges()
    conn.execute("SET synchronous_commit = off")
    conn.execute("SET maintenance_work_mem = '512MB'")
    conn.execute("SET work_mem = '256MB'")
    conn.execute(
        "INSERT INTO users (id, email, username, password_hash, role) VALUES "
        "(%s, 'author@bench.example', 'bench-author', 'unused', 'AUTHOR'), "
        "(%s, 'admin@bench.example', 'bench-admin', 'unused', 'ADMIN')",
        (AUTHOR_ID, ADMIN_ID),
    )
    conn.execute(
        "INSERT INTO skill_categories (id, name, slug) VALUES (%s, 'Benchmarks', 'benchmarks')",
        (CATEGORY_ID,),
    )
    conn.execute(
        "INSERT INTO skill_trees (id, category_id, name, slug, is_published, created_by)"
        " VALUES (%s, %s, 'Analytics benchmark', %s, true, %s)",
        (TREE_ID, CATEGORY_ID, SLUG, AUTHOR_ID),
    )
    with conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO skills (id, skill_tree_id, key, name, estimated_minutes, xp_value,"
            " is_optional, is_milestone, position_x, position_y)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [(s[0], TREE_ID, f"k{s[1]}", s[2], s[3], s[4], s[5], s[6], s[7], s[8]) for s in skills],
        )
        cursor.executemany(
            "INSERT INTO skill_dependencies (skill_id, depends_on_id, skill_tree_id)"
            " VALUES (%s, %s, %s)",
            [(a, b, TREE_ID) for a, b in edges],
        )
    conn.execute(
        "CREATE TEMP TABLE bench_skill AS SELECT id, xp_value, estimated_minutes, is_optional,"
        " (substr(id, 3))::int AS ordinal FROM skills WHERE skill_tree_id = %s",
        (TREE_ID,),
    )
    parameters = {"learners": LEARNERS, "skills": SKILLS, "tree": TREE_ID}
    conn.execute(LEARNER_SQL, parameters)
    conn.execute(
        "INSERT INTO users (id, email, username, password_hash, created_at)"
        " SELECT user_id, user_id || '@bench.example', user_id, 'unused',"
        " started - interval '1 hour' FROM learner"
    )
    conn.execute(
        "INSERT INTO user_profiles (user_id, timezone)"
        " SELECT user_id, (%s::text[])[1 + i %% %s] FROM learner",
        (list(ZONES), len(ZONES)),
    )
    conn.execute(ROWS_SQL, parameters)
    indexes = conn.execute(
        "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
        " WHERE indrelid = ANY (%s::regclass[]) AND NOT indisprimary AND NOT indisunique",
        (list(BIG_TABLES),),
    ).fetchall()
    for name, _ in indexes:
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(str(name))))
    conn.execute("SET session_replication_role = replica")
    for step, statement in (
        ("progress rows", PROGRESS_SQL),
        ("enrolments", ENROLMENTS_SQL),
        ("events", EVENTS_SQL),
    ):
        began = time.monotonic()
        conn.execute(statement, parameters)
        print(f"  {step}: {time.monotonic() - began:.0f} s", flush=True)
    conn.execute("SET session_replication_role = origin")
    began = time.monotonic()
    for _, definition in indexes:
        conn.execute(str(definition))
    print(f"  indexes: {time.monotonic() - began:.0f} s", flush=True)


def ensure_dataset() -> str:
    """The URL of the kept benchmark database, migrated to head, built if missing or stale."""
    server = server_url()
    name = database_name()
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(libpq_dsn(server), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    if exists:
        with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
            kept = conn.execute("SELECT to_regclass('bench_dataset') IS NOT NULL").fetchone()
            found = (
                conn.execute("SELECT fingerprint FROM bench_dataset").fetchone()
                if kept and kept[0]
                else None
            )
        if found is not None and found[0] == fingerprint():
            engine = create_db_engine(url)
            try:
                migrate.upgrade(engine)
            finally:
                engine.dispose()
            return url
    print(f"building the analytics data set in {name} (once; minutes) ...", flush=True)
    with psycopg.connect(libpq_dsn(server), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    engine = create_db_engine(url)
    try:
        migrate.upgrade(engine, "0012")
    finally:
        engine.dispose()
    with psycopg.connect(libpq_dsn(url)) as conn:
        _build(conn)
        conn.execute("CREATE TABLE bench_dataset (fingerprint text NOT NULL)")
        conn.execute("INSERT INTO bench_dataset VALUES (%s)", (fingerprint(),))
    began = time.monotonic()
    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    print(f"  vacuum analyze: {time.monotonic() - began:.0f} s", flush=True)
    engine = create_db_engine(url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    return url


if __name__ == "__main__":
    print(ensure_dataset())
