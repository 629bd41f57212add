"""a learner's skill rows: one key to skills, no time index entries unstarted, cheaper ids

Revision ID: 0043
Revises: 0042
Create Date: 2026-12-07

Issue 12, part 1: enrolling writes a row and an UNLOCK event per root skill (docs/progress.md,
"Enrolling": why the rows stay), so what each row costs beyond its own bytes is paid once per
root: 1,000 or 10,000 times in the "many roots" trees of benchmarks/bench_learner_paths.py.

- `user_skill_progress_skill_id_fkey` (skill_id -> skills.id, from 0001) is implied by
  `user_skill_progress_skill_tree_fkey` ((skill_id, skill_tree_id) -> skills (id, skill_tree_id),
  both columns NOT NULL, the same ON DELETE / ON UPDATE CASCADE): every row it refuses the
  composite key refuses, every cascade it makes the composite key makes. The models declare only
  the composite key. Each insert paid one more referential check (a `FOR KEY SHARE` lookup of the
  skill) per row.
- `idx_skill_completion` (completed_at) and `idx_skill_progress_activity` (last_activity_at)
  held an entry for every row, NULL for every LOCKED or AVAILABLE one (most rows: each root of
  each enrolment). Every read through them asks for a time range, which implies NOT NULL, so the
  planner uses them as partial indexes alike; the unstarted rows no longer add entries.

- `new_row_id()`, which names each of those rows, drew two version 4 UUIDs from the server's
  strong random source (about 7 us each here) for its 24 random bytes; it now takes them from the
  SHA-256 of one: about 17 us a call against 25 (10,000 calls taking turns, load 8).

The downgrade restores all three as they were.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0043"
down_revision: str | None = "0042"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_ROW_ID = r"""
CREATE OR REPLACE FUNCTION new_row_id() RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL SAFE AS $$
DECLARE
    -- cuid2-shaped like skilltree.db.base.new_ids: a letter, then 23 base-36 digits, one byte
    -- each (mod 26, mod 36) of the SHA-256 of one version 4 UUID: as unguessable as the UUID's
    -- 122 random bits (new_ids: 119), from one draw of the server's strong random source, not
    -- two (0043: a draw costs about 7 us, as much as the rest of the call).
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
    op.execute("DROP INDEX idx_skill_progress_activity")
    op.execute("CREATE INDEX idx_skill_progress_activity ON user_skill_progress (last_activity_at)")
    op.execute("DROP INDEX idx_skill_completion")
    op.execute("CREATE INDEX idx_skill_completion ON user_skill_progress (completed_at)")
    op.execute(
        "ALTER TABLE user_skill_progress ADD CONSTRAINT user_skill_progress_skill_id_fkey"
        " FOREIGN KEY (skill_id) REFERENCES skills (id) ON UPDATE CASCADE ON DELETE CASCADE"
    )
