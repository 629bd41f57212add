"""Sign-in hashes the password as the stored hash was, without seeing that hash (migration 0024)."""

from __future__ import annotations

import pytest

from skilltree.accounts.passwords import hash_like, hash_password


def settings_of(stored: str) -> tuple[str, int]:
    """What `account_password_settings` answers for `stored`: all but the hash, and its length."""
    settings, hashed = stored.rsplit("$", 1)
    return settings, len(hashed) * 3 // 4


def test_the_right_password_hashes_to_the_stored_hash_and_a_wrong_one_does_not() -> None:
    stored = hash_password("correct horse")
    settings, length = settings_of(stored)
    assert hash_like(settings, length, "correct horse") == stored
    assert hash_like(settings, length, "correct horsE") not in {stored, None}


@pytest.mark.parametrize(
    ("settings", "length"),
    [
        (None, None),
        ("not a hash", 32),
        ("$argon2id$v=19$m=65536,t=3$c2FsdHNhbHQ", 32),  # no parallelism
        ("$argon2id$v=19$m=1,t=3,p=4$c2FsdHNhbHQ", 32),  # too little memory for argon2
    ],
)
def test_without_usable_settings_nothing_can_match(
    settings: str | None, length: int | None
) -> None:
    assert hash_like(settings, length, "correct horse") is None
