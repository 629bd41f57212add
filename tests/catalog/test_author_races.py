"""Authors racing authors on real connections: a change to what another request deletes is a
404 problem, never a 500 (a StaleDataError escaped before)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from skilltree.catalog import authoring
from skilltree.catalog.schemas import SkillUpdate, TreeUpdate
from skilltree.errors import NotFound
from skilltree.models import User, UserRole
from tests.committed import committed_rows
from tests.factories import make_category, make_skill, make_tree, make_user
from tests.locks import Writer, wait_until_blocked


@dataclass(frozen=True)
class World:
    author_id: str
    tree_slug: str
    skill_id: str


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    """Committed rows (parallel connections must see them): an author, a tree, a skill."""
    with committed_rows(engine) as session:
        author = make_user(session, UserRole.AUTHOR)
        tree = make_tree(session, make_category(session), created_by=author.id)
        skill = make_skill(session, tree)
        session.commit()
        yield World(author.id, tree.slug, skill.id)


def author(session: Session, world: World) -> User:
    found = session.get(User, world.author_id)
    assert found is not None
    return found


def test_renaming_a_tree_while_it_is_deleted_is_not_found(engine: Engine, world: World) -> None:
    deleting = Writer(
        engine, lambda s: authoring.delete_tree(s, world.tree_slug, author(s, world)), hold=True
    ).start()
    assert deleting.worked.wait(20)
    renaming = Writer(
        engine,
        lambda s: authoring.update_tree(
            s, world.tree_slug, TreeUpdate(name="Renamed"), author(s, world)
        ),
    ).start()
    wait_until_blocked(engine, renaming.pid)  # on the deleted row, until the deletion commits
    deleting.finish()
    renaming.finish()
    assert deleting.error is None
    assert isinstance(renaming.error, NotFound), renaming.error


def test_changing_a_skill_while_it_is_deleted_is_not_found(engine: Engine, world: World) -> None:
    deleting = Writer(
        engine, lambda s: authoring.delete_skill(s, world.skill_id, author(s, world)), hold=True
    ).start()
    assert deleting.worked.wait(20)
    changing = Writer(
        engine,
        lambda s: authoring.update_skill(
            s, world.skill_id, SkillUpdate(name="Renamed"), author(s, world)
        ),
    ).start()
    wait_until_blocked(engine, changing.pid)
    deleting.finish()
    changing.finish()
    assert deleting.error is None
    assert isinstance(changing.error, NotFound), changing.error
