"""Rows a test commits for itself, because parallel connections must see them, and their removal.

`committed_rows` gives a session to build them in; when the block ends, every user, tree and
category the session knows is deleted, with everything that cascades from them (skills, edges,
progress, events, sessions), whatever the test did in between.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, delete, event
from sqlalchemy.orm import Session

from skilltree.models import SkillCategory, SkillTree, User


@contextmanager
def committed_rows(engine: Engine) -> Iterator[Session]:
    """A session whose users, trees and categories are deleted when the block ends (commit what
    is built in it: the deletion runs on a connection of its own)."""
    made: dict[type, list[str]] = {User: [], SkillTree: [], SkillCategory: []}

    def keep(_: Session, instance: object) -> None:
        # Recorded as they are written: the session's identity map holds its objects weakly,
        # so one the test kept no reference to would be gone from it by the end.
        if type(instance) in made:
            made[type(instance)].append(instance.id)  # type: ignore[attr-defined]

    with Session(engine, expire_on_commit=False) as session:
        event.listen(session, "pending_to_persistent", keep)
        try:
            yield session
        finally:
            session.rollback()
            with Session(engine) as cleaner:
                for kind in (User, SkillTree, SkillCategory):  # trees before their categories
                    cleaner.execute(delete(kind).where(kind.id.in_(made[kind])))
                cleaner.commit()
