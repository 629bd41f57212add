"""progress_events: the append-only audit trail of learners' progress

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22

Rows are written in the same transaction as the change they record and never updated (a trigger
refuses UPDATE). The primary key (id, occurred_at) lets the table become a monthly range-partitioned
table without changing its key.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENT_KINDS = (
    "ENROLL",
    "START",
    "COMPLETE",
    "SKIP",
    "ACTIVITY",
    "UNLOCK",
    "ACHIEVEMENT",
    "LEVEL_UP",
)


def upgrade() -> None:
    op.create_table(
        "progress_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Enum(*EVENT_KINDS, name="ProgressEventKind"), nullable=False),
        sa.Column("skill_tree_id", sa.Text(), nullable=True),
        sa.Column("skill_id", sa.Text(), nullable=True),
        sa.Column("achievement_id", sa.Text(), nullable=True),
        sa.Column("xp_delta", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "details",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("progress_events_user_id_fkey"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", "occurred_at", name="progress_events_pkey"),
    )
    op.create_index("idx_progress_event_time", "progress_events", ["occurred_at"])
    op.create_index(
        "idx_progress_event_tree_time", "progress_events", ["skill_tree_id", "occurred_at"]
    )
    op.create_index("idx_progress_event_user_time", "progress_events", ["user_id", "occurred_at"])
    op.execute(
        """
        CREATE FUNCTION progress_events_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'progress events are append-only'
                USING ERRCODE = 'integrity_constraint_violation',
                      CONSTRAINT = 'progress_events_append_only';
        END
        $$;
        CREATE TRIGGER progress_events_append_only BEFORE UPDATE ON progress_events
            FOR EACH ROW EXECUTE FUNCTION progress_events_refuse_update();
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER progress_events_append_only ON progress_events")
    op.execute("DROP FUNCTION progress_events_refuse_update()")
    op.drop_table("progress_events")
    op.execute('DROP TYPE "ProgressEventKind"')
