"""skills.key: a stable per-tree name for each skill, so tree files can refer to skills

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22

Existing skills get a key made from their short name (or name), made unique within the tree.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"


def upgrade() -> None:
    op.add_column("skills", sa.Column("key", sa.String(length=100), nullable=True))
    op.execute(
        """
        WITH base AS (
            SELECT id, skill_tree_id,
                   coalesce(nullif(left(trim(BOTH '-' FROM regexp_replace(
                       lower(coalesce(short_name, name)), '[^a-z0-9]+', '-', 'g')), 90), ''),
                       'skill') AS stem
            FROM skills
        ),
        numbered AS (
            SELECT id, stem, row_number() OVER (PARTITION BY skill_tree_id, stem ORDER BY id) AS n
            FROM base
        )
        UPDATE skills s
        SET key = CASE WHEN n = 1 THEN stem ELSE stem || '-' || n END
        FROM numbered
        WHERE numbered.id = s.id
        """
    )
    op.alter_column("skills", "key", nullable=False)
    op.create_unique_constraint(
        op.f("skills_skill_tree_id_key_key"), "skills", ["skill_tree_id", "key"]
    )
    op.create_check_constraint(op.f("skills_key_format_check"), "skills", f"key ~ '{KEY_PATTERN}'")


def downgrade() -> None:
    op.drop_constraint(op.f("skills_key_format_check"), "skills", type_="check")
    op.drop_constraint(op.f("skills_skill_tree_id_key_key"), "skills", type_="unique")
    op.drop_column("skills", "key")
