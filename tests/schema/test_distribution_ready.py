"""Every learner table can be distributed by its learner (issue 18, blockers 5 and 6).

A Citus cluster places each row of a table distributed by `user_id` on the worker of its learner,
so it accepts a primary key or unique constraint only when it contains `user_id`, a foreign key
between two such tables only when both sides name it, and no foreign key to `users` that cascades
updates. These hold on the single-node schema too (docs/scaling.md), read from the catalog of a
database migrated to head: a new table or key that breaks them fails here, not on a cluster.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

# Tables keyed by their learner: every table with a `user_id` column.
LEARNER_TABLES = text(
    """
    SELECT c.relname
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'user_id' AND NOT a.attisdropped
    WHERE c.relkind IN ('r', 'p')
    ORDER BY 1
    """
)

# Each unique index (primary keys and unique constraints included) and whether it holds user_id.
UNIQUE_INDEXES = text(
    """
    SELECT t.relname AS table_name, i.relname AS index_name,
           EXISTS (SELECT FROM unnest(x.indkey) k
                   JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k
                   WHERE a.attname = 'user_id') AS has_user
    FROM pg_index x
    JOIN pg_class t ON t.oid = x.indrelid
    JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
    WHERE x.indisunique AND t.relname = ANY(:tables)
    ORDER BY 1, 2
    """
)

# Foreign keys: the referenced table, the columns on each side, the update action.
FOREIGN_KEYS = text(
    """
    SELECT f.conname, t.relname AS table_name, r.relname AS referenced, f.confupdtype,
           ARRAY(SELECT a.attname::text FROM unnest(f.conkey) k
                 JOIN pg_attribute a ON a.attrelid = f.conrelid AND a.attnum = k) AS columns,
           ARRAY(SELECT a.attname::text FROM unnest(f.confkey) k
                 JOIN pg_attribute a ON a.attrelid = f.confrelid AND a.attnum = k)
               AS referenced_columns
    FROM pg_constraint f
    JOIN pg_class t ON t.oid = f.conrelid
    JOIN pg_class r ON r.oid = f.confrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
    WHERE f.contype = 'f'
    ORDER BY 1
    """
)


def _learner_tables(connection: Connection) -> list[str]:
    return list(connection.execute(LEARNER_TABLES).scalars())


def test_the_learner_tables_are_the_ones_expected(connection: Connection) -> None:
    # The tables these rules are about (a new one joins them by having a user_id column).
    tables = set(_learner_tables(connection))
    assert {
        "user_profiles",
        "user_sessions",
        "user_skill_tree_progress",
        "user_skill_progress",
        "user_achievements",
        "progress_events",
        "idempotency_keys",
        "assessment_attempts",
        "project_submissions",
        "skill_mastery",
        "mastery_reviews",
    } <= tables


def test_every_unique_key_of_a_learner_table_holds_the_learner(connection: Connection) -> None:
    rows = connection.execute(UNIQUE_INDEXES, {"tables": _learner_tables(connection)}).all()
    assert rows, "no unique index read: the query is wrong"
    without = [f"{row.table_name}.{row.index_name}" for row in rows if not row.has_user]
    assert without == []


def test_no_foreign_key_cascades_a_change_of_user_id(connection: Connection) -> None:
    rows = connection.execute(FOREIGN_KEYS).all()
    to_users = [row for row in rows if row.referenced == "users"]
    assert len(to_users) >= 7
    cascading = [row.conname for row in to_users if row.confupdtype == "c"]
    assert cascading == []


def test_foreign_keys_between_learner_tables_join_on_the_learner(connection: Connection) -> None:
    tables = set(_learner_tables(connection))
    between = [
        row
        for row in connection.execute(FOREIGN_KEYS).all()
        if row.table_name in tables and row.referenced in tables
    ]
    assert between, "no foreign key between learner tables: the query is wrong"
    apart = [
        row.conname
        for row in between
        if "user_id" not in row.columns
        or row.referenced_columns[row.columns.index("user_id")] != "user_id"
    ]
    assert apart == []
