"""SkillTree behind PgBouncer in transaction mode (Debian's 1.18): each transaction of a client
runs on whichever server connection is free, so nothing of one transaction may count on, or
leave behind, anything on its connection: prepared statements, the learner, the role, deadlines,
search settings. Run on PgBouncers of the tests' own (conftest)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, make_url, text
from sqlalchemy.orm import Session

from skilltree.app import create_app
from skilltree.config import Pooler
from skilltree.db.pgbouncer import PgBouncer, pgbouncer_ini
from skilltree.db.rls import APP_ROLE
from skilltree.db.session import connect_options, create_db_engine, get_engine
from skilltree.dependencies import DbSession
from skilltree.models import User, UserProfile
from skilltree.search.service import SIMILARITY_THRESHOLD
from tests import databases
from tests.api import bearer
from tests.committed import committed_rows
from tests.factories import (
    add_dependency,
    make_category,
    make_skill,
    make_token,
    make_tree,
    make_user,
)

REPEATED = "SELECT %s::int + 1"
"""A statement psycopg prepares on the server by its 6th run on a connection (by default)."""

PREPARED = "SELECT count(*) FROM pg_prepared_statements"


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def engine_through(bouncer: PgBouncer, engine: Engine) -> Iterator[Engine]:
    """An engine on the test database through `bouncer`, as DATABASE_POOLER=pgbouncer makes it."""
    pooled = create_db_engine(bouncer.url(str(engine.url.database)), "pgbouncer")
    try:
        yield pooled
    finally:
        pooled.dispose()


def test_psycopgs_own_prepared_statements_fail_behind_transaction_pooling(
    single_bouncer: PgBouncer, engine: Engine
) -> None:
    # The cause of the 500s: two clients take turns on one server connection. The first client's
    # 6th run prepares the statement there as "_pg3_0"; the second client's 6th run prepares it
    # under the same name, on the same server connection.
    url = _libpq(single_bouncer.url(str(engine.url.database)))
    with psycopg.connect(url, autocommit=True) as a, psycopg.connect(url, autocommit=True) as b:
        for n in range(6):
            a.execute(REPEATED, (n,))
        for n in range(5):
            b.execute(REPEATED, (n,))
        with pytest.raises(psycopg.errors.DuplicatePreparedStatement):
            b.execute(REPEATED, (5,))


def test_connections_made_for_pgbouncer_prepare_nothing_and_never_fail(
    single_bouncer: PgBouncer, engine: Engine
) -> None:
    url = _libpq(single_bouncer.url(str(engine.url.database)))
    options: dict[str, Any] = connect_options("pgbouncer")
    with (
        psycopg.connect(url, autocommit=True, **options) as a,
        psycopg.connect(url, autocommit=True, **options) as b,
    ):
        # (What other clients prepared stays on the server connection: PgBouncer resets nothing
        # between transactions.)
        before = a.execute(PREPARED).fetchone()
        for n in range(20):
            assert a.execute(REPEATED, (n,)).fetchone() == (n + 1,)
            assert b.execute(REPEATED, (n,)).fetchone() == (n + 1,)
        assert a.execute(PREPARED).fetchone() == before


@pytest.mark.parametrize(("pooler", "threshold"), [("none", 5), ("pgbouncer", None)])
def test_database_pooler_turns_prepared_statements_off_behind_pgbouncer_only(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, pooler: Pooler, threshold: int | None
) -> None:
    # Direct connections keep psycopg's prepared statements (the hot paths count on them).
    url = engine.url.render_as_string(hide_password=False)
    databases.forget_engine()
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DATABASE_POOLER", pooler)
    try:
        with get_engine().connect() as connection:
            driver = connection.connection.driver_connection
            assert isinstance(driver, psycopg.Connection)
            assert driver.prepare_threshold == threshold
    finally:
        databases.forget_engine()


# ---- Requests behind PgBouncer -------------------------------------------------------------


@dataclass(frozen=True)
class Learner:
    id: str
    headers: dict[str, str]
    skill_id: str
    xp: int


@dataclass(frozen=True)
class Tree:
    slug: str
    xp: dict[str, int]
    """Every skill's XP, by id."""


