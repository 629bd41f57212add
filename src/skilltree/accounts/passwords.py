"""Passwords: hashing with argon2id (argon2-cffi's defaults follow RFC 9106), and the rules a new
password must pass to be hard to guess.

A stored hash never comes back from the database to the API (db/schema/security.sql): sign-in reads
the hash's settings (algorithm, parameters, salt, length), hashes the password it was given the same
way (`hash_like`), and lets the database compare the two.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import HashingError, InvalidHashError, VerificationError
from argon2.low_level import Type, hash_secret

from skilltree.errors import FieldError

_hasher = PasswordHasher()
# Verified against when the login names no user, so both failures take the same time.
_DUMMY_HASH = _hasher.hash("not a real password")
_TYPES = {"argon2id": Type.ID, "argon2i": Type.I, "argon2d": Type.D}

COMMON_PASSWORDS_FILE = "common-passwords.txt.gz"
"""Beside this module; where it comes from and how to rebuild it: common-passwords.NOTICE.md."""
MIN_CONTAINED = 3
"""An email's local part shorter than this may appear in a password (usernames are never
shorter): refusing every password with "jo" in it would refuse good ones for nothing."""


HASHING_NICENESS = 10
"""The nice value of the threads that hash (and of argon2's lane threads, which inherit it)."""


def _lower_priority() -> None:
    # On Linux a thread's nice value is its own: hashing then takes the CPU only when requests
    # leave it free (a nice-10 thread weighs a tenth of a normal one), wherever the flood comes
    # from. Elsewhere, or where the call is refused, the thread keeps its priority.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)


_hashing = ThreadPoolExecutor(thread_name_prefix="argon2", initializer=_lower_priority)
"""Where every hash is computed; how many at once the API bounds itself (password turns)."""


def hash_password(password: str) -> str:
    """The argon2id hash of `password`, salted."""
    return _hashing.submit(_hasher.hash, password).result()


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches `password_hash`; with no hash, spend the same time and say no."""
    return _hashing.submit(_verify, password_hash, password).result()


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def hash_like(settings: str | None, hash_length: int | None, password: str) -> str | None:
    """`password` hashed as a stored hash was: `settings` is that hash's PHC string without its
    last field (`$argon2id$v=19$m=..,t=..,p=..$<salt>`), `hash_length` its length in bytes.
    Equal to the stored hash exactly when the password is right. None without settings (no
    such account) or with settings that cannot be read, after as long as a hash takes."""
    return _hashing.submit(_hash_like, settings, hash_length, password).result()


def _hash_like(settings: str | None, hash_length: int | None, password: str) -> str | None:
    # Settings that cannot be read match nothing, like no settings; either way a hash is still
    # computed, so the answer takes as long as for a real account.
    with contextlib.suppress(ValueError, KeyError, HashingError):
        if settings is not None and hash_length is not None:
            return _hash_with(settings, hash_length, password)
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


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The passwords people use most, lower-cased, of 8 to 128 characters (see the NOTICE)."""
    data = resources.files("skilltree.accounts").joinpath(COMMON_PASSWORDS_FILE).read_bytes()
    return frozenset(gzip.decompress(data).decode().split("\n")) - {""}


def password_weakness(
    password: str, *, email: str | None, username: str | None
) -> FieldError | None:
    """Why `password` is too easy to guess for the account of `email` and `username` (case
    ignored), or None: it is a common password, or contains the username or the email's local
    part. The error's `loc` is the password field's."""
    lowered = password.lower()
    if lowered in common_passwords():
        return FieldError(
            loc=("password",),
            msg=f"is among the {len(common_passwords()):,} most common passwords: choose another",
            type="password_too_common",
        )
    if username and username.lower() in lowered:
        return FieldError(
            loc=("password",),
            msg="must not contain your username",
            type="password_contains_username",
        )
    local_part = email.rpartition("@")[0].lower() if email else ""
    if len(local_part) >= MIN_CONTAINED and local_part in lowered:
        return FieldError(
            loc=("password",),
            msg="must not contain the part of your email address before the @",
            type="password_contains_email",
        )
    return None
