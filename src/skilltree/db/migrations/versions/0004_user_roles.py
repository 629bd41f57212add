"""users.role: LEARNER (default), AUTHOR or ADMIN, for who may author trees

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

user_role = sa.Enum("LEARNER", "AUTHOR", "ADMIN", name="UserRole")


def upgrade() -> None:
    user_role.create(op.get_bind())
    op.add_column("users", sa.Column("role", user_role, server_default="LEARNER", nullable=False))


def downgrade() -> None:
    op.drop_column("users", "role")
    user_role.drop(op.get_bind())
