"""Sign-in throttling: failed sign-ins counted per account and per client address, in the
process or in Redis; past a limit, 429 with Retry-After whatever the password."""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Iterator
from typing import Any

import limits.storage.memory
import limits.storage.redis
import pytest
import redis
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from skilltree.accounts import throttle
from skilltree.accounts.throttle import LoginThrottle, account_key, address_key
from skilltree.config import Settings
from tests.accounts.conftest import CLIENT_IP
from tests.api import api_client, sign_up
from tests.cache.fixtures import REDIS_URL

LOGIN = "/api/v1/auth/login"
PROBLEM = "application/problem+json"
OTHER_IP = "198.51.100.23"
PER_ACCOUNT, PER_ADDRESS, WINDOW = 3, 7, 900
LIMITS = {
    "login_failures_per_account": PER_ACCOUNT,
    "login_failures_per_address": PER_ADDRESS,
    "login_failure_window_seconds": WINDOW,
}


@pytest.fixture
def redis_settings(redis_client: redis.Redis) -> Iterator[Settings]:
    """Settings for throttling in the test Redis, under a key prefix of this test's own (its keys
    deleted afterwards); without Redis the test is skipped (tests/services.py)."""
    prefix = f"skilltree-test-{os.getpid()}-{secrets.token_hex(4)}:"
    yield Settings(redis_url=REDIS_URL, redis_key_prefix=prefix, redis_timeout_ms=1000, **LIMITS)
    keys = list(redis_client.scan_iter(match=f"{prefix}*"))
    assert keys, "the throttle wrote nothing under the test's prefix"
    redis_client.delete(*keys)


@pytest.fixture(params=["in process", "redis"])
def settings(request: pytest.FixtureRequest) -> Settings:
    """Throttling in the process, then in Redis (REDIS_URL set)."""
    if request.param == "redis":
        found: Settings = request.getfixturevalue("redis_settings")
        return found
    return Settings(redis_url=None, **LIMITS)


@pytest.fixture
def throttled(client: TestClient, settings: Settings) -> TestClient:
    """The accounts client (from CLIENT_IP) with a throttle made from `settings`."""
    client.app.state.login_throttle = LoginThrottle.from_settings(settings)  # type: ignore[attr-defined]
    return client


@pytest.fixture
def ada(throttled: TestClient) -> dict[str, Any]:
    """A registered user, ada / correct horse."""
    return sign_up(throttled)[1]


def login(client: TestClient, password: str, **login_name: str) -> Any:
    """POST /auth/login with `login_name` (username="ada" unless given) and `password`."""
    return client.post(LOGIN, json=(login_name or {"username": "ada"}) | {"password": password})


def statuses(client: TestClient, password: str, times: int, **login_name: str) -> list[int]:
    return [login(client, password, **login_name).status_code for _ in range(times)]


def from_address(client: TestClient, ip: str) -> TestClient:
    """Another client of the same app, calling from `ip`."""
    return TestClient(client.app, client=(ip, 50000))


class FakeTime:
    """The `time` module as the throttle and the `limits` storages read it: only `time()`, the
    wall clock, frozen at the test's start and moved by the test."""

    def __init__(self) -> None:
        # Whole seconds: Redis's Lua keeps 14 significant digits of a timestamp, and a rounded-up
        # fraction would make a full window's Retry-After one second longer.
        self.now = float(int(time.time()))

    def time(self) -> float:
        return self.now


