"""operations: when each background job last succeeded, and the sizes `db doctor` last measured

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-07

Two small tables for operators, written by the command line only (the API role reads and writes
neither: what the migrating role's default privileges grant it is revoked):

- `job_runs`: one row per background job (`analytics fold`, `analytics refresh-times`,
  `db housekeeping`) saying when it last succeeded and how long that run took. GET /metrics
  exposes it (skilltree_job_last_success_timestamp_seconds), so an alert fires when cron stops
  running a job, on whatever host cron runs it.
- `relation_sizes`: the size of every table and index at the last `skilltree db doctor`, which
  the next run compares with (growth since the last run).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0037"
down_revision: str | None = "0036"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE = """
CREATE TABLE job_runs (
    job text NOT NULL,
    succeeded_at timestamp with time zone NOT NULL,
    seconds double precision NOT NULL,
    CONSTRAINT job_runs_pkey PRIMARY KEY (job),
    CONSTRAINT job_runs_job_check CHECK (job ~ '^[a-z][a-z0-9_-]{0,62}$'),
    CONSTRAINT job_runs_seconds_check CHECK (seconds >= 0)
);
COMMENT ON TABLE job_runs IS
    'When each background job (analytics fold, analytics refresh-times, db housekeeping) last succeeded, and how long that run took (GET /metrics).';
REVOKE ALL ON TABLE job_runs FROM skilltree_app;

CREATE TABLE relation_sizes (
    relation text NOT NULL,
    kind text NOT NULL,
    bytes bigint NOT NULL,
    measured_at timestamp with time zone NOT NULL,
    CONSTRAINT relation_sizes_pkey PRIMARY KEY (relation),
    CONSTRAINT relation_sizes_kind_check CHECK (kind IN ('table', 'index')),
    CONSTRAINT relation_sizes_bytes_check CHECK (bytes >= 0)
);
COMMENT ON TABLE relation_sizes IS
    'The size of every table and index at the last skilltree db doctor, which the next run reports growth against.';
REVOKE ALL ON TABLE relation_sizes FROM skilltree_app;
"""

DOWNGRADE = """
DROP TABLE relation_sizes;
DROP TABLE job_runs;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
