"""Settings read from the environment (12-factor); secrets are never logged.

Every setting is checked when it is read, at start-up: a value out of its bounds stops the
process with one line naming the variable (`skilltree` exits 2), rather than failing requests
later (a token that expires before it is issued, every body refused, a date overflow).
"""

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from skilltree.errors import InvalidSettings

SECRET_SETTINGS = frozenset({"database_url", "database_replica_url", "redis_url", "metrics_token"})
"""Settings whose value may hold a password: never repeated in a message."""
_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]{0,62}"

DEFAULT_CACHE_MB = 256
MAX_WORKERS = 256
MIN_METRICS_TOKEN = 16


def available_cores() -> int:
    """The CPU cores this process may run on (its affinity, else the machine's)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


Pooler = Literal["none", "pgbouncer"]
"""What DATABASE_URL reaches: PostgreSQL itself, or PgBouncer (any pooler) in transaction mode."""


class Settings(BaseSettings):
    """SkillTree configuration: every field can be set by an environment variable of its name."""

    model_config = SettingsConfigDict(extra="ignore")

    database_url: str | None = None
    """PostgreSQL URL; unset means the embedded server under `skilltree_data_dir`."""
    database_pooler: Pooler = "none"
    """What DATABASE_URL reaches: PostgreSQL itself (`none`), or a pooler in transaction mode
    (`pgbouncer`), through which the connections keep no server-side prepared statements
    (docs/operations.md#pgbouncer)."""
    # ---- Read replicas (issue 17 part 2; docs/operations.md#read-replicas) ---------------------
    database_replica_url: str | None = None
    """Streaming replicas of DATABASE_URL's server, comma-separated PostgreSQL URLs; reads that
    tolerate lag go to them (db/replicas.py). Unset: every read goes to DATABASE_URL."""
    replica_max_lag_ms: Annotated[int, Field(ge=0, le=3_600_000)] = 5_000
    """A replica further behind the primary than this serves no reads until it catches up."""
    replica_check_interval_ms: Annotated[int, Field(ge=10, le=60_000)] = 250
    """How often each API process probes the primary's and the replicas' WAL positions."""
    # ---- end of read replicas ------------------------------------------------------------------
    redis_url: str | None = None
    """Redis URL for the shared tree-document cache; unset means no Redis (database only)."""
    redis_timeout_ms: Annotated[int, Field(ge=1, le=60_000)] = 50
    """Bound on each Redis connect and read; past it the request reads the database."""
    redis_key_prefix: Annotated[str, Field(max_length=100)] = "skilltree:"
    """Prefix of every Redis key SkillTree writes (share a server between deployments)."""
    skilltree_data_dir: Path = Path(".skilltree")
    host: Annotated[str, Field(min_length=1)] = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65_535)] = 8000
    session_ttl_hours: Annotated[int, Field(ge=1, le=24 * 365 * 10)] = 24 * 30
    """How long a login token stays valid without being ended by logout (1 hour to 10 years)."""
    max_body_bytes: Annotated[int, Field(ge=1024, le=1024 * 1024 * 1024)] = 1024 * 1024
    """Larger request bodies are refused with 413 before they are parsed (1 KiB to 1 GiB)."""
    statement_timeout_ms: Annotated[int, Field(ge=100, le=3_600_000)] = 30_000
    """A request's database statement running longer is cancelled (503, nothing written)."""
    idle_in_transaction_timeout_ms: Annotated[int, Field(ge=100, le=3_600_000)] = 60_000
    """A request holding its transaction open this long without a statement loses its connection
    (503, nothing written)."""
    cache_memory_mb: Annotated[int, Field(ge=0, le=1024 * 1024)] = DEFAULT_CACHE_MB
    """Memory each API process may spend on copies of trees (documents and graphs, half each);
    a tree larger than its half is not kept in process (0: no copies)."""
    text_search_config: Annotated[str, Field(pattern=rf"^({_IDENTIFIER}\.)?{_IDENTIFIER}$")] = (
        "english"
    )
    """PostgreSQL text-search configuration of search documents and queries; a change takes effect
    with `skilltree search reindex` (docs/search.md)."""

    # ---- Sign-in protection (issue 12, "Accounts resist guessing"; docs/security.md) ----------
    login_failures_per_account: Annotated[int, Field(ge=1, le=100_000)] = 10
    """Failed sign-ins of one account within LOGIN_FAILURE_WINDOW_SECONDS after which signing in
    to it answers 429, the right password included."""
    login_failures_per_address: Annotated[int, Field(ge=1, le=100_000)] = 50
    """The same for one client address (an IPv6 address's /64), whatever accounts it tries."""
    login_failure_window_seconds: Annotated[int, Field(ge=1, le=7 * 24 * 3600)] = 15 * 60
    """How long a failed sign-in counts (shared through Redis when REDIS_URL is set)."""
    password_hashing_concurrency: Annotated[int, Field(ge=1, le=1024)] = Field(
        default_factory=lambda: max(1, (os.cpu_count() or 1) // 2)
    )
    """Password hashes (argon2id, ~0.1 s of CPU each) one API process computes at once; other
    sign-ins and registrations wait for a turn holding no thread and no database connection."""
    # ---- end of sign-in protection -------------------------------------------------------------

    # ---- Serving (issue 16, "Workers"; docs/operations.md) --------------------------------------
    workers: Annotated[int, Field(ge=1, le=MAX_WORKERS)] = Field(default_factory=available_cores)
    """API processes `skilltree serve` runs (one per core by default); they share only PostgreSQL
    and Redis, each with its own connection pool and caches."""
    access_log: bool = False
    """Log one line per request on standard output (written by a thread, not the event loop)."""
    shutdown_timeout_seconds: Annotated[int, Field(ge=1, le=3600)] = 30
    """On SIGTERM a process stops accepting connections and lets its requests finish; the
    requests still running after this long are cancelled."""
    # ---- end of serving ------------------------------------------------------------------------

    # ---- Integrations (issue 14 part 5, "External completions, signed"; docs/security.md) -------
    webhook_tolerance_seconds: Annotated[int, Field(ge=1, le=3600)] = 300
    """The replay window of signed webhooks: a delivery whose webhook-timestamp is further than
    this from the server's clock, either way, is refused as stale (Standard Webhooks' 5 minutes
    by default)."""
    # ---- end of integrations -------------------------------------------------------------------
    # ---- Time on content (issue 14, part 4; docs/progress.md#time-on-content) ------------------
    content_heartbeat_max_seconds: Annotated[int, Field(ge=1, le=3600)] = 60
    """The most one heartbeat adds to a module: the time since the learner's last heartbeat on
    it, up to this (clients beat every 15-30 s; a longer silence counts only this much)."""
    content_module_time_factor: Annotated[float, Field(ge=0.1, le=100)] = 2.0
    """The most time a learner's heartbeats count on one module: this many times its
    `estimatedMinutes`."""
    # ---- end of time on content ----------------------------------------------------------------
    # ---- Monitoring (issue 17 part 4; docs/operations.md#monitoring) ----------------------------
    metrics_token: SecretStr | None = None
    """The bearer token GET /metrics asks for (`Authorization: Bearer <token>`); unset, /metrics
    answers 404. At least 16 characters of letters, digits and `-._~+/=`."""
    # ---- end of monitoring ---------------------------------------------------------------------
    # ---- Point-in-time recovery (issue 17 part 3; docs/operations.md#point-in-time-recovery) ----
    embedded_archiving: bool = True
    """The embedded server archives its WAL under SKILLTREE_DATA_DIR/archive/wal, from which
    `skilltree db restore --to-time` rebuilds the database as it was at a moment after a base
    backup (`skilltree db basebackup`). A change takes effect at the server's next start."""
    archive_retention_days: Annotated[int, Field(ge=1, le=3650)] = 7
    """`skilltree db basebackup` keeps the base backups of this many days, the newest before
    them, and the WAL from the oldest kept on: any moment of these days can be restored."""
    # ---- end of point-in-time recovery ---------------------------------------------------------
    review_claim_minutes: Annotated[int, Field(ge=1, le=7 * 24 * 60)] = 60
    """How long a reviewer's claim on a project submission lasts (1 minute to 7 days); past it,
    an undecided submission returns to the review queue for any reviewer to claim."""

    @field_validator("database_url")
    @classmethod
    def _postgresql_url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        _check_postgresql_url(url)
        return url

    @field_validator("database_replica_url")
    @classmethod
    def _replica_urls(cls, urls: str | None) -> str | None:
        if urls is None or not urls.strip():
            return None
        for url in urls.split(","):
            if not url.strip():
                raise ValueError("must be PostgreSQL URLs separated by commas, none empty")
            _check_postgresql_url(url.strip())
        return urls

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token(cls, token: SecretStr | None) -> SecretStr | None:
        if token is None:
            return None
        value = token.get_secret_value()
        if len(value) < MIN_METRICS_TOKEN or not re.fullmatch(r"[A-Za-z0-9\-._~+/=]+", value):
            raise ValueError(
                f"must be at least {MIN_METRICS_TOKEN} characters of letters, digits and -._~+/="
            )
        return token

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must use the redis://, rediss:// or unix:// scheme")
        return url


def _check_postgresql_url(url: str) -> None:
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError:
        raise ValueError("must be a URL such as postgresql://user:pw@host:5432/db") from None
    if backend not in {"postgres", "postgresql"}:
        raise ValueError("must be a postgresql:// URL") from None


def read_settings() -> Settings:
    """The settings in the environment, or InvalidSettings naming each variable out of bounds."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            name = str(error["loc"][0]) if error["loc"] else "settings"
            shown = "" if name in SECRET_SETTINGS else f"={error.get('input')}"
            problems.append(f"{name.upper()}{shown} is not valid: {error['msg']}")
        raise InvalidSettings("; ".join(problems)) from None


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once (InvalidSettings when one is out of bounds)."""
    return read_settings()