SESSION_STATE = """
SELECT pg_backend_pid(), current_user, current_setting('app.current_user_id', true),
       current_setting('statement_timeout'), current_setting('plan_cache_mode'),
       current_setting('pg_trgm.word_similarity_threshold', true)
"""


def add_probe(app: FastAPI) -> None:
    """A test-only route: the request's server connection, who its queries run as, and whose
    rows they see of a learner table."""

    @app.get("/probe/session")
    def probe(session: DbSession) -> dict[str, Any]:
        pid, role, learner, *_ = session.execute(text(SESSION_STATE)).one()
        # No WHERE: row-level security decides whose rows these are.
        owners = session.execute(text("SELECT DISTINCT user_id FROM user_skill_progress"))
        return {"pid": pid, "role": role, "learner": learner, "owners": sorted(owners.scalars())}


@pytest.fixture
def two_learners(engine: Engine) -> Iterator[tuple[str, Learner, Learner]]:
    """Committed: a published tree with two skills, and two learners with a token each."""
    with committed_rows(engine) as session:
        tree = make_tree(session, make_category(session))
        x = make_skill(session, tree, name="Pooling basics", xp_value=10)
        y = make_skill(session, tree, name="Pooling modes", xp_value=20)
        learners = []
        for skill in (x, y):
            user = make_user_with_profile(session)
            learners.append(
                Learner(user.id, bearer(make_token(session, user)), skill.id, skill.xp_value)
            )
        session.commit()
        yield tree.slug, learners[0], learners[1]


def make_user_with_profile(session: Session) -> User:
    user = make_user(session)
    session.add(UserProfile(user_id=user.id))
    session.flush()
    return user


def test_two_learners_taking_turns_on_one_server_connection_see_only_their_own_rows(
    single_bouncer: PgBouncer, engine: Engine, two_learners: tuple[str, Learner, Learner]
) -> None:
    slug, a, b = two_learners
    with engine_through(single_bouncer, engine) as pooled:
        app = create_app(pooled)
        add_probe(app)
        pids = set()
        with TestClient(app) as client:
            for learner in (a, b):
                assert client.post(
                    f"/api/v1/trees/{slug}/enroll", headers=learner.headers
                ).is_success
                done = client.post(
                    f"/api/v1/skills/{learner.skill_id}/complete", headers=learner.headers, json={}
                )
                assert done.is_success, done.text
            for _ in range(
                10
            ):  # A, B, A, B, ...: each request after the other's, on its connection
                for learner in (a, b):
                    progress = client.get("/api/v1/me/progress", headers=learner.headers)
                    assert progress.status_code == 200, progress.text
                    assert progress.json()["profile"]["totalXp"] == learner.xp
                    state = client.get("/probe/session", headers=learner.headers).json()
                    assert state["role"] == APP_ROLE
                    assert state["learner"] == learner.id
                    assert state["owners"] == [learner.id]
                    pids.add(state["pid"])
                    found = client.get(
                        "/api/v1/search", params={"q": "pooling"}, headers=learner.headers
                    )
                    assert found.status_code == 200, found.text
            anonymous = client.get("/probe/session").json()
        assert anonymous["learner"] == ""
        assert anonymous["owners"] == []
        pids.add(anonymous["pid"])
        # Outside any request: the connection's own role, no learner, the server's settings.
        with pooled.connect() as connection:
            pid, role, learner, *settings = connection.execute(text(SESSION_STATE)).one()
        with engine.connect() as direct:
            role_direct, *settings_direct = direct.execute(
                text(
                    "SELECT current_user, current_setting('statement_timeout'),"
                    " current_setting('plan_cache_mode'),"
                    " current_setting('pg_trgm.word_similarity_threshold', true)"
                )
            ).one()
    assert pids == {pid}, "every transaction ran on the one server connection"
    assert (role, learner or "") == (role_direct, "")
    timeout, plan, threshold = settings
    assert [timeout, plan] == settings_direct[:2]
    # pg_trgm's is the server's, or an empty placeholder where the backend never loaded pg_trgm
    # (search set it without needing it): never the value a search sets.
    assert threshold in {"", settings_direct[2]}
    assert threshold != str(SIMILARITY_THRESHOLD)


