"""Settings read from the environment (12-factor); secrets are never logged."""

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, PositiveInt
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """SkillTree configuration: every field can be set by an environment variable of its name."""

    model_config = SettingsConfigDict(extra="ignore")

    database_url: str | None = None
    """PostgreSQL URL; unset means the embedded server under `skilltree_data_dir`."""
    redis_url: str | None = None
    """Redis URL for the shared tree-document cache; unset means no Redis (database only)."""
    redis_timeout_ms: int = 50
    """Bound on each Redis connect and read; past it the request reads the database."""
    redis_key_prefix: str = "skilltree:"
    """Prefix of every Redis key SkillTree writes (share a server between deployments)."""
    skilltree_data_dir: Path = Path(".skilltree")
    host: str = "127.0.0.1"
    port: int = 8000
    session_ttl_hours: int = 24 * 30
    """How long a login token stays valid without being ended by logout."""
    max_body_bytes: int = 1024 * 1024
    """Larger request bodies are refused with 413 before they are parsed."""
    text_search_config: str = "english"
    """PostgreSQL text-search configuration of search documents and queries; a change takes effect
    with `skilltree search reindex` (docs/search.md)."""

    # ---- Sign-in protection (issue 12, "Accounts resist guessing"; docs/security.md) ----------
    login_failures_per_account: PositiveInt = 10
    """Failed sign-ins of one account within LOGIN_FAILURE_WINDOW_SECONDS after which signing in
    to it answers 429, the right password included."""
    login_failures_per_address: PositiveInt = 50
    """The same for one client address (an IPv6 address's /64), whatever accounts it tries."""
    login_failure_window_seconds: PositiveInt = 15 * 60
    """How long a failed sign-in counts (shared through Redis when REDIS_URL is set)."""
    password_hashing_concurrency: PositiveInt = Field(
        default_factory=lambda: max(1, (os.cpu_count() or 1) // 2)
    )
    """Password hashes (argon2id, ~0.1 s of CPU each) one API process computes at once; other
    sign-ins and registrations wait for a turn holding no thread and no database connection."""
    # ---- end of sign-in protection -------------------------------------------------------------


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
