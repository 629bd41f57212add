"""new_row_id() takes a few microseconds, not a numeric loop's 30-46

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-06

The engine names each row it inserts (an enrolment's skill rows, achievements) with
`new_row_id()`. 0014's made one 128-bit numeric from a UUID's bytes and divided it 24 times:
about 46 µs an id, a third of enrolling in a tree with 10,000 roots. The same shape (a letter,
then 23 base-36 digits) now comes from one random byte per character of two version 4 UUIDs: no
numeric arithmetic, no loop: 10-15 µs a call against 23-37 µs (benchmarks/RESULTS.md). The
downgrade restores 0014's definition.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE = r"""
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

DOWNGRADE = r"""
CREATE OR REPLACE FUNCTION new_row_id() RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL SAFE AS $$
DECLARE
    -- cuid2-shaped like skilltree.db.base.new_ids: a letter, then 23 base-36 digits, from the
    -- 122 random bits of a version 4 UUID.
    bits bytea := uuid_send(gen_random_uuid());
    n numeric := 0;
    id text;
BEGIN
    FOR i IN 0..15 LOOP
        n := n * 256 + get_byte(bits, i);
    END LOOP;
    id := chr(97 + (n % 26)::integer);
    n := div(n, 26);
    FOR i IN 1..23 LOOP
        id := id || substr('0123456789abcdefghijklmnopqrstuvwxyz', (n % 36)::integer + 1, 1);
        n := div(n, 36);
    END LOOP;
    RETURN id;
END
$$;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
