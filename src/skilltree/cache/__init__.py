"""Shared caches outside the process: tree documents in Redis (see cache.trees)."""
