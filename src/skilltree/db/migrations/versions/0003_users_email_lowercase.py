"""users.email is stored lower-case, so one mailbox has one account whatever the writer

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE users SET email = lower(email) WHERE email <> lower(email)")
    op.create_check_constraint(op.f("users_email_lowercase_check"), "users", "email = lower(email)")


def downgrade() -> None:
    op.drop_constraint(op.f("users_email_lowercase_check"), "users", type_="check")
