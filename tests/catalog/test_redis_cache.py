"""Tree documents in Redis, end to end on real, committed transactions: served from Redis at the
tree's version, never stale after a write (many writers and readers in parallel), and the same
answers from the database when Redis is absent, refused or silent."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from skilltree.app import create_app
from skilltree.cache.trees import TreeStore, use_store
from skilltree.models import Skill, SkillTree, UserRole
from tests.api import bearer
from tests.cache.fixtures import forget_in_process_copies
from tests.factories import (
    add_dependency,
    make_category,
    make_skill,
    make_token,
    make_tree,
    make_user,
)

WRITERS, WRITES_EACH = 4, 12


@dataclass(frozen=True)
class Committed:
    """A committed published tree of WRITERS skills, its author's headers, and an app on real
    sessions (each request commits for real)."""

    tree: SkillTree
    category_slug: str
    skills: list[Skill]
    author: dict[str, str]
    client: TestClient

    def read_and_stored(self, engine: Engine, store: TreeStore) -> int:
        """Read the tree once (Redis then holds it) and return its version."""
        names(self.client, self.tree.slug)
        version = self.version(engine)
        assert store.get(self.tree.id, version) is not None
        return version

    def version(self, engine: Engine) -> int:
        with engine.connect() as conn:
            return int(
                conn.scalar(
                    text("SELECT structure_version FROM skill_trees WHERE id = :t"),
                    {"t": self.tree.id},
                )
            )


@pytest.fixture
def committed(engine: Engine) -> Iterator[Committed]:
    with Session(engine, expire_on_commit=False) as setup:
        author = make_user(setup, UserRole.AUTHOR)
        headers = bearer(make_token(setup, author))
        category = make_category(setup)
        tree = make_tree(setup, category, created_by=author.id)
        skills = [make_skill(setup, tree, name=f"Skill {n}") for n in range(WRITERS)]
        add_dependency(setup, skills[1], skills[0])
        setup.commit()
    with TestClient(create_app(engine)) as client:
        yield Committed(tree, category.slug, skills, headers, client)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM skill_trees WHERE id = :t"), {"t": tree.id})
        conn.execute(text("DELETE FROM skill_categories WHERE id = :c"), {"c": category.id})
        conn.execute(text("DELETE FROM users WHERE id = :u"), {"u": author.id})


def names(client: TestClient, slug: str) -> dict[str, str]:
    response = client.get(f"/api/v1/trees/{slug}")
    assert response.status_code == 200, response.text
    return {skill["id"]: skill["name"] for skill in response.json()["skills"]}


def test_a_tree_is_served_from_redis_at_its_version(
    engine: Engine, committed: Committed, installed_store: TreeStore
) -> None:
    tree, client = committed.tree, committed.client
    original = client.get(f"/api/v1/trees/{tree.slug}").json()
    version = committed.version(engine)
    stored = installed_store.get(tree.id, version)
    assert stored is not None
    # A doctored copy at the current version: a process without its own copy serves it,
    # which shows the answer came from Redis and not from the database.
    installed_store.put(tree.id, version, stored.replace(b'"Skill 0"', b'"From Redis"'))
    forget_in_process_copies()
    assert "From Redis" in names(client, tree.slug).values()
    assert (
        client.get(f"/api/v1/trees/{tree.slug}").json()["learningOrder"]
        == original["learningOrder"]
    )


def test_a_write_is_seen_by_the_next_read_and_forgets_the_stored_copies(
    engine: Engine, committed: Committed, installed_store: TreeStore
) -> None:
    tree, client = committed.tree, committed.client
    before = committed.read_and_stored(engine, installed_store)
    skill = committed.skills[0]

    patched = client.patch(
        f"/api/v1/skills/{skill.id}", json={"name": "Renamed"}, headers=committed.author
    )

    assert patched.status_code == 200, patched.text
    assert installed_store.get(tree.id, before) is None  # forgotten once the write committed
    forget_in_process_copies()
    assert names(client, tree.slug)[skill.id] == "Renamed"
    assert installed_store.get(tree.id, committed.version(engine)) is not None


def test_a_tree_import_forgets_the_stored_copies_once_committed(
    engine: Engine, committed: Committed, installed_store: TreeStore
) -> None:
    tree, client = committed.tree, committed.client
    before = committed.read_and_stored(engine, installed_store)
    tree_file = {
        "format": "skilltree.tree",
        "version": 1,
        "tree": {"slug": tree.slug, "name": "Imported", "category": committed.category_slug},
        "skills": [{"key": "imported", "name": "Imported skill", "dependencies": []}],
    }

    imported = client.post("/api/v1/trees/import", json=tree_file, headers=committed.author)

    assert imported.status_code in (200, 201), imported.text
    assert installed_store.get(tree.id, before) is None
    forget_in_process_copies()
    assert list(names(client, tree.slug).values()) == ["Imported skill"]


def test_reads_after_writes_never_see_the_old_tree_in_parallel(
    engine: Engine, committed: Committed, installed_store: TreeStore
) -> None:
    """Each writer renames its own skill again and again and reads the tree after each write;
    readers meanwhile keep filling and emptying the caches (in-process and Redis) with
    whatever version they read."""
    slug = committed.tree.slug
    failures: list[str] = []
    done = threading.Event()
    app = committed.client.app

    def writer(index: int) -> None:
        skill_id = committed.skills[index].id
        with TestClient(app) as client:
            for n in range(WRITES_EACH):
                name = f"Writer {index} write {n}"
                answer = client.patch(
                    f"/api/v1/skills/{skill_id}", json={"name": name}, headers=committed.author
                )
                if answer.status_code != 200:
                    failures.append(f"write {name}: {answer.status_code} {answer.text}")
                    return
                seen = names(client, slug)[skill_id]
                if seen != name:
                    failures.append(f"after {name!r} the tree said {seen!r}")

    def reader(index: int) -> None:
        with TestClient(app) as client:
            while not done.is_set():
                names(client, slug)
                if index == 0:
                    forget_in_process_copies()  # the next reads go through Redis

    readers = [threading.Thread(target=reader, args=(i,)) for i in range(2)]
    writers = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for thread in readers + writers:
        thread.start()
    for thread in writers:
        thread.join(120)
    done.set()
    for thread in readers:
        thread.join(30)
    assert failures == []
    final = names(committed.client, slug)
    assert all(
        final[s.id] == f"Writer {i} write {WRITES_EACH - 1}" for i, s in enumerate(committed.skills)
    )


def test_without_redis_the_answers_come_from_the_database(
    committed: Committed, redis_store: TreeStore
) -> None:
    forget_in_process_copies()
    previous = use_store(None)
    try:
        assert len(names(committed.client, committed.tree.slug)) == WRITERS
    finally:
        use_store(previous)
    assert redis_store.client.keys(f"{redis_store.prefix}*") == []


@pytest.mark.parametrize("server", ["closed_port_url", "silent_server_url"])
def test_a_failing_redis_is_never_an_error_to_the_user(
    committed: Committed,
    server: str,
    request: pytest.FixtureRequest,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = request.getfixturevalue(server)
    caplog.set_level(logging.WARNING, logger="skilltree.cache")
    previous = use_store(TreeStore.from_url(url, prefix="skilltree-test:", timeout_ms=50))
    try:
        for _ in range(3):
            forget_in_process_copies()
            assert len(names(committed.client, committed.tree.slug)) == WRITERS
        patched = committed.client.patch(
            f"/api/v1/skills/{committed.skills[0].id}",
            json={"name": "Still writable"},
            headers=committed.author,
        )
        assert patched.status_code == 200
        assert names(committed.client, committed.tree.slug)[committed.skills[0].id] == (
            "Still writable"
        )
    finally:
        use_store(previous)
        forget_in_process_copies()
    warnings = [r for r in caplog.records if r.name == "skilltree.cache"]
    assert len(warnings) == 1  # once a minute at most
