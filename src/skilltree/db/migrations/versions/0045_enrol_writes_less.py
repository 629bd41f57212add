"""enrolling writes less per root: one key to skills, partial time indexes, ids, no re-checks

Revision ID: 0045
Revises: 0044
Create Date: 2026-12-07

Issue 12, part 1: enrolling writes a row and an UNLOCK event per root skill (docs/progress.md,
"What enrolling costs": why the rows stay), so what each row costs beyond its own bytes is paid once per
root: 1,000 or 10,000 times in the "many roots" trees of benchmarks/bench_learner_paths.py.

- `user_skill_progress_skill_id_fkey` (skill_id -> skills.id, from 0001) is implied by
  `user_skill_progress_skill_tree_fkey` ((skill_id, skill_tree_id) -> skills (id, skill_tree_id),
  both columns NOT NULL, the same ON DELETE / ON UPDATE CASCADE): every row it refuses the
  composite key refuses, every cascade it makes the composite key makes. The model now declares
  only the composite key. Each insert paid one more referential check (a `FOR KEY SHARE` lookup of the
  skill) per row.
- `idx_skill_completion` (completed_at) and `idx_skill_progress_activity` (last_activity_at)
  held an entry for every row, NULL for every LOCKED or AVAILABLE one (most rows: each root of
  each enrolment). Every read through them asks for a time range, which implies NOT NULL, so the
  planner uses them as partial indexes alike; the unstarted rows no longer add entries.
- `new_row_id()`, which names each of those rows, drew two version 4 UUIDs from the server's
  strong random source (about 7 us each here) for its 24 random bytes; it now takes them from the
  SHA-256 of one: about 17 us a call against 25 (10,000 calls taking turns, load 8).

- `progress_enrol_learner` gave the roots from the stored ranks to `progress_unlock`, which
  checked each (the skill active in the tree, the learner's row, its prerequisites) and read its
  name again: a fifth of enrolling in a tree with 1,000 roots. Current ranks make each root free
  by definition, so it writes their rows and events itself, in one statement as
  `progress_unlock` does; the rest (the roots when the ranks are not current, the dependents of
  what the learner satisfied before enrolling) still goes through `progress_unlock`, and the
  answer lists both by id as before.

The downgrade restores all four as they were.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0045"
down_revision: str | None = "0044"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_ROW_ID = r"""
CREATE OR REPLACE FUNCTION new_row_id() RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL SAFE AS $$
DECLARE
    -- cuid2-shaped like skilltree.db.base.new_ids: a letter, then 23 base-36 digits, one byte
    -- each (mod 26, mod 36) of the SHA-256 of one version 4 UUID: as unguessable as the UUID's
    -- 122 random bits (new_ids: 119), from one draw of the server's strong random source, not
    -- two (0045: a draw costs about 7 us, as much as the rest of the call).
    h bytea := sha256(uuid_send(gen_random_uuid()));
    digits constant text := '0123456789abcdefghijklmnopqrstuvwxyz';
BEGIN
    RETURN concat(
        chr(97 + get_byte(h, 0) % 26),
        substr(digits, get_byte(h, 1) % 36 + 1, 1),
        substr(digits, get_byte(h, 2) % 36 + 1, 1),
        substr(digits, get_byte(h, 3) % 36 + 1, 1),
        substr(digits, get_byte(h, 4) % 36 + 1, 1),
        substr(digits, get_byte(h, 5) % 36 + 1, 1),
        substr(digits, get_byte(h, 6) % 36 + 1, 1),
        substr(digits, get_byte(h, 7) % 36 + 1, 1),
        substr(digits, get_byte(h, 8) % 36 + 1, 1),
        substr(digits, get_byte(h, 9) % 36 + 1, 1),
        substr(digits, get_byte(h, 10) % 36 + 1, 1),
        substr(digits, get_byte(h, 11) % 36 + 1, 1),
        substr(digits, get_byte(h, 12) % 36 + 1, 1),
        substr(digits, get_byte(h, 13) % 36 + 1, 1),
        substr(digits, get_byte(h, 14) % 36 + 1, 1),
        substr(digits, get_byte(h, 15) % 36 + 1, 1),
        substr(digits, get_byte(h, 16) % 36 + 1, 1),
        substr(digits, get_byte(h, 17) % 36 + 1, 1),
        substr(digits, get_byte(h, 18) % 36 + 1, 1),
        substr(digits, get_byte(h, 19) % 36 + 1, 1),
        substr(digits, get_byte(h, 20) % 36 + 1, 1),
        substr(digits, get_byte(h, 21) % 36 + 1, 1),
        substr(digits, get_byte(h, 22) % 36 + 1, 1),
        substr(digits, get_byte(h, 23) % 36 + 1, 1));
END
$$;
"""

ENROL_LEARNER = r"""
CREATE OR REPLACE FUNCTION progress_enrol_learner(p_user text, p_tree text, p_now timestamptz)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    -- The learner holds the tree (progress_enrol): no writer changes its graph meanwhile.
    ranked boolean := EXISTS (SELECT FROM skill_tree_ranks WHERE skill_tree_id = p_tree);
    roots jsonb := '[]';
    freed jsonb;
