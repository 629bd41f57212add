"""What the command line records for operators: background jobs' last successes, and the sizes
`skilltree db doctor` measured last (migration 0037; docs/operations.md). The API role reads
and writes neither."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Double, Text
from sqlalchemy.orm import Mapped, mapped_column

from skilltree.db.base import Base

# The tables' comments, as migration 0037 writes them.
JOB_RUNS_COMMENT = (
    "When each background job (analytics fold, analytics refresh-times, db housekeeping) last "
    "succeeded, and how long that run took (GET /metrics)."
)
RELATION_SIZES_COMMENT = (
    "The size of every table and index at the last skilltree db doctor, which the next run "
    "reports growth against."
)


class JobRun(Base):
    """A background job's last successful run."""

    __tablename__ = "job_runs"

    job: Mapped[str] = mapped_column(Text, primary_key=True)
    succeeded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    seconds: Mapped[float] = mapped_column(Double)

    __table_args__ = (
        CheckConstraint("job ~ '^[a-z][a-z0-9_-]{0,62}$'", name="job"),
        CheckConstraint("seconds >= 0", name="seconds"),
        {"comment": JOB_RUNS_COMMENT},
    )


class RelationSize(Base):
    """A table's or index's size at the last `skilltree db doctor`."""

    __tablename__ = "relation_sizes"

    relation: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    bytes: Mapped[int] = mapped_column(BigInteger)
    measured_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("kind IN ('table', 'index')", name="kind"),
        CheckConstraint("bytes >= 0", name="bytes"),
        {"comment": RELATION_SIZES_COMMENT},
    )
