"""Settings read from the environment (12-factor); secrets are never logged."""

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_CACHE_MB = 256


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
    statement_timeout_ms: int = 30_000
    """A request's database statement running longer is cancelled (503, nothing written)."""
    idle_in_transaction_timeout_ms: int = 60_000
    """A request holding its transaction open this long without a statement loses its connection
    (503, nothing written)."""
    cache_memory_mb: int = DEFAULT_CACHE_MB
    """Memory each API process may spend on copies of trees (documents and graphs, half each);
    a tree larger than its half is not kept in process."""
    text_search_config: str = "english"
    """PostgreSQL text-search configuration of search documents and queries; a change takes effect
    with `skilltree search reindex` (docs/search.md)."""


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