BEGIN
    INSERT INTO user_skill_tree_progress (
        id, user_id, skill_tree_id, total_skills, created_at)
    SELECT new_row_id(), p_user, p_tree, count(*), p_now FROM skills
    WHERE skill_tree_id = p_tree AND is_active;
    INSERT INTO progress_events (user_id, kind, skill_tree_id, occurred_at) VALUES (p_user, 'ENROLL', p_tree, p_now);
    -- Only skills without active prerequisites, and dependents of what the learner has already
    -- satisfied, can be free: those are the candidates, not every skill of the tree.
    IF ranked THEN
        -- The tree's stored ranks are current (skill_ranks, by the tree's index: the roots
        -- alone): each root is an active skill of the tree without an active prerequisite, free
        -- by definition, so it needs none of progress_unlock's checks (0045: they were a fifth
        -- of enrolling in a tree with 1,000 roots). As progress_unlock: AVAILABLE with its
        -- unlock time and one UNLOCK event for each row this statement wrote (none for a row
        -- already AVAILABLE or further).
        WITH rows AS (
            INSERT INTO user_skill_progress AS r (
                id, user_id, skill_id, skill_tree_id, status, unlocked_at)
            SELECT new_row_id(), p_user, k.skill_id, p_tree, 'AVAILABLE', p_now
            FROM skill_ranks k WHERE k.skill_tree_id = p_tree AND k.prerequisites = 0
            ON CONFLICT (user_id, skill_id)
                DO UPDATE SET status = 'AVAILABLE', unlocked_at = excluded.unlocked_at
                WHERE r.status = 'LOCKED'
            RETURNING r.skill_id
        ), events AS (
            INSERT INTO progress_events (user_id, kind, skill_tree_id, skill_id, occurred_at)
            SELECT p_user, 'UNLOCK', p_tree, skill_id, p_now FROM rows
            ORDER BY skill_id COLLATE "C"
        )
        -- Each name by its skill's primary key, whatever the planner guesses of `rows` (a
        -- join let it hash every skill of every tree for a few roots).
        SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'id', rows.skill_id,
                   'name', (SELECT s.name FROM skills s WHERE s.id = rows.skill_id))
                   ORDER BY rows.skill_id COLLATE "C"), '[]')
        INTO roots FROM rows;
    END IF;
    -- The rest through progress_unlock's checks: the roots when the ranks are not current (the
    -- skills without an active prerequisite), and the dependents of what the learner satisfied
    -- before enrolling (rarely any). The one statement of the engine planned again at each
    -- call (a custom plan folds `ranked`: 0036), once per enrolment, whose writes cost far more.
    freed := progress_unlock(p_user, p_tree, ARRAY(
        SELECT s.id FROM skills s
        WHERE NOT ranked AND s.skill_tree_id = p_tree AND s.is_active AND NOT EXISTS (
            SELECT FROM skill_dependencies d
            JOIN skills p ON p.id = d.depends_on_id AND p.is_active
            WHERE d.skill_id = s.id)
        UNION
        SELECT d.skill_id
        FROM user_skill_progress r
        JOIN skills p ON p.id = r.skill_id
        JOIN skill_dependencies d ON d.depends_on_id = r.skill_id
        WHERE r.user_id = p_user AND r.skill_tree_id = p_tree
          AND coalesce(r.status = 'COMPLETED' OR (r.status = 'SKIPPED' AND p.is_optional),
                       false)), p_now);
    IF freed = '[]' THEN
        RETURN roots;
    ELSIF roots = '[]' THEN
        RETURN freed;
    END IF;
    -- Both: one list by id, as progress_unlock lists what it unlocks.
    RETURN (SELECT jsonb_agg(u ORDER BY u->>'id' COLLATE "C")
            FROM (SELECT jsonb_array_elements(roots) UNION ALL
                  SELECT jsonb_array_elements(freed)) AS unlocked(u));
END
$$;
"""

ENROL_LEARNER_0039 = r"""
CREATE OR REPLACE FUNCTION public.progress_enrol_learner(p_user text, p_tree text, p_now timestamp with time zone)
 RETURNS jsonb
 LANGUAGE plpgsql
AS $function$
DECLARE
    -- The learner holds the tree (progress_enrol): no writer changes its graph meanwhile.
    ranked boolean := EXISTS (SELECT FROM skill_tree_ranks WHERE skill_tree_id = p_tree);