@pytest.fixture
def chain(engine: Engine) -> Iterator[Tree]:
    """Committed: a published tree of six skills, three of them needing another."""
    with committed_rows(engine) as session:
        tree = make_tree(session, make_category(session))
        roots = [
            make_skill(session, tree, name=f"Bouncer root {i}", xp_value=10 + i) for i in range(3)
        ]
        ends = [
            make_skill(session, tree, name=f"Bouncer end {i}", xp_value=20 + i) for i in range(3)
        ]
        for root, end in zip(roots, ends, strict=True):
            add_dependency(session, end, root)
        session.commit()
        yield Tree(tree.slug, {s.id: s.xp_value for s in roots + ends})


LEARNERS = 8


def test_learners_flows_in_parallel_through_pgbouncer_never_fail(
    bouncer: PgBouncer, engine: Engine, chain: Tree
) -> None:
    # Issue 17: register, sign in, enrol, complete, read progress; before DATABASE_POOLER, a few
    # dozen such requests through PgBouncer answered 500 DatabaseError.
    failures: list[str] = []
    answers: dict[str, Any] = {}
    users: list[str] = []

    def learn(client: TestClient, n: int) -> None:
        name = f"pooled_learner_{n}"
        password = "a long pass phrase zq"
        body = {"email": f"{name}@example.com", "username": name, "password": password}
        registered = client.post("/api/v1/auth/register", json=body)
        if registered.status_code != 201:
            failures.append(f"register: {registered.status_code} {registered.text}")
            return
        users.append(registered.json()["user"]["id"])
        login = client.post(
            "/api/v1/auth/login", json={"email": body["email"], "password": password}
        )
        if login.status_code != 200:
            failures.append(f"login: {login.status_code} {login.text}")
            return
        headers = bearer(login.json()["token"])
        calls = [client.post(f"/api/v1/trees/{chain.slug}/enroll", headers=headers)]
        for _ in range(len(chain.xp)):
            document = client.get(f"/api/v1/trees/{chain.slug}", headers=headers)
            calls.append(document)
            if not document.is_success:
                break
            states = document.json()["skillStates"]
            available = sorted(s for s, state in states.items() if state["status"] == "AVAILABLE")
            calls.append(
                client.post(f"/api/v1/skills/{available[0]}/complete", headers=headers, json={})
            )
            calls.append(client.get("/api/v1/me/progress", headers=headers))
        calls.append(client.get("/api/v1/search", params={"q": "bouncer"}, headers=headers))
        calls.append(client.get(f"/api/v1/me/trees/{chain.slug}/next", headers=headers))
        failures.extend(
            f"{c.request.url.path}: {c.status_code} {c.text}" for c in calls if not c.is_success
        )
        answers[name] = client.get("/api/v1/me/progress", headers=headers).json()

    try:
        with engine_through(bouncer, engine) as pooled, TestClient(create_app(pooled)) as client:
            threads = [threading.Thread(target=learn, args=(client, n)) for n in range(LEARNERS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(120)
    finally:
        with Session(engine) as session:
            session.execute(delete(User).where(User.id.in_(users)))
            session.commit()
    assert failures == []
    assert len(answers) == LEARNERS
    for progress in answers.values():
        assert progress["profile"]["totalXp"] == sum(chain.xp.values())
        assert progress["profile"]["skillsCompleted"] == len(chain.xp)


def test_the_operations_guide_shows_the_pgbouncer_ini_the_tests_run() -> None:
    guide = (Path(__file__).parents[2] / "docs" / "operations.md").read_text("utf-8")
    shown = pgbouncer_ini(
        server_host="127.0.0.1",
        server_port=5432,
        listen_port=6432,
        auth_file="/etc/pgbouncer/userlist.txt",
    )
    assert f"```ini\n{shown}```" in guide