@pytest.fixture
def wall_clock(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    """A clock injected where failures are timed, so the window passes without waiting for it
    (Redis too: `limits` sends it the client's timestamps)."""
    fake = FakeTime()
    for module in (limits.storage.memory, limits.storage.redis, throttle):
        monkeypatch.setattr(module, "time", fake)
    return fake


def test_the_account_is_held_back_even_from_the_right_password(
    throttled: TestClient, ada: dict[str, Any]
) -> None:
    assert statuses(throttled, "wrong password", PER_ACCOUNT) == [401] * PER_ACCOUNT

    refused = login(throttled, "correct horse")

    assert refused.status_code == 429
    assert refused.headers["content-type"] == PROBLEM
    problem = refused.json()
    assert problem["code"] == "TooManyAttempts"
    retry_after = int(refused.headers["retry-after"])
    assert 0 < retry_after <= WINDOW
    assert problem["detail"] == f"Too many failed sign-ins: try again in {retry_after} seconds."
    # The same account by its email, and from another address: held back too.
    assert login(throttled, "correct horse", email="ADA@example.com").status_code == 429
    with from_address(throttled, OTHER_IP) as elsewhere:
        assert login(elsewhere, "correct horse").status_code == 429


def test_an_address_is_held_back_after_failures_on_any_accounts(
    throttled: TestClient, ada: dict[str, Any]
) -> None:
    for n in range(PER_ADDRESS):  # each name fails once: no account reaches its own limit
        assert login(throttled, "wrong password", username=f"nobody{n}").status_code == 401

    assert login(throttled, "correct horse").status_code == 429
    with from_address(throttled, OTHER_IP) as elsewhere:
        assert login(elsewhere, "correct horse").status_code == 200


def test_a_held_back_address_is_refused_before_any_query(
    throttled: TestClient, engine: Engine, ada: dict[str, Any]
) -> None:
    for n in range(PER_ADDRESS):
        login(throttled, "wrong password", username=f"nobody{n}")
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert login(throttled, "correct horse").status_code == 429
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert not [s for s in statements if "users" in s]


def test_unknown_names_are_held_back_exactly_as_real_ones(
    throttled: TestClient, ada: dict[str, Any]
) -> None:
    real = [login(throttled, "wrong password") for _ in range(PER_ACCOUNT + 1)]
    unknown = [
        login(throttled, "wrong password", username="nobody") for _ in range(PER_ACCOUNT + 1)
    ]

    assert [r.status_code for r in real] == [r.status_code for r in unknown] == [401] * 3 + [429]
    assert real[-1].json()["code"] == unknown[-1].json()["code"] == "TooManyAttempts"


def test_a_successful_sign_in_forgets_the_accounts_failures(
    throttled: TestClient, ada: dict[str, Any]
) -> None:
    assert statuses(throttled, "wrong password", PER_ACCOUNT - 1) == [401] * (PER_ACCOUNT - 1)
    assert login(throttled, "correct horse").status_code == 200
    assert statuses(throttled, "wrong password", PER_ACCOUNT + 1) == [401] * PER_ACCOUNT + [429]


def test_the_right_password_works_again_once_the_window_has_passed(
    wall_clock: FakeTime, throttled: TestClient, ada: dict[str, Any]
) -> None:
    assert statuses(throttled, "wrong password", PER_ACCOUNT) == [401] * PER_ACCOUNT
    assert login(throttled, "correct horse").headers["retry-after"] == str(WINDOW)

    wall_clock.now += WINDOW - 0.5
    refused = login(throttled, "correct horse")
    assert (refused.status_code, refused.headers["retry-after"]) == (429, "1")

    wall_clock.now += 1
    assert login(throttled, "correct horse").status_code == 200


def test_processes_sharing_redis_share_the_counts(
    engine: Engine, session: Session, redis_settings: Settings
) -> None:
    with (
        api_client(engine, session, client=(CLIENT_IP, 50000)) as first,
        api_client(engine, session, client=(CLIENT_IP, 50000)) as second,
    ):
        for app_client in (first, second):
            throttle = LoginThrottle.from_settings(redis_settings)
            app_client.app.state.login_throttle = throttle  # type: ignore[attr-defined]
        sign_up(first)
        assert statuses(first, "wrong password", PER_ACCOUNT) == [401] * PER_ACCOUNT
        assert login(second, "correct horse").status_code == 429


def test_without_redis_the_process_still_counts_and_says_so_once(
    client: TestClient, closed_port_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    unreachable = Settings(redis_url=closed_port_url, redis_timeout_ms=50, **LIMITS)
    client.app.state.login_throttle = LoginThrottle.from_settings(unreachable)  # type: ignore[attr-defined]
    sign_up(client)

    with caplog.at_level(logging.WARNING, logger="skilltree.accounts"):
        assert statuses(client, "wrong password", PER_ACCOUNT + 1) == [401] * PER_ACCOUNT + [429]

    warnings = [r.getMessage() for r in caplog.records if r.name == "skilltree.accounts"]
    assert len(warnings) == 1
    assert warnings[0].startswith("Redis unavailable, counting failed sign-ins in this process")


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),  # the same /64: one client
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("testclient", "testclient"),
        (None, None),
    ],
)
def test_addresses_are_counted_by_host_and_ipv6_by_its_64(
    host: str | None, key: str | None
) -> None:
    assert address_key(host) == key


def test_account_keys_hold_no_name() -> None:
    assert account_key("abc123", "ada@example.com") == "user:abc123"
    unknown = account_key(None, "ada@example.com")
    assert unknown.startswith("name:")
    assert "ada" not in unknown
    assert unknown == account_key(None, "ada@example.com") != account_key(None, "bob@example.com")


@pytest.mark.parametrize(
    "setting",
    [
        "login_failures_per_account",
        "login_failures_per_address",
        "login_failure_window_seconds",
        "password_hashing_concurrency",
    ],
)
@pytest.mark.parametrize("value", [0, -5])
def test_sign_in_settings_must_be_positive(setting: str, value: int) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(**{setting: value})
    assert refused.value.errors()[0]["loc"] == (setting,)


def test_hashing_concurrency_defaults_to_half_the_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PASSWORD_HASHING_CONCURRENCY", raising=False)
    assert Settings().password_hashing_concurrency == max(1, (os.cpu_count() or 1) // 2)
