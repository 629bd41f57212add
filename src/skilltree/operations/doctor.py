"""`skilltree db doctor`: what an operator checks weekly, read from the database itself.

Each check is one named query (doctor_*.sql beside this module) over PostgreSQL's statistics
views; `examine` runs them all and compares what they found with the `Thresholds`, and each
threshold crossed is a `Problem` (the command exits 1 when there is one). Nothing is changed in
the database, except that the sizes measured are written to `relation_sizes` (migration 0037) for
the next run to report growth against (`record=False`: nothing written).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from importlib.resources import files
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from skilltree.db.embedded import STATEMENT_STATISTICS

CHECKS = (
    "statements",
    "unused_indexes",
    "duplicate_indexes",
    "bloat",
    "cache",
    "sizes",
    "sessions",
    "autovacuum",
    "replication",
)
"""Every check, in the order the report shows them."""


@dataclass(frozen=True)
class Thresholds:
    """Past these the doctor reports a problem (None: the check is only shown)."""

    min_cache_hit_ratio: float = 0.95
    min_cache_blocks: int = 10_000
    """Fewer block reads than this since the statistics' reset: too little to judge the ratio."""
    max_bloat_ratio: float = 0.5
    min_bloat_bytes: int = 64 * 1024 * 1024
    """Wasted space smaller than this is not a problem whatever the ratio."""
    max_query_seconds: float = 300.0
    max_idle_in_transaction_seconds: float = 60.0
    max_vacuum_overdue: float = 2.0
    """Dead rows past this many times the count that sets autovacuum off: it is falling behind."""
    min_dead_rows: int = 10_000
    """Fewer dead rows than this are never a problem (a small table between two naps of
    autovacuum)."""
    max_xid_age: int = 1_000_000_000
    max_replication_lag_seconds: float = 60.0
    max_duplicate_indexes: int = 0
    max_unused_indexes: int | None = None
    max_growth_percent: float | None = None
    min_growth_bytes: int = 64 * 1024 * 1024
    """Growth smaller than this is not a problem whatever the percentage."""


@dataclass(frozen=True)
class Problem:
    """A threshold crossed: which check, and what was found, in words."""

    check: str
    message: str


