"""Rows a test commits for itself, because parallel connections must see them, and their removal.

`committed_rows` gives a session to build them in; when the block ends, every user, tree and
category the session knows is deleted, with everything that cascades from them (skills, edges,
progress, events, sessions), whatever the test did in between.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from skilltree.models import SkillCategory, SkillTree, User


@contextmanager
def committed_rows(engine: Engine) -> Iterator[Session]:
    """A session whose users, trees and categories are deleted when the block ends (commit what
    is built in it: the deletion runs on a connection of its own)."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
        finally:
            session.rollback()
            # Identity keys, not the objects: reading an object's id could reload a deleted row.
            keys = list(session.identity_map.keys())
            ids = {
                kind: [key[1][0] for key in keys if key[0] is kind]
                for kind in (User, SkillTree, SkillCategory)
            }
            with Session(engine) as cleaner:
                for kind in (User, SkillTree, SkillCategory):  # trees before their categories
                    cleaner.execute(delete(kind).where(kind.id.in_(ids[kind])))
                cleaner.commit()
