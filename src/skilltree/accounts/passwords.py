"""Password hashing with argon2id (argon2-cffi's defaults follow RFC 9106).

A stored hash never comes back from the database to the API (migration 0024): sign-in reads the
hash's settings (algorithm, parameters, salt, length), hashes the password it was given the same
way (`hash_like`), and lets the database compare the two.
"""

from __future__ import annotations

import base64

from argon2 import PasswordHasher
from argon2.exceptions import HashingError, InvalidHashError, VerificationError
from argon2.low_level import Type, hash_secret

_hasher = PasswordHasher()
# Verified against when the login names no user, so both failures take the same time.
_DUMMY_HASH = _hasher.hash("not a real password")
_TYPES = {"argon2id": Type.ID, "argon2i": Type.I, "argon2d": Type.D}


def hash_password(password: str) -> str:
    """The argon2id hash of `password`, salted."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches `password_hash`; with no hash, spend the same time and say no."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def hash_like(settings: str | None, hash_length: int | None, password: str) -> str | None:
    """`password` hashed as a stored hash was: `settings` is that hash's PHC string without its
    last field (`$argon2id$v=19$m=..,t=..,p=..$<salt>`), `hash_length` its length in bytes.
    Equal to the stored hash exactly when the password is right. None without settings (no
    such account) or with settings that cannot be read, after as long as a hash takes."""
    try:
        if settings is not None and hash_length is not None:
            return _hash_with(settings, hash_length, password)
    except (ValueError, KeyError, HashingError):
        pass
    _hasher.hash(password)
    return None


def _hash_with(settings: str, hash_length: int, password: str) -> str:
    _, name, version, costs, salt = settings.split("$")
    cost = dict(item.split("=", 1) for item in costs.split(","))
    return hash_secret(
        password.encode(),
        base64.b64decode(salt + "=" * (-len(salt) % 4)),
        time_cost=int(cost["t"]),
        memory_cost=int(cost["m"]),
        parallelism=int(cost["p"]),
        hash_len=hash_length,
        type=_TYPES[name],
        version=int(version.removeprefix("v=")),
    ).decode()