@dataclass
class Report:
    """What the checks found (JSON-ready through `as_json`), and the problems among it."""

    database: str
    server_version: str
    checked_at: datetime
    statements: dict[str, Any] = field(default_factory=dict)
    unused_indexes: list[dict[str, Any]] = field(default_factory=list)
    duplicate_indexes: list[dict[str, Any]] = field(default_factory=list)
    bloat: list[dict[str, Any]] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict)
    sizes: dict[str, Any] = field(default_factory=dict)
    sessions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    autovacuum: list[dict[str, Any]] = field(default_factory=list)
    replication: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The report as JSON-ready values (times as ISO 8601 text)."""
        found: dict[str, Any] = _jsonable(asdict(self))
        return found


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def query(name: str) -> str:
    """The text of doctor_`name`.sql."""
    return files("skilltree.operations").joinpath(f"doctor_{name}.sql").read_text("utf-8")


def _rows(conn: Connection, name: str, **parameters: Any) -> list[dict[str, Any]]:
    return [dict(row) for row in conn.execute(text(query(name)), parameters).mappings()]


def examine(
    engine: Engine,
    thresholds: Thresholds,
    *,
    top: int = 5,
    record: bool = True,
    step: Callable[[str], None] = lambda check: None,
) -> Report:
    """Run every check on `engine`'s database (`step` is told each one's name as it starts),
    compare with `thresholds`, and (when `record`) keep the sizes for the next run."""
    with engine.connect() as conn:
        database, version, now = conn.execute(
            text("SELECT current_database(), current_setting('server_version'), now()")
        ).one()
        report = Report(database=database, server_version=version, checked_at=now)
        for check in CHECKS:
            step(check)
            _RUN[check](conn, report, thresholds, top)
        conn.rollback()
    report.sizes["note"] = (
        _record_sizes(engine, report.sizes.get("relations", []))
        if record
        else "not kept (--no-record)"
    )
    return report


def _statements(conn: Connection, report: Report, limits: Thresholds, top: int) -> None:
    loaded = conn.execute(
        text(
            "SELECT :name = ANY (string_to_array(replace("
            "current_setting('shared_preload_libraries'), ' ', ''), ','))"
        ),
        {"name": STATEMENT_STATISTICS},
    ).scalar_one()
    created = conn.execute(
        text("SELECT 1 FROM pg_extension WHERE extname = :name"), {"name": STATEMENT_STATISTICS}
    ).first()
    if not loaded:
        report.statements = {
            "available": False,
            "note": "pg_stat_statements is not loaded: add it to shared_preload_libraries, "
            "restart the server, then CREATE EXTENSION pg_stat_statements in this database "
            "(docs/operations.md#statement-statistics)",
        }
        return
    if created is None:
        report.statements = {
            "available": False,
            "note": f"pg_stat_statements is loaded but not created in database {report.database}:"
            " run CREATE EXTENSION pg_stat_statements there (as its owner or a superuser)",
        }
        return
    try:
        with conn.begin_nested():
            by_total = _rows(conn, "statements", order="total", top=top)
            by_mean = _rows(conn, "statements", order="mean", top=top)
    except DBAPIError as exc:  # say, a role that may not read it
        report.statements = {"available": False, "note": f"pg_stat_statements: {_reason(exc)}"}
        return
    report.statements = {"available": True, "by_total_time": by_total, "by_mean_time": by_mean}


def _unused_indexes(conn: Connection, report: Report, limits: Thresholds, top: int) -> None:
    report.unused_indexes = _rows(conn, "unused_indexes")
    found = len(report.unused_indexes)
    if limits.max_unused_indexes is not None and found > limits.max_unused_indexes:
        report.problems.append(
            Problem(
                "unused_indexes",
                f"{found} indexes have never been scanned (more than {limits.max_unused_indexes})",
            )
        )


SPEC_DUPLICATES = frozenset(
    {
        "public.idx_user_email",
        "public.idx_user_username",
        "public.idx_category_slug",
        "public.idx_tree_slug",
    }
)
"""Indexes the spec names that repeat a unique constraint's index (users' email and username,
categories' and trees' slugs): SkillTree installs them because the spec names them
(tests/schema/test_conformance.py), so they are shown as `expected`, never a problem."""


def _duplicate_indexes(conn: Connection, report: Report, limits: Thresholds, top: int) -> None:
    report.duplicate_indexes = _rows(conn, "duplicate_indexes")
    for duplicate in report.duplicate_indexes:
        duplicate["indexes"] = list(duplicate["indexes"])
        others = [i for i in duplicate["indexes"] if i not in SPEC_DUPLICATES]
        duplicate["expected"] = len(others) == 1
    unexpected = [d for d in report.duplicate_indexes if not d["expected"]]
    if len(unexpected) > limits.max_duplicate_indexes:
        sets = "; ".join(", ".join(d["indexes"]) for d in unexpected)
        report.problems.append(Problem("duplicate_indexes", f"the same index twice: {sets}"))


def _bloat(conn: Connection, report: Report, limits: Thresholds, top: int) -> None:
    report.bloat = _rows(conn, "bloat", top=top)
    for table in report.bloat:
        if table["ratio"] > limits.max_bloat_ratio and table["wasted"] >= limits.min_bloat_bytes:
            report.problems.append(
                Problem(
                    "bloat",
                    f"{table['table']}: an estimated {table['ratio']:.0%} of its "
                    f"{format_bytes(table['bytes'])} is dead space",
                )
            )


def _cache(conn: Connection, report: Report, limits: Thresholds, top: int) -> None:
    rows = _rows(conn, "cache")
    report.cache = rows[0] if rows else {"hits": 0, "reads": 0, "ratio": None}
    ratio, blocks = report.cache["ratio"], report.cache["hits"] + report.cache["reads"]
    if (
        ratio is not None
        and blocks >= limits.min_cache_blocks
        and ratio < limits.min_cache_hit_ratio
    ):
        report.problems.append(
            Problem(
                "cache",
                f"{ratio:.2%} of block reads found in shared buffers "
                f"(fewer than {limits.min_cache_hit_ratio:.0%})",
            )
        )


def _sizes(conn: Connection, report: Report, limits: Thresholds, top: int) -> None:
    relations = _rows(conn, "sizes")
    previous: dict[str, tuple[int, datetime]] = {}
    kept = conn.execute(text("SELECT to_regclass('relation_sizes') IS NOT NULL")).scalar_one()
    if kept:
        previous = {
            relation: (size, measured)
            for relation, size, measured in conn.execute(
                text("SELECT relation, bytes, measured_at FROM relation_sizes")
            )
        }
    measured_at = max((at for _, at in previous.values()), default=None)
    for relation in relations:
        before = previous.get(relation["relation"])
        relation["growth"] = None if before is None else relation["bytes"] - before[0]
        if before is None or limits.max_growth_percent is None or before[0] == 0:
            continue
        percent = 100 * relation["growth"] / before[0]
        if percent > limits.max_growth_percent and relation["growth"] >= limits.min_growth_bytes:
            report.problems.append(
                Problem(
                    "sizes",
                    f"{relation['relation']} grew {percent:.0f}% since {before[1]:%Y-%m-%d} "
                    f"({format_bytes(before[0])} to {format_bytes(relation['bytes'])})",
                )
            )
    report.sizes = {
        "previous_run": measured_at,
        "kept": bool(kept),
        "total_bytes": sum(r["bytes"] for r in relations),
        "largest": relations[:top],
        "relations": relations,
    }


def _sessions(conn: Connection, report: Report, limits: Thresholds, top: int) -> None:
    sessions = _rows(conn, "sessions")
    long_running = [
        s
        for s in sessions
        if s["state"] == "active" and (s["query_seconds"] or 0) > limits.max_query_seconds
    ]
    idle = [
        s
        for s in sessions
        if s["state"].startswith("idle in transaction")
        and (s["state_seconds"] or 0) > limits.max_idle_in_transaction_seconds
    ]
    report.sessions = {"long_running": long_running, "idle_in_transaction": idle}
    for s in long_running:
        report.problems.append(
            Problem(
                "sessions",
                f"session {s['pid']} ({s['user']}) has run one statement for "
                f"{s['query_seconds']:.0f} s",
            )
        )
    for s in idle:
        report.problems.append(
            Problem(
                "sessions",
                f"session {s['pid']} ({s['user']}) has been idle in a transaction for "
                f"{s['state_seconds']:.0f} s",
            )
        )


def _autovacuum(conn: Connection, report: Report, limits: Thresholds, top: int) -> None:
    tables = _rows(conn, "autovacuum")
    report.autovacuum = tables[:top]
    for table in tables:
        due = table["vacuum_at"] or 1
        if table["dead_rows"] >= limits.min_dead_rows and (
            table["dead_rows"] > limits.max_vacuum_overdue * due
        ):
            report.problems.append(
                Problem(
                    "autovacuum",
                    f"{table['table']}: {table['dead_rows']:,} dead rows, "
                    f"{table['dead_rows'] / due:.1f} times what sets autovacuum off",
                )
            )
        if table["xid_age"] > limits.max_xid_age:
            report.problems.append(
                Problem(
                    "autovacuum",
                    f"{table['table']}: its oldest unfrozen transaction id is "
                    f"{table['xid_age']:,} transactions old",
                )
            )


def _replication(conn: Connection, report: Report, limits: Thresholds, top: int) -> None:
    report.replication = _rows(conn, "replication")
    for replica in report.replication:
        lag = replica["lag_seconds"]
        if lag is not None and lag > limits.max_replication_lag_seconds:
            report.problems.append(
                Problem("replication", f"{replica['replica']} is {lag:.0f} s behind")
            )


_RUN: Mapping[str, Callable[[Connection, Report, Thresholds, int], None]] = {
    "statements": _statements,
    "unused_indexes": _unused_indexes,
    "duplicate_indexes": _duplicate_indexes,
    "bloat": _bloat,
    "cache": _cache,
    "sizes": _sizes,
    "sessions": _sessions,
    "autovacuum": _autovacuum,
    "replication": _replication,
}


def _record_sizes(engine: Engine, relations: Sequence[Mapping[str, Any]]) -> str | None:
    """Keep `relations`' sizes as the last run's (in one transaction); None when kept, else why
    not."""
    try:
        with engine.begin() as conn:
            if not conn.execute(text("SELECT to_regclass('relation_sizes') IS NOT NULL")).scalar():
                return "not kept: the database has no relation_sizes (run skilltree db upgrade)"
            conn.execute(text("DELETE FROM relation_sizes"))
            if relations:
                conn.execute(
                    text(
                        "INSERT INTO relation_sizes (relation, kind, bytes, measured_at) "
                        "VALUES (:relation, :kind, :bytes, now())"
                    ),
                    [{k: r[k] for k in ("relation", "kind", "bytes")} for r in relations],
                )
    except DBAPIError as exc:  # a role that may only read
        return f"not kept: {_reason(exc)}"
    return None


def _reason(exc: DBAPIError) -> str:
    return str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__


def format_bytes(size: float) -> str:
    """`size` bytes in words: 512 B, 1.5 kB, 3.2 MB, ... (negative for a shrink)."""
    if abs(size) < 1024:
        return f"{size:.0f} B"
    for unit in ("kB", "MB", "GB"):
        size /= 1024
        if abs(size) < 1024:
            return f"{size:.1f} {unit}"
    return f"{size / 1024:.1f} TB"
