"""Password hashes computed at once are bounded: sign-ins past PASSWORD_HASHING_CONCURRENCY wait
for a turn holding no database connection while other requests are served; hashing runs at a
lower priority than requests. (What it buys is measured in benchmarks/bench_logins.py, not
asserted here.)"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool

from skilltree.accounts import passwords, service
from skilltree.accounts.endpoints import PasswordTurns, install_password_protection
from skilltree.app import create_app
from skilltree.config import Settings
from skilltree.models import User
from tests.api import bearer
from tests.factories import make_token, make_user

LOGINS = 3


class Gate:
    """Stands in for password verification: counts who is inside, lets them out on `open`."""

    def __init__(self) -> None:
        self.inside = 0
        self.most_inside = 0
        self.lock = threading.Lock()
        self.opened = threading.Event()

    def hash_like(self, settings: str | None, hash_length: int | None, password: str) -> None:
        with self.lock:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
        try:
            assert self.opened.wait(30), "the test never opened the gate"
            return None  # as for an unknown account
        finally:
            with self.lock:
                self.inside -= 1


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll `condition` until it holds (a condition wait)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.01)


@pytest.fixture
def signed_in(engine: Engine) -> Iterator[dict[str, str]]:
    """The headers of a committed user's live session (the user is deleted afterwards)."""
    with Session(engine) as session:
        user = make_user(session)
        headers = bearer(make_token(session, user))
        session.commit()
        user_id = user.id
    yield headers
    with engine.begin() as connection:
        connection.execute(delete(User).where(User.id == user_id))


@pytest.fixture
def one_turn_app(engine: Engine) -> Iterator[TestClient]:
    """The app on real sessions (each request its own connection), one password hash at once,
    no sign-in throttle in the way."""
    app = create_app(engine)
    install_password_protection(
        app, Settings(redis_url=None, password_hashing_concurrency=1, login_failures_per_address=99)
    )
    with TestClient(app) as client:
        yield client


def test_sign_ins_past_the_bound_wait_without_a_connection_while_others_are_served(
    one_turn_app: TestClient,
    engine: Engine,
    signed_in: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gate = Gate()
    monkeypatch.setattr(service, "hash_like", gate.hash_like)
    turns: PasswordTurns = one_turn_app.app.state.password_turns  # type: ignore[attr-defined]
    pool = engine.pool
    assert isinstance(pool, QueuePool)
    assert pool.checkedout() == 0

    def bogus_login(n: int) -> int:
        # Signed in: a token is resolved with a query, so only a turn taken before the request's
        # session keeps a waiting sign-in from holding a connection.
        body = {"username": f"nobody{n}", "password": "not the password"}
        return one_turn_app.post("/api/v1/auth/login", json=body, headers=signed_in).status_code

    with ThreadPoolExecutor(LOGINS) as clients:
        answers = [clients.submit(bogus_login, n) for n in range(LOGINS)]
        try:
            wait_until(lambda: gate.inside == 1 and turns.waiting == LOGINS - 1)
            # One sign-in hashes, holding the connection of its user look-up; the others wait
            # for a turn holding none, and the API answers everyone else meanwhile.
            assert pool.checkedout() == 1
            assert one_turn_app.get("/api/v1/categories").status_code == 200
            assert one_turn_app.get("/health").status_code == 200
        finally:
            gate.opened.set()
        assert [answer.result() for answer in answers] == [401] * LOGINS
    assert gate.most_inside == 1
    assert turns.waiting == 0
    wait_until(lambda: pool.checkedout() == 0)


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="no thread priorities here")
def test_hashing_runs_below_the_priority_of_requests() -> None:
    niceness = passwords._hashing.submit(
        lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    ).result()
    assert niceness == passwords.HASHING_NICENESS
    assert passwords.verify_password(passwords.hash_password("a good one!"), "a good one!")