BEGIN
    INSERT INTO user_skill_tree_progress (
        id, user_id, skill_tree_id, total_skills, created_at)
    SELECT new_row_id(), p_user, p_tree, count(*), p_now FROM skills
    WHERE skill_tree_id = p_tree AND is_active;
    INSERT INTO progress_events (user_id, kind, skill_tree_id, occurred_at) VALUES (p_user, 'ENROLL', p_tree, p_now);
    -- Only skills without active prerequisites, and dependents of what the learner has already
    -- satisfied, can be free: those are the candidates, not every skill of the tree. The roots
    -- are the tree's stored ranks' when they are current (skill_ranks, by the tree's index: the
    -- roots alone), else the skills without an active prerequisite (only one of the two runs).
    -- The one statement of the engine planned again at each call (a custom plan folds
    -- `ranked`: 0036), once per enrolment, whose writes cost far more.
    RETURN progress_unlock(p_user, p_tree, ARRAY(
        SELECT k.skill_id FROM skill_ranks k
        WHERE ranked AND k.skill_tree_id = p_tree AND k.prerequisites = 0
        UNION
        SELECT s.id FROM skills s
        WHERE NOT ranked AND s.skill_tree_id = p_tree AND s.is_active AND NOT EXISTS (
            SELECT FROM skill_dependencies d
            JOIN skills p ON p.id = d.depends_on_id AND p.is_active
            WHERE d.skill_id = s.id)
        UNION
        SELECT d.skill_id
        FROM user_skill_progress r
        JOIN skills p ON p.id = r.skill_id
        JOIN skill_dependencies d ON d.depends_on_id = r.skill_id
        WHERE r.user_id = p_user AND r.skill_tree_id = p_tree
          AND coalesce(r.status = 'COMPLETED' OR (r.status = 'SKIPPED' AND p.is_optional),
                       false)), p_now);
END
$function$;
"""

NEW_ROW_ID_0031 = r"""
CREATE OR REPLACE FUNCTION new_row_id() RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL SAFE AS $$
DECLARE
    -- cuid2-shaped like skilltree.db.base.new_ids: a letter, then 23 base-36 digits, one random
    -- byte each (mod 26, mod 36), from the random bytes of two version 4 UUIDs (all but bytes 6
    -- and 8, which hold the version and variant bits). The likeliest id has a chance of
    -- (10/256)(8/256)^23: 119.7 bits of min-entropy, as unguessable as new_ids' 119 bits.
    a bytea := uuid_send(gen_random_uuid());
    b bytea := uuid_send(gen_random_uuid());
    digits constant text := '0123456789abcdefghijklmnopqrstuvwxyz';
BEGIN
    RETURN concat(
        chr(97 + get_byte(a, 0) % 26),
        substr(digits, get_byte(a, 1) % 36 + 1, 1),
        substr(digits, get_byte(a, 2) % 36 + 1, 1),
        substr(digits, get_byte(a, 3) % 36 + 1, 1),
        substr(digits, get_byte(a, 4) % 36 + 1, 1),
        substr(digits, get_byte(a, 5) % 36 + 1, 1),
        substr(digits, get_byte(a, 7) % 36 + 1, 1),
        substr(digits, get_byte(a, 9) % 36 + 1, 1),
        substr(digits, get_byte(a, 10) % 36 + 1, 1),
        substr(digits, get_byte(a, 11) % 36 + 1, 1),
        substr(digits, get_byte(a, 12) % 36 + 1, 1),
        substr(digits, get_byte(a, 13) % 36 + 1, 1),
        substr(digits, get_byte(a, 14) % 36 + 1, 1),
        substr(digits, get_byte(a, 15) % 36 + 1, 1),
        substr(digits, get_byte(b, 0) % 36 + 1, 1),
        substr(digits, get_byte(b, 1) % 36 + 1, 1),
        substr(digits, get_byte(b, 2) % 36 + 1, 1),
        substr(digits, get_byte(b, 3) % 36 + 1, 1),
        substr(digits, get_byte(b, 4) % 36 + 1, 1),
        substr(digits, get_byte(b, 5) % 36 + 1, 1),
        substr(digits, get_byte(b, 7) % 36 + 1, 1),
        substr(digits, get_byte(b, 9) % 36 + 1, 1),
        substr(digits, get_byte(b, 10) % 36 + 1, 1),
        substr(digits, get_byte(b, 11) % 36 + 1, 1));
END
$$;
"""


def upgrade() -> None:
    op.execute(NEW_ROW_ID)
    op.execute(ENROL_LEARNER)
    op.execute("ALTER TABLE user_skill_progress DROP CONSTRAINT user_skill_progress_skill_id_fkey")
    op.execute("DROP INDEX idx_skill_completion")
    op.execute(
        "CREATE INDEX idx_skill_completion ON user_skill_progress (completed_at)"
        " WHERE completed_at IS NOT NULL"
    )
    op.execute("DROP INDEX idx_skill_progress_activity")
    op.execute(
        "CREATE INDEX idx_skill_progress_activity ON user_skill_progress (last_activity_at)"
        " WHERE last_activity_at IS NOT NULL"
    )


def downgrade() -> None:
    op.execute(NEW_ROW_ID_0031)
    op.execute(ENROL_LEARNER_0039)
    op.execute("DROP INDEX idx_skill_progress_activity")
    op.execute("CREATE INDEX idx_skill_progress_activity ON user_skill_progress (last_activity_at)")
    op.execute("DROP INDEX idx_skill_completion")
    op.execute("CREATE INDEX idx_skill_completion ON user_skill_progress (completed_at)")
    op.execute(
        "ALTER TABLE user_skill_progress ADD CONSTRAINT user_skill_progress_skill_id_fkey"
        " FOREIGN KEY (skill_id) REFERENCES skills (id) ON UPDATE CASCADE ON DELETE CASCADE"
    )
